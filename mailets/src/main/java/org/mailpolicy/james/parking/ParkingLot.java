package org.mailpolicy.james.parking;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.mail.MessagingException;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.queue.api.MailQueue;
import org.apache.mailet.Mail;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.metrics.DeliveryMetrics;
import org.mailpolicy.parking.ParkedMail;
import org.mailpolicy.parking.ParkedMailStore;
import org.mailpolicy.parking.ParkedSummary;
import org.mailpolicy.parking.Release;
import org.mailpolicy.parking.ReleaseAllowance;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationStateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The James side of the parked-mail schedule ({@code waits: in: parked}): a mail that must wait is
 * stored in a James mail repository under a new id and its due time in the {@link ParkedMailStore};
 * {@link #releaseDue()} (the releaser's tick, {@link ParkedMailReleaser}) puts due mail back on the
 * outgoing queue without delay, as many per destination as {@link ReleaseAllowance} lets through (none
 * while it is held, one probe after a hold, then at its pace). The delivery thread calls {@link #take}
 * before delivering a dequeued mail and {@link #finished} once its follow-ups are stored.
 *
 * <p>Metrics: {@code delivery-policy.parked.released.DESTINATION} counts releases (by policy destination
 * name: an unlisted domain counts under {@code default}); gauges are registered by
 * {@link org.mailpolicy.james.metrics.ParkedGauges} from {@link #lastSummaries()}.
 *
 * <p>Thread-safe: the store and the repository are; the summaries are replaced whole.
 */
public final class ParkingLot {
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkingLot.class);

    private final ParkedMailStore store;
    private final MailRepository repository;
    private final String repositoryUrl;
    private final MailQueue queue;
    private final DeliveryPolicy policy;
    private final DestinationStateStore states;
    private final Clock clock;
    private final MetricFactory metrics;
    private volatile Map<String, ParkedSummary> lastSummaries = ImmutableMap.of();

    public ParkingLot(ParkedMailStore store, MailRepository repository, String repositoryUrl, MailQueue queue,
                      DeliveryPolicy policy, DestinationStateStore states, Clock clock, MetricFactory metrics) {
        this.store = Preconditions.checkNotNull(store, "store");
        this.repository = Preconditions.checkNotNull(repository, "repository");
        this.repositoryUrl = Preconditions.checkNotNull(repositoryUrl, "repositoryUrl");
        this.queue = Preconditions.checkNotNull(queue, "queue");
        this.policy = Preconditions.checkNotNull(policy, "policy");
        this.states = Preconditions.checkNotNull(states, "states");
        this.clock = Preconditions.checkNotNull(clock, "clock");
        this.metrics = Preconditions.checkNotNull(metrics, "metrics");
    }

    /**
     * Parks {@code copy} (a copy of the mail with the recipients that wait and their history) for
     * {@code destination} until {@code due}. The content is stored first: a row never names content
     * that is not there. Renames the copy to its park id.
     */
    public String park(Mail copy, DestinationKey destination, Instant due, String reason) throws MessagingException {
        String id = ParkedMail.newId();
        copy.setName(id);
        ParkedAttribute.remove(copy);
        repository.store(copy);
        try {
            store.park(ParkedMail.of(id, destination.asString(), due, clock.instant(), reason));
        } catch (RuntimeException e) {
            removeContent(id);
            throw new MessagingException("cannot park mail " + id + " for " + destination + ": " + e.getMessage(), e);
        }
        LOGGER.debug("parked mail={} destination={} due={} because={}", id, destination, due, reason);
        return id;
    }

    /**
     * Whether a dequeued mail is to be delivered: mail that was never parked is; a released copy is
     * when it is the current release of its parked mail ({@link ParkedMailStore#take}); an older
     * release's copy is not, and the caller drops it.
     */
    public boolean take(Mail mail) {
        Optional<ParkedAttribute.Copy> copy = ParkedAttribute.read(mail);
        if (!copy.isPresent()) {
            return true;
        }
        ParkedMailStore.Take take = store.take(copy.get().id(), copy.get().token(), clock.instant());
        if (take == ParkedMailStore.Take.STALE) {
            LOGGER.info("parked mail={} dropped a stale copy (released again since, or delivered already)", copy.get().id());
            return false;
        }
        return true;
    }

    /** The attempt on a released copy is over and its follow-ups stored: forgets the parked mail and its content. */
    public void finished(Mail mail) {
        Optional<ParkedAttribute.Copy> copy = ParkedAttribute.read(mail);
        if (copy.isPresent() && store.finish(copy.get().id())) {
            removeContent(copy.get().id());
        }
    }

    /**
     * One round of the releaser: for each destination with mail due, claims what its allowance lets
     * through and queues each without delay. A mail whose content is missing from the repository is
     * logged and forgotten (there is nothing to deliver); a mail the queue refuses is parked again.
     *
     * @return how many mails were put on the queue
     */
    public int releaseDue() {
        Instant now = clock.instant();
        int released = 0;
        for (String destination : store.destinationsDue(now)) {
            DestinationKey key = DestinationKey.of(destination);
            DestinationPolicy settings = settingsOf(destination);
            int allowance = ReleaseAllowance.of(states.get(key), settings, store.outstanding(destination, now), now);
            for (Release r : store.claim(destination, allowance, now)) {
                if (queueCopy(r)) {
                    released++;
                    metrics.generate(DeliveryMetrics.PREFIX + "parked.released." + DeliveryMetrics.namePart(settings.name()))
                            .increment();
                }
            }
        }
        refreshSummaries();
        return released;
    }

    private boolean queueCopy(Release r) {
        Mail mail;
        try {
            mail = repository.retrieve(new MailKey(r.id()));
        } catch (MessagingException | RuntimeException e) {
            LOGGER.warn("parked mail={} cannot be read from {} now; parked again: {}", r.id(), repositoryUrl, e.toString());
            store.unclaim(r, clock.instant().plusSeconds(60));
            return false;
        }
        if (mail == null) {
            LOGGER.error("parked mail={} destination={} has no content in {}: forgotten, nothing to deliver",
                    r.id(), r.destination(), repositoryUrl);
            store.finish(r.id());
            return false;
        }
        try {
            mail.setAttribute(ParkedAttribute.of(r.id(), r.token()));
            // Without a delay (see OutcomeDispatcher.enqueue): due now, for any consumer.
            queue.enQueue(mail);
            LOGGER.debug("parked mail={} destination={} released", r.id(), r.destination());
            return true;
        } catch (MessagingException | RuntimeException e) {
            LOGGER.warn("parked mail={} could not be queued; parked again: {}", r.id(), e.toString());
            store.unclaim(r, clock.instant());
            return false;
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    /** An operator's release: every parked mail of {@code destination} (a key: aol, example.org) is due now. */
    public int makeDue(String destination) {
        return store.makeDue(destination, clock.instant());
    }

    /** The summaries of the releaser's last round, by destination key; what the gauges read. */
    public Map<String, ParkedSummary> lastSummaries() {
        return lastSummaries;
    }

    private void refreshSummaries() {
        Map<String, ParkedSummary> byKey = new TreeMap<>();
        List<ParkedSummary> all = store.summaries(clock.instant());
        for (ParkedSummary s : all) {
            byKey.put(s.destination(), s);
        }
        lastSummaries = ImmutableMap.copyOf(byKey);
    }

    /** A named destination's settings, or the default's for an unlisted domain's key. */
    private DestinationPolicy settingsOf(String key) {
        return policy.destination(key).orElse(policy.defaultDestination());
    }

    private void removeContent(String id) {
        try {
            repository.remove(new MailKey(id));
        } catch (MessagingException | RuntimeException e) {
            LOGGER.warn("content of parked mail={} could not be removed from {}: {}", id, repositoryUrl, e.toString());
        }
    }
}
