package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import javax.mail.Session;
import javax.mail.internet.MimeMessage;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.RawMailQueueItemDecoratorFactory;
import org.apache.james.queue.memory.MemoryMailQueueFactory;
import org.apache.mailet.base.test.FakeMail;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DeliveryPolicy;

/** Counting on James's own in-memory mail queue. */
class MailQueueCounterTest {
    private static final MailQueueName OUTGOING = MailQueueName.of("outgoing");

    private final MemoryMailQueueFactory factory = new MemoryMailQueueFactory(new RawMailQueueItemDecoratorFactory());

    private static DeliveryPolicy policy() throws Exception {
        return DeliveryPolicy.parse("version: 1\n"
                + "destinations:\n"
                + "  - name: aol\n"
                + "    domains: [aol.com, aim.com]\n"
                + "  - name: gmail\n"
                + "    domains: [gmail.com]\n", "p.yaml");
    }

    private static void enqueue(MailQueue queue, String name, String... recipients) throws Exception {
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setSubject("queued");
        message.setText("body");
        message.saveChanges();
        queue.enQueue(FakeMail.builder().name(name).sender("alice@example.com").recipients(recipients)
                .mimeMessage(message).build());
    }

    @Test
    void countsMailsPerDestinationOncePerMail() throws Exception {
        MailQueue queue = factory.createQueue(OUTGOING);
        enqueue(queue, "m1", "a@aol.com", "b@aim.com");
        enqueue(queue, "m2", "c@aol.com", "d@gmail.com");
        enqueue(queue, "m3", "e@example.org");
        enqueue(queue, "m4", "f@example.org", "g@Example.NET");

        QueuedMailCounter.Counts counts = MailQueueCounter.of(factory, OUTGOING, policy(), 100).count().get();

        assertThat(counts.of("aol")).isEqualTo(2);
        assertThat(counts.of("gmail")).isEqualTo(1);
        // Unlisted domains count under their own key, as their state is kept; and all of them under default.
        assertThat(counts.of("example.org")).isEqualTo(2);
        assertThat(counts.of("example.net")).isEqualTo(1);
        assertThat(counts.of("default")).isEqualTo(2);
        assertThat(counts.complete()).isTrue();
    }

    @Test
    void stopsAtTheBoundAndSaysSo() throws Exception {
        MailQueue queue = factory.createQueue(OUTGOING);
        for (int i = 0; i < 5; i++) {
            enqueue(queue, "m" + i, "a" + i + "@aol.com");
        }
        QueuedMailCounter.Counts counts = MailQueueCounter.of(factory, OUTGOING, policy(), 3).count().get();
        assertThat(counts.of("aol")).isEqualTo(3);
        assertThat(counts.complete()).isFalse();
    }

    @Test
    void aQueueNeverCreatedHoldsNothing() throws Exception {
        QueuedMailCounter.Counts counts = MailQueueCounter.of(factory, MailQueueName.of("never"), policy(), 10).count().get();
        assertThat(counts.of("aol")).isZero();
        assertThat(counts.complete()).isTrue();
    }
}
