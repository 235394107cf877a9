package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.suppression.SuppressionEntry;

/**
 * What survives James stopping and starting again on the same working directory (the plugin's H2 file under var/):
 * an address AOL said does not exist is never tried again, and a destination hold stays in force until it ends. Each
 * later mail to the suppressed address still gets a DSN. The mail queue of the memory James does not survive.
 */
class SuppressionAcrossRestartTest {
    private static final Duration DSN_WAIT = Duration.ofSeconds(30);
    private static final String UNKNOWN = "unknown-s1@aol.com";
    private static final String TEST_THROTTLE = "throttle: { initial: 4s, growth: 1.5, max: 8s }";
    /** Long enough to outlast a restart of James on a busy machine, so that the hold is met after it. */
    private static final Duration RESTART_HOLD = Duration.ofSeconds(40);
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.start(policy -> {
            assertThat(policy).as("the test policy's aol throttle").contains(TEST_THROTTLE);
            return policy.replace(TEST_THROTTLE, "throttle: { initial: " + RESTART_HOLD.toSeconds() + "s, growth: 1.5, max: "
                    + RESTART_HOLD.toSeconds() + "s }");
        }, UnaryOperator.identity());
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @BeforeEach
    void freshFakeAndDestination() {
        env.reset();
        runtime().destinations().releaseHold("aol");
    }

    /** The running James's policy runtime (James runs in this JVM): its suppression list and destination state. */
    private static PolicyRuntime runtime() {
        try {
            return PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void suppressedAcrossTwoMailsAndARestart() throws Exception {
        env.send("first-to-unknown", UNKNOWN);
        MimeMessage first = env.awaitDsnAbout("first-to-unknown", DSN_WAIT);
        assertThat(Dsns.status(first).recipient(UNKNOWN).getHeader("Diagnostic-Code", null)).contains("MAILBOX NOT FOUND");
        assertThat(env.rcptsFor(UNKNOWN)).hasSize(1);

        // Second mail: same address and a deliverable one; only the deliverable one reaches AOL.
        env.send("second-to-unknown", UNKNOWN, "ok-s2@aol.com");
        MimeMessage second = env.awaitDsnAbout("second-to-unknown", DSN_WAIT);
        Poll.until(DSN_WAIT, "ok-s2 delivered", env.aol::messages,
                messages -> messages.stream().anyMatch(m -> m.recipients().contains("ok-s2@aol.com")));
        assertThat(env.rcptsFor(UNKNOWN)).as("RCPT TO for the suppressed address at the fake").hasSize(1);
        InternetHeaders suppressed = Dsns.status(second).recipient(UNKNOWN);
        assertThat(suppressed.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(suppressed.getHeader("Status", null)).startsWith("5.1.");
        assertThat(Dsns.humanText(second)).containsIgnoringCase("suppress");

        try (Stream<java.nio.file.Path> files = Files.walk(env.workDir.resolve("var"))) {
            assertThat(files.map(Object::toString)).as("the suppression database file under James's var/")
                    .anyMatch(name -> name.endsWith(".mv.db"));
        }
        env.restartJames();

        env.send("third-after-restart", UNKNOWN);
        MimeMessage third = env.awaitDsnAbout("third-after-restart", DSN_WAIT);
        assertThat(Dsns.status(third).recipient(UNKNOWN).getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(env.rcptsFor(UNKNOWN)).as("RCPT TO for the suppressed address after the restart").hasSize(1);
    }

    /**
     * AOL throttles (DYN:T1): aol is held. James stops with that mail and another queued behind the hold, and starts
     * again on the same working directory while the fake would accept mail again. The hold is still in force, with its
     * end unchanged: new mail waits for that end without a single connection before it, then goes. Suppressions
     * are kept too. The two mails queued before the restart are gone: the memory James keeps its mail queue in memory.
     */
    @Test
    void aHoldSurvivesARestartAndMailWaitsForItsEnd() throws Exception {
        env.aol.setMode(Mode.DYN_T1, Duration.ofSeconds(5));
        env.send("held-before-restart", "ok-h1@aol.com");
        Poll.until(DSN_WAIT, "the DYN:T1 refusal at the fake", env.aol::transactions, t -> !t.isEmpty());
        DestinationState held = Poll.until(DSN_WAIT, "aol held", () -> runtime().destinations().get("aol"),
                s -> s.isPresent() && s.get().isHeldAt(Instant.now())).get();
        Instant heldUntil = held.heldUntil().get();
        assertThat(held.lastReply()).hasValueSatisfying(r -> assertThat(r).contains("DYN:T1"));
        // More mail for AOL waits behind the hold, without connecting.
        env.send("queued-before-restart", "ok-h2@aol.com");
        runtime().suppressions().add(SuppressionEntry.of("gone-h@aol.com", Instant.now(), "manual", "", "manual",
                SuppressionEntry.Source.MANUAL, Optional.empty()));
        int connectionsBeforeRestart = env.aol.transactions().size();
        assertThat(connectionsBeforeRestart).as("connections while held: the refused one only").isEqualTo(1);
        // From now on the fake accepts everything: only the hold can keep James away.
        env.aol.setMode(Mode.NORMAL);

        env.restartJames();

        Instant restarted = Instant.now();
        assertThat(restarted).as("James restarted before the hold ended (else this test proves nothing)")
                .isBefore(heldUntil);
        DestinationState after = runtime().destinations().get("aol").get();
        assertThat(after.heldUntil()).contains(heldUntil);
        assertThat(after.isHeldAt(restarted)).isTrue();
        assertThat(after.inFlight()).isZero();
        assertThat(after.probing()).isFalse();
        assertThat(runtime().suppressions().find("gone-h@aol.com")).as("a suppression stored before the restart").isPresent();

        env.send("after-restart", "ok-h3@aol.com");
        Poll.until(Duration.between(Instant.now(), heldUntil).plus(DSN_WAIT), "ok-h3 delivered after the hold",
                env.aol::messages, messages -> messages.stream().anyMatch(m -> m.recipients().contains("ok-h3@aol.com")));
        List<Transaction> afterRestart = env.aol.transactions().subList(connectionsBeforeRestart,
                env.aol.transactions().size());
        assertThat(afterRestart).as("connections after the restart").isNotEmpty()
                .allSatisfy(t -> assertThat(t.time()).as("connected at").isAfterOrEqualTo(heldUntil));
        // The probe's success is recorded when its SMTP conversation ends, a moment after the fake has the message.
        Poll.until(Duration.ofSeconds(10), "the probe succeeded: hold over",
                () -> runtime().destinations().get("aol").get().heldUntil(), until -> until.isEmpty());

        // Mail queued before the restart would have gone with ok-h3 (it was due at the same instant): it is lost.
        Poll.during(Duration.ofSeconds(5), "no delivery of the mail queued before the restart", env.aol::messages,
                messages -> messages.stream().noneMatch(m -> m.recipients().contains("ok-h1@aol.com")
                        || m.recipients().contains("ok-h2@aol.com")));
    }
}
