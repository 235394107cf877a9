package org.mailpolicy.james.webadmin;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.state.DestinationKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the mails in the delivery mailet's outgoing queue per destination key, by browsing it. A
 * mail counts once for each key among its recipients' domains (see {@link #destinationsOf}).
 * Destinations are matched by recipient domain only (no DNS lookups on a WebAdmin request): a
 * vanity domain hosted by a provider counts under its own domain, as the default would key it.
 */
public final class MailQueueCounter implements QueuedMailCounter {
    /** Browsing is linear in the queue: stop here and say the count is partial. */
    static final int DEFAULT_MAX_BROWSED = 10_000;
    private static final Logger LOGGER = LoggerFactory.getLogger(MailQueueCounter.class);

    private final MailQueueFactory<? extends MailQueue> factory;
    private final MailQueueName queueName;
    private final DeliveryPolicy policy;
    private final int maxBrowsed;

    private MailQueueCounter(MailQueueFactory<? extends MailQueue> factory, MailQueueName queueName,
                             DeliveryPolicy policy, int maxBrowsed) {
        this.factory = factory;
        this.queueName = queueName;
        this.policy = policy;
        this.maxBrowsed = maxBrowsed;
    }

    public static MailQueueCounter of(MailQueueFactory<? extends MailQueue> factory, MailQueueName queueName,
                                      DeliveryPolicy policy, int maxBrowsed) {
        Preconditions.checkArgument(maxBrowsed > 0, "maxBrowsed must be positive: %s", maxBrowsed);
        return new MailQueueCounter(Preconditions.checkNotNull(factory, "factory"),
                Preconditions.checkNotNull(queueName, "queueName"), Preconditions.checkNotNull(policy, "policy"), maxBrowsed);
    }

    /**
     * What a recipient's mail counts under: its destination key (a named destination's name, or
     * its domain under the default) and the name of the policy whose settings apply (so that
     * {@code default} counts all the default's mail, as its state does when the default goes
     * through one relay).
     */
    static Set<String> destinationsOf(DeliveryPolicy policy, MailAddress recipient) {
        String domain = recipient.getDomain().asString();
        DestinationPolicy d = policy.forRecipientDomain(domain);
        return ImmutableSet.of(DestinationKey.forDelivery(d, domain, false).asString(), d.name());
    }

    @Override
    public Optional<Counts> count() {
        Optional<? extends MailQueue> queue = factory.getQueue(queueName);
        if (!queue.isPresent()) {
            // Not created yet: nothing was ever queued for delivery on this node.
            return Optional.of(Counts.of(Map.of(), true));
        }
        if (!(queue.get() instanceof ManageableMailQueue)) {
            return Optional.empty();
        }
        Map<String, Long> counts = new HashMap<>();
        int browsed = 0;
        boolean complete = true;
        ManageableMailQueue.MailQueueIterator items = null;
        try {
            items = ((ManageableMailQueue) queue.get()).browse();
            while (items.hasNext()) {
                if (browsed >= maxBrowsed) {
                    complete = false;
                    break;
                }
                browsed++;
                Set<String> destinations = new HashSet<>();
                for (MailAddress r : items.next().getMail().getRecipients()) {
                    destinations.addAll(destinationsOf(policy, r));
                }
                destinations.forEach(d -> counts.merge(d, 1L, Long::sum));
            }
            return Optional.of(Counts.of(counts, complete));
        } catch (MailQueue.MailQueueException | RuntimeException e) {
            LOGGER.warn("cannot browse mail queue {} for queued counts", queueName.asString(), e);
            return Optional.empty();
        } finally {
            if (items != null) {
                items.close();
            }
        }
    }
}
