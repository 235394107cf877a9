package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MailDateFormat;
import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ReceivedMessage;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.testing.MailQueueKind;
import org.mailpolicy.james.testing.QueuedMail;
import org.mailpolicy.state.DestinationState;

/**
 * The memory James loses its queue on a restart ({@link SuppressionAcrossRestartTest}); this is the plugin on a James
 * 3.8.1 whose queue persists: James's ActiveMQ queue (embedded broker, KahaDB under {@code var/store/activemq}), as the
 * JPA app runs it ({@link MailQueueKind#ACTIVEMQ}). AOL throttles (DYN:T1), aol is held, four mails for AOL wait on the
 * outgoing queue behind the hold; James stops and starts again on the same working directory while the fake would
 * accept everything. The four mails are still queued, under the same names, due at the same instant, each with the
 * attempt history the plugin keeps on it (a mail attribute: the refused one still counts its failed attempt); the hold's
 * end is unchanged; nothing connects before it; then every deliverable recipient is delivered exactly once, and the
 * unknown recipient's DSN, written after the restart from that history, gives the original arrival time.
 */
class PersistentQueueRestartTest {
    /** The aol hold: outlasts stopping and starting the ActiveMQ James, so that the hold is met after the restart. */
    private static final Duration HOLD = Duration.ofSeconds(24);
    private static final String AOL_THROTTLE = "    throttle: { initial: 4s, growth: 1.5, max: 8s }\n";
    /**
     * After the hold: ActiveMQ's queue hands out mail that fell due within one poll (its consumer waits up to 10 s with
     * a selector fixed when it began), and mail meeting the probe in flight waits for it, then a poll again.
     */
    private static final Duration AFTER_HOLD = Duration.ofSeconds(40);
    private static final Duration SHORT = Duration.ofSeconds(15);
    /** The plugin's attempt history on a queued mail: {@code v1|firstQueued|failedAttempts|lastAttempt|warned|key}. */
    private static final String HISTORY = "org.mailpolicy.history";
    private static final String OUTGOING = "outgoing";

