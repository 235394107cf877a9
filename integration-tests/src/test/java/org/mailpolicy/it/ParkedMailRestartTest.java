package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.mailet.Mail;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.testing.MailQueueKind;
import org.mailpolicy.parking.ParkedSummary;

/**
 * Parked mail survives a restart of James: the content in a file mail repository ({@code file://}, James's
 * {@code FileMailRepository}, declared in {@code mailrepositorystore.xml} as an operator declares it), the schedule in
 * the plugin's H2 file. AOL throttles, four mails are parked behind the hold, James stops and starts on the same
 * working directory before the hold ends; nothing connects before the hold's end, then every mail is delivered once.
 */
class ParkedMailRestartTest {
    private static final String REPOSITORY = "file://var/mail/policy-parked/";
    private static final String WAITS = "\nwaits:\n  in: parked\n  repository: " + REPOSITORY + "\n";
    private static final String AOL_THROTTLE = "    throttle: { initial: 4s, growth: 1.5, max: 8s }\n";
    /** Outlasts stopping and starting James, so that the hold is met after the restart. */
    private static final Duration HOLD = Duration.ofSeconds(40);
    private static final String MAIL_REPOSITORY_STORE = String.join("\n",
            "<mailrepositorystore>",
            "  <defaultProtocol>memory</defaultProtocol>",
            "  <mailrepositories>",
            "    <mailrepository class=\"org.apache.james.mailrepository.memory.MemoryMailRepository\">",
            "      <protocols><protocol>memory</protocol></protocols>",
            "    </mailrepository>",
            "    <mailrepository class=\"org.apache.james.mailrepository.file.FileMailRepository\">",
            "      <protocols><protocol>file</protocol></protocols>",
            "      <config FIFO=\"false\" CACHEKEYS=\"true\"/>",
            "    </mailrepository>",
            "  </mailrepositories>",
            "</mailrepositorystore>", "");
    private static final List<String> RECIPIENTS = List.of("ok-r1@aol.com", "ok-r2@aol.com", "ok-r3@aol.com",
            "ok-r4@aol.com");

    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.startWithSetup(setup -> {
            assertThat(setup.policyYaml()).contains(AOL_THROTTLE);
            return setup.withMailQueue(MailQueueKind.DELAY_IGNORING)
                    .withConfFile("mailrepositorystore.xml", MAIL_REPOSITORY_STORE)
                    .withPolicy(setup.policyYaml().replace(AOL_THROTTLE, "    throttle: { initial: " + HOLD.toSeconds()
                            + "s, growth: 1.5, max: " + HOLD.toSeconds() + "s }\n").replace("maxAge: 60s", "maxAge: 600s")
                            .replace("delayWarning: 50s", "delayWarning: 500s") + WAITS);
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    private static PolicyRuntime runtime() throws Exception {
        return PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString());
    }

    private static long parked() throws Exception {
        return runtime().parked().summaries(Instant.now()).stream().filter(s -> s.destination().equals("aol"))
                .mapToLong(ParkedSummary::parked).sum();
    }

    @Test
    void parkedMailSurvivesARestartAndIsDeliveredOnceAfterTheHold() throws Exception {
        env.aol.setMode(Mode.DYN_T1);
        for (String r : RECIPIENTS) {
            env.send("restart-" + r, r);
        }
        Poll.until(Duration.ofSeconds(30), "the four mails parked", ParkedMailRestartTest::parked, n -> n == 4);
        Instant heldUntil = runtime().destinations().get("aol").get().heldUntil().get();
        List<Mail> stored = env.james().repositoryMails(REPOSITORY);
        assertThat(stored).as("parked content in " + REPOSITORY).hasSize(4);
        env.aol.setMode(Mode.NORMAL);
        int connectionsBefore = env.aol.transactions().size();

        env.restartJames();
        Instant restarted = Instant.now();
        System.out.println("ParkedMailRestartTest: restarted " + Duration.between(restarted, heldUntil).toMillis()
                + " ms before the hold's end");

        assertThat(restarted).as("James restarted before the hold ended (else this test proves nothing)")
                .isBefore(heldUntil);
        assertThat(env.james().repositoryMails(REPOSITORY)).as("parked content after the restart").hasSize(4);
        assertThat(parked()).isEqualTo(4);
        env.awaitDelivered(RECIPIENTS, Duration.between(Instant.now(), heldUntil).plusSeconds(30));
        Poll.during(Duration.ofSeconds(3), "each recipient delivered once", () -> env.aol.messages().size(),
                n -> n == RECIPIENTS.size());
        env.assertDeliveredOnce(RECIPIENTS);
        List<Transaction> after = env.aol.transactions().subList(connectionsBefore, env.aol.transactions().size());
        assertThat(after).as("connections after the restart").isNotEmpty()
                .allSatisfy(t -> assertThat(t.time()).as("connected at").isAfterOrEqualTo(heldUntil));
        Poll.until(Duration.ofSeconds(10), "nothing parked, no content left", () -> parked() == 0
                && env.james().repositoryMails(REPOSITORY).isEmpty(), done -> done);
    }
}
