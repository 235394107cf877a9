package org.mailpolicy.james.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.inject.Inject;

import org.apache.james.core.MailAddress;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;
import org.apache.james.utils.GuiceProbe;
import org.apache.mailet.Mail;

/** Browses James's mail queues from a test (what is queued, due when, with which attributes) and fills them. */
public final class QueueProbe implements GuiceProbe {
    private final MailQueueFactory<? extends ManageableMailQueue> queues;

    @Inject
    QueueProbe(MailQueueFactory<? extends ManageableMailQueue> queues) {
        this.queues = queues;
    }

    /** The mails on the queue of that name, in queue order; none if no such queue was created yet. */
    public List<QueuedMail> browse(String queueName) throws ManageableMailQueue.MailQueueException {
        Optional<? extends ManageableMailQueue> queue = queues.getQueue(MailQueueName.of(queueName));
        List<QueuedMail> mails = new ArrayList<>();
        if (queue.isEmpty()) {
            return mails;
        }
        ManageableMailQueue.MailQueueIterator items = queue.get().browse();
        try {
            while (items.hasNext()) {
                ManageableMailQueue.MailQueueItemView item = items.next();
                // Read only: on the memory queue these are the queued mails themselves, so they are not disposed here.
                Mail mail = item.getMail();
                List<String> recipients = new ArrayList<>();
                for (MailAddress recipient : mail.getRecipients()) {
                    recipients.add(recipient.asString());
                }
                Map<String, String> attributes = new LinkedHashMap<>();
                mail.attributes().forEach(a -> attributes.put(a.getName().asString(), String.valueOf(a.getValue().value())));
                mails.add(new QueuedMail(mail.getName(), recipients,
                        item.getNextDelivery().map(at -> at.toInstant()), attributes));
            }
        } finally {
            items.close();
        }
        return mails;
    }

    /**
     * Puts {@code mail} (a copy, as the queue keeps it) on the queue of that name, due at {@code due}: a benchmark fills
     * the delivery queue before any of it may go, to measure delivery apart from SMTP intake.
     */
    public void enqueueDueAt(String queueName, Mail mail, Instant due) throws MailQueue.MailQueueException {
        Duration delay = Duration.between(Instant.now(), due);
        queues.createQueue(MailQueueName.of(queueName)).enQueue(mail, delay.isNegative() ? Duration.ZERO : delay);
    }
}
