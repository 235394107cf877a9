package org.mailpolicy.james.webadmin;

import com.google.common.base.Preconditions;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.james.core.MailAddress;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;
import org.apache.mailet.Mail;
import org.mailpolicy.destination.DeliveryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a destination's delayed mails forward in the delivery mailet's outgoing queue: each one is
 * removed by name and queued again without delay. Only a mail that was really removed is queued again,
 * so a mail the delivery threads took meanwhile is not sent twice. Mails are matched to destinations
 * by recipient domain, as {@link MailQueueCounter} counts them (a released {@code example.org} brings
 * its own mails forward, a released {@code aol} those of aol.com, aim.com, ...); a mail with a recipient of another
 * destination is left alone (the delivery mailet splits those itself). Not the whole queue
 * ({@link ManageableMailQueue#flush()}): other destinations' retries keep their schedule.
 */
public final class MailQueueRelease implements HeldMailRelease {
    private static final Logger LOGGER = LoggerFactory.getLogger(MailQueueRelease.class);

    private final MailQueueFactory<? extends MailQueue> factory;
    private final MailQueueName queueName;
    private final DeliveryPolicy policy;
    private final int maxBrowsed;

    private MailQueueRelease(MailQueueFactory<? extends MailQueue> factory, MailQueueName queueName,
                             DeliveryPolicy policy, int maxBrowsed) {
        this.factory = factory;
        this.queueName = queueName;
        this.policy = policy;
        this.maxBrowsed = maxBrowsed;
    }

    /** @param maxBrowsed how many queued mails one release looks at, at most */
    public static MailQueueRelease of(MailQueueFactory<? extends MailQueue> factory, MailQueueName queueName,
                                      DeliveryPolicy policy, int maxBrowsed) {
        Preconditions.checkArgument(maxBrowsed > 0, "maxBrowsed must be positive: %s", maxBrowsed);
        return new MailQueueRelease(Preconditions.checkNotNull(factory, "factory"),
                Preconditions.checkNotNull(queueName, "queueName"), Preconditions.checkNotNull(policy, "policy"), maxBrowsed);
    }

    @Override
    public OptionalLong bringForward(String destination) {
        Preconditions.checkNotNull(destination, "destination");
        Optional<? extends MailQueue> queue = factory.getQueue(queueName);
        if (!queue.isPresent()) {
            return OptionalLong.of(0);
        }
        if (!(queue.get() instanceof ManageableMailQueue)) {
            return OptionalLong.empty();
        }
        ManageableMailQueue managed = (ManageableMailQueue) queue.get();
        try {
            long moved = 0;
            for (Mail mail : delayedFor(managed, destination)) {
                long removed = managed.remove(ManageableMailQueue.Type.Name, mail.getName());
                if (removed == 0) {
                    continue; // taken by a delivery thread since the browse: it is on its way already
                }
                managed.enQueue(mail);
                moved++;
            }
            LOGGER.info("hold of {} released: {} queued mails brought forward", destination, moved);
            return OptionalLong.of(moved);
        } catch (MailQueue.MailQueueException | RuntimeException e) {
            LOGGER.warn("hold of {} released, but its queued mails could not be brought forward in {}",
                    destination, queueName.asString(), e);
            return OptionalLong.empty();
        }
    }

    /** The delayed mails all of whose recipients are the destination's; names seen more than once are left alone. */
    private List<Mail> delayedFor(ManageableMailQueue queue, String destination) throws MailQueue.MailQueueException {
        ZonedDateTime now = ZonedDateTime.now();
        Map<String, Integer> timesSeen = new HashMap<>();
        List<Mail> candidates = new ArrayList<>();
        ManageableMailQueue.MailQueueIterator items = queue.browse();
        try {
            int browsed = 0;
            while (items.hasNext() && browsed < maxBrowsed) {
                browsed++;
                ManageableMailQueue.MailQueueItemView item = items.next();
                Mail mail = item.getMail();
                timesSeen.merge(mail.getName(), 1, Integer::sum);
                boolean delayed = item.getNextDelivery().map(at -> at.isAfter(now)).orElse(false);
                if (delayed && !mail.getRecipients().isEmpty() && allFor(mail, destination)) {
                    candidates.add(mail);
                }
            }
        } finally {
            items.close();
        }
        // Removal is by name: with two queued mails of one name, re-queuing one would lose the other.
        candidates.removeIf(mail -> timesSeen.get(mail.getName()) > 1);
        return candidates;
    }

    /** Every recipient's mail counts under {@code destination}: its key (aol, example.org) or its policy's name. */
    private boolean allFor(Mail mail, String destination) {
        for (MailAddress r : mail.getRecipients()) {
            if (!MailQueueCounter.destinationsOf(policy, r).contains(destination)) {
                return false;
            }
        }
        return true;
    }
}
