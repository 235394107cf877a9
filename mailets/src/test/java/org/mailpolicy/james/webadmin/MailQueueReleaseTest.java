package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.mail.Session;
import javax.mail.internet.MimeMessage;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;
import org.apache.james.queue.api.RawMailQueueItemDecoratorFactory;
import org.apache.james.queue.memory.MemoryMailQueueFactory;
import org.apache.mailet.base.test.FakeMail;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DeliveryPolicy;

/** Bringing a released destination's mails forward in James's own in-memory mail queue. */
class MailQueueReleaseTest {
    private static final MailQueueName OUTGOING = MailQueueName.of("outgoing");
    private static final Duration HOLD = Duration.ofHours(1);

    private final MemoryMailQueueFactory factory = new MemoryMailQueueFactory(new RawMailQueueItemDecoratorFactory());

    private static DeliveryPolicy policy() throws Exception {
        return DeliveryPolicy.parse("version: 1\n"
                + "destinations:\n"
                + "  - name: aol\n"
                + "    domains: [aol.com, aim.com]\n"
                + "  - name: gmail\n"
                + "    domains: [gmail.com]\n", "p.yaml");
    }

    private static void enqueue(MailQueue queue, String name, Duration delay, String... recipients) throws Exception {
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setSubject("queued");
        message.setText("body");
        message.saveChanges();
        queue.enQueue(FakeMail.builder().name(name).sender("alice@example.com").recipients(recipients)
                .mimeMessage(message).build(), delay);
    }

    /** Next delivery time per queued mail name. */
    private static Map<String, ZonedDateTime> due(ManageableMailQueue queue) throws Exception {
        Map<String, ZonedDateTime> out = new HashMap<>();
        ManageableMailQueue.MailQueueIterator items = queue.browse();
        try {
            while (items.hasNext()) {
                ManageableMailQueue.MailQueueItemView item = items.next();
                out.put(item.getMail().getName(), item.getNextDelivery().orElseThrow(AssertionError::new));
            }
        } finally {
            items.close();
        }
        return out;
    }

    @Test
    void bringsForwardOnlyTheDestinationsDelayedMails() throws Exception {
        ManageableMailQueue queue = factory.createQueue(OUTGOING);
        enqueue(queue, "held-1", HOLD, "a@aol.com");
        enqueue(queue, "held-2", HOLD, "b@aim.com", "c@aol.com");
        enqueue(queue, "gmail-retry", HOLD, "d@gmail.com");
        enqueue(queue, "mixed", HOLD, "e@aol.com", "f@gmail.com");
        enqueue(queue, "aol-now", Duration.ZERO, "g@aol.com");

        long moved = MailQueueRelease.of(factory, OUTGOING, policy(), 100).bringForward("aol").getAsLong();

        assertThat(moved).isEqualTo(2);
        Map<String, ZonedDateTime> due = due(queue);
        ZonedDateTime soon = ZonedDateTime.now().plusMinutes(1);
        assertThat(due).hasSize(5);
        assertThat(due.get("held-1")).isBefore(soon);
        assertThat(due.get("held-2")).isBefore(soon);
        assertThat(due.get("gmail-retry")).isAfter(soon);
        assertThat(due.get("mixed")).isAfter(soon);
        assertThat(due.get("aol-now")).isBefore(soon);
    }

    @Test
    void bringsForwardTheMailsOfOneUnlistedDomain() throws Exception {
        ManageableMailQueue queue = factory.createQueue(OUTGOING);
        enqueue(queue, "org-1", HOLD, "a@example.org");
        enqueue(queue, "org-2", HOLD, "b@example.org", "c@example.org");
        enqueue(queue, "net", HOLD, "d@example.net");
        enqueue(queue, "aol", HOLD, "e@aol.com");

        long moved = MailQueueRelease.of(factory, OUTGOING, policy(), 100).bringForward("example.org").getAsLong();

        assertThat(moved).isEqualTo(2);
        Map<String, ZonedDateTime> due = due(queue);
        ZonedDateTime soon = ZonedDateTime.now().plusMinutes(1);
        assertThat(due.get("org-1")).isBefore(soon);
        assertThat(due.get("org-2")).isBefore(soon);
        assertThat(due.get("net")).isAfter(soon);
        assertThat(due.get("aol")).isAfter(soon);
    }

    @Test
    void mailsSharingANameAreLeftWhereTheyAre() throws Exception {
        ManageableMailQueue queue = factory.createQueue(OUTGOING);
        enqueue(queue, "twice", HOLD, "a@aol.com");
        enqueue(queue, "twice", HOLD, "b@aol.com");

        assertThat(MailQueueRelease.of(factory, OUTGOING, policy(), 100).bringForward("aol").getAsLong()).isZero();
        assertThat(queue.getSize()).isEqualTo(2);
    }

    @Test
    void aQueueNeverCreatedHasNothingToRelease() throws Exception {
        assertThat(MailQueueRelease.of(factory, MailQueueName.of("never"), policy(), 10).bringForward("aol").getAsLong())
                .isZero();
    }
}