    private static final String FIRST = "ok-p1@aol.com";
    private static final String UNKNOWN = "unknown-p2@aol.com";
    private static final List<String> DELIVERABLE = List.of(FIRST, "ok-p2@aol.com", "ok-p3@aol.com", "ok-p4@aol.com");
    private static final List<List<String>> WAITING = sorted(List.of(List.of(FIRST), List.of("ok-p2@aol.com", UNKNOWN),
            List.of("ok-p3@aol.com"), List.of("ok-p4@aol.com")));

    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.startOnQueue(MailQueueKind.ACTIVEMQ, policy -> {
            assertThat(policy).as("the test policy's aol throttle").contains(AOL_THROTTLE);
            return policy.replace(AOL_THROTTLE, "    throttle: { initial: " + HOLD.toSeconds() + "s, growth: 1.5, max: "
                    + HOLD.toSeconds() + "s }\n");
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    /** The running James's policy runtime (James runs in this JVM). */
    private static PolicyRuntime runtime() throws Exception {
        return PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString());
    }

    @Test
    void queuedMailHoldAndHistoriesSurviveARestart() throws Exception {
        Instant start = Instant.now();
        env.aol.setMode(Mode.DYN_T1);
        env.send("pq-1", FIRST);
        Transaction refused = Poll.until(SHORT, "the DYN:T1 refusal at the fake", env.aol::transactions,
                t -> !t.isEmpty()).get(0);
        DestinationState held = Poll.until(SHORT, "aol held", () -> runtime().destinations().get("aol"),
                s -> s.isPresent() && s.get().isHeldAt(Instant.now())).get();
        Instant heldUntil = held.heldUntil().get();
        assertThat(held.lastReply()).hasValueSatisfying(r -> assertThat(r).contains("DYN:T1"));

        // Three more mails meet the hold and wait, without connecting; each has a deliverable recipient, so whichever
        // is the probe at the hold's end succeeds.
        env.send("pq-2", "ok-p2@aol.com", UNKNOWN);
        env.send("pq-3", "ok-p3@aol.com");
        env.send("pq-4", "ok-p4@aol.com");
        Map<String, QueuedMail> before = Poll.until(SHORT, "the four mails on the outgoing queue, due at the hold's end",
                PersistentQueueRestartTest::outgoing, q -> recipientLists(q).equals(WAITING)
                        && q.values().stream().allMatch(m -> dueAtTheHoldsEnd(m, heldUntil)));
        assertThat(env.aol.transactions()).as("connections while held: the refused one only").hasSize(1);
        QueuedMail refusedMail = before.values().stream().filter(m -> m.recipients().equals(List.of(FIRST))).findFirst().get();
        String[] history = refusedMail.attributes().get(HISTORY).split("\\|");
        assertThat(history[2]).as("failed attempts in the refused mail's history").isEqualTo("1");
        assertThat(Duration.between(refused.time(), Instant.parse(history[3])).abs())
                .as("its last attempt: the refusal").isLessThan(Duration.ofSeconds(2));
        Instant queued = Instant.now();
        // From now on the fake accepts everything: only the hold can keep James away.
        env.aol.setMode(Mode.NORMAL);
        int connectionsBeforeRestart = env.aol.transactions().size();

        Instant stopping = Instant.now();
        env.restartJames();
        Instant restarted = Instant.now();
        System.out.println("PersistentQueueRestartTest: restart took " + Duration.between(stopping, restarted).toMillis()
                + " ms; the hold ends " + Duration.between(restarted, heldUntil).toMillis() + " ms after it");

        assertThat(restarted).as("James restarted before the hold ended (else this test proves nothing)")
                .isBefore(heldUntil);
        DestinationState after = runtime().destinations().get("aol").get();
        assertThat(after.heldUntil()).contains(heldUntil);
        assertThat(after.isHeldAt(restarted)).isTrue();
        // Read back from the broker's store: the same mails, due at the same instant, with the same histories.
        Map<String, QueuedMail> afterRestart = outgoing();
        assertThat(afterRestart.keySet()).as("the outgoing queue after the restart").isEqualTo(before.keySet());
        for (QueuedMail mail : afterRestart.values()) {
            QueuedMail was = before.get(mail.name());
            assertThat(mail.recipients()).isEqualTo(was.recipients());
            assertThat(mail.nextDelivery()).as("due time of " + mail.name()).isEqualTo(was.nextDelivery());
            assertThat(mail.attributes().get(HISTORY)).as("attempt history of " + mail.name())
                    .isNotNull().isEqualTo(was.attributes().get(HISTORY));
        }

        Poll.until(Duration.between(Instant.now(), heldUntil).plus(AFTER_HOLD), "every deliverable recipient delivered",
                env.aol::messages, messages -> delivered(messages).containsAll(DELIVERABLE));
        MimeMessage unknownDsn = env.awaitDsnAbout("pq-2", SHORT);

        List<Transaction> afterRestartConnections = env.aol.transactions().subList(connectionsBeforeRestart,
                env.aol.transactions().size());
        assertThat(afterRestartConnections).as("connections after the restart").isNotEmpty()
                .allSatisfy(t -> assertThat(t.time()).as("connected at").isAfterOrEqualTo(heldUntil));
        Poll.during(Duration.ofSeconds(3), "each deliverable recipient delivered once", env.aol::messages,
                messages -> delivered(messages).size() == DELIVERABLE.size());
        assertThat(delivered(env.aol.messages())).containsExactlyInAnyOrderElementsOf(DELIVERABLE);

        // The unknown recipient: tried once, after the hold; suppressed; its DSN gives the arrival before the restart.
        assertThat(env.rcptsFor(UNKNOWN)).hasSize(1);
        assertThat(runtime().suppressions().find(UNKNOWN)).isPresent();
        InternetHeaders unknown = Dsns.status(unknownDsn).recipient(UNKNOWN);
        assertThat(unknown.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(unknown.getHeader("Status", null)).startsWith("5.1.");
        String arrival = Dsns.status(unknownDsn).perMessage().getHeader("Arrival-Date", null);
        assertThat(arrival).as("Arrival-Date").isNotNull();
        // The header has whole seconds.
        assertThat(new MailDateFormat().parse(arrival).toInstant())
                .as("Arrival-Date " + arrival + ": the original queue time, before the restart")
                .isBetween(start.minusSeconds(1), queued);

        assertThat(outgoing()).as("the outgoing queue at the end").isEmpty();
        assertThat(runtime().destinations().get("aol").get().heldUntil()).as("the probe succeeded: hold over").isEmpty();
    }

    /** The queue computes the due time from its own clock reading: within a second of the hold's end. */
    private static boolean dueAtTheHoldsEnd(QueuedMail mail, Instant heldUntil) {
        return mail.nextDelivery().isPresent()
                && Duration.between(heldUntil, mail.nextDelivery().get()).abs().compareTo(Duration.ofSeconds(1)) < 0;
    }

    private static List<String> delivered(List<ReceivedMessage> messages) {
        List<String> out = new ArrayList<>();
        for (ReceivedMessage m : messages) {
            out.addAll(m.recipients());
        }
        return out;
    }

    /** The plugin's outgoing queue, by mail name. */
    private static Map<String, QueuedMail> outgoing() throws Exception {
        Map<String, QueuedMail> mails = new TreeMap<>();
        for (QueuedMail mail : env.james().queuedMails(OUTGOING)) {
            mails.put(mail.name(), mail);
        }
        return mails;
    }

    private static List<List<String>> recipientLists(Map<String, QueuedMail> queue) {
        List<List<String>> out = new ArrayList<>();
        for (QueuedMail mail : queue.values()) {
            out.add(mail.recipients());
        }
        return sorted(out);
    }

    private static List<List<String>> sorted(List<List<String>> lists) {
        List<List<String>> out = new ArrayList<>(lists);
        out.sort(Comparator.comparing(Object::toString));
        return out;
    }
}
