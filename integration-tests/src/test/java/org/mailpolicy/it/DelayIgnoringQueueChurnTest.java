package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.james.testing.DelayIgnoringMailQueue;
import org.mailpolicy.james.testing.MailQueueKind;

/**
 * Why {@code waits: in: parked} exists: with waits left in the queue ({@code waits: in: queue}, the default) on a
 * queue that ignores delays as the distributed server's RabbitMQ queue does, a held destination's mail comes straight
 * back and goes round the queue as fast as the delivery threads run. Delivery stays correct (each mail once, after
 * the hold); the cost is the churn this test measures and prints, against {@link ParkedMailTest}'s one dequeue per
 * held mail.
 */
class DelayIgnoringQueueChurnTest {
    private static final int MAILS = 20;
    private static final Duration HELD_FOR = Duration.ofSeconds(10);
    private static final String AOL_THROTTLE = "    throttle: { initial: 4s, growth: 1.5, max: 8s }\n";
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.startOnQueue(MailQueueKind.DELAY_IGNORING, policy -> {
            assertThat(policy).contains(AOL_THROTTLE);
            return policy.replace(AOL_THROTTLE, "    throttle: { initial: 15s, growth: 1.5, max: 15s }\n");
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void heldMailGoesRoundAQueueThatIgnoresDelays() throws Exception {
        env.aol.setMode(Mode.DYN_T1);
        List<String> recipients = new ArrayList<>();
        env.send("churn-first", "ok-churn-first@aol.com");
        recipients.add("ok-churn-first@aol.com");
        Poll.until(Duration.ofSeconds(15), "the first refusal", env.aol::transactions, t -> !t.isEmpty());
        long before = DelayIgnoringMailQueue.dequeued("outgoing");
        for (int i = 1; i < MAILS; i++) {
            String r = String.format("ok-churn%02d@aol.com", i);
            recipients.add(r);
            env.send("churn-" + i, r);
        }
        Thread.sleep(HELD_FOR.toMillis());
        long dequeued = DelayIgnoringMailQueue.dequeued("outgoing") - before;
        System.out.println("DelayIgnoringQueueChurnTest: waits in the queue, " + MAILS + " mails held for about "
                + HELD_FOR.toSeconds() + " s: outgoing dequeues " + dequeued + " (" + (dequeued / HELD_FOR.toSeconds())
                + " a second), transactions at the fake " + env.aol.transactions().size());
        assertThat(dequeued).as("held mail dequeued again and again").isGreaterThan(10L * MAILS);

        env.aol.setMode(Mode.NORMAL);
        env.awaitDelivered(recipients, Duration.ofSeconds(60));
        env.assertDeliveredOnce(recipients);
    }
}
