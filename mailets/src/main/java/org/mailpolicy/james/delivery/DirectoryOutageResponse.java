package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.time.Instant;
import org.mailpolicy.decision.AttemptOutcome;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.metrics.DeliveryMetrics;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DirectoryOutageGuard;
import org.mailpolicy.state.DirectoryOutageStatus;
import org.mailpolicy.suppression.SuppressionList;
import org.mailpolicy.yaml.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each attempt's outcome, and each recipient a bounce reports as failed, past the
 * {@link DirectoryOutageGuard} before it is decided, and tells the operator what the guard found: a
 * WARN line when a destination's directory becomes suspect (with the counts, what tripped it, and
 * what the plugin now does), an INFO line when the suspicion is over, the metrics, and the lifting of
 * the suppressions the surge wrote (from live replies or bounces) before it was recognised. The
 * delivery mailet and bounce ingestion share one guard (the policy runtime's), so that either kind
 * of "user unknown" counts toward the same destination's surge.
 */
public final class DirectoryOutageResponse {
    /** What brought the answers under review. */
    public enum Source {
        /** A delivery attempt's replies: an unbelieved "user unknown" is retried. */
        LIVE_REPLY("live-reply"),
        /** A bounce ingested later: an unbelieved "user unknown" is recorded (the bounce is final), not suppressed. */
        BOUNCE("bounce");

        private final String id;

        Source(String id) {
            this.id = id;
        }
    }

    private static final Logger LOGGER = LoggerFactory.getLogger(DirectoryOutageResponse.class);

    private final DirectoryOutageGuard guard;
    private final SuppressionList suppressions;
    private final DeliveryMetrics metrics;

    public DirectoryOutageResponse(DirectoryOutageGuard guard, SuppressionList suppressions, DeliveryMetrics metrics) {
        this.guard = Preconditions.checkNotNull(guard, "guard");
        this.suppressions = Preconditions.checkNotNull(suppressions, "suppressions");
        this.metrics = Preconditions.checkNotNull(metrics, "metrics");
    }

    /**
     * The outcome to decide on: {@code outcome}, or with its unknown-user replies made retries while the guard
     * suspects an outage (bounce ingestion then records them as final bounces).
     */
    public AttemptOutcome review(DestinationKey key, DestinationPolicy destination, AttemptOutcome outcome, Instant now,
                                 Source source) {
        DirectoryOutageGuard.Review review = guard.review(key, destination, outcome, now);
        DirectoryOutageStatus status = review.status();
        if (review.ended()) {
            LOGGER.info("directory outage over destination={} until={}: its \"user unknown\" replies suppress again",
                    key, status.until().map(Instant::toString).orElse("-"));
        }
        if (review.started()) {
            metrics.directoryOutageStarted(destination.name());
            int lifted = lift(key, review);
            LOGGER.warn("directory outage suspected destination={} unknownRecipients={} answeredRecipients={} window={}"
                            + " until={} trippedBy={}: \"user unknown\" answers are not suppressed (live replies are"
                            + " retried, bounces recorded) until {} pass without such a surge; lifted {} suppressions"
                            + " written since {}",
                    key, status.unknownRecipients(), status.answeredRecipients(),
                    Durations.format(destination.unknownRecipientGuard().window()),
                    status.until().map(Instant::toString).orElse("-"), source.id,
                    Durations.format(destination.unknownRecipientGuard().quiet()), lifted, review.liftableSince());
        }
        if (review.deferred() > 0) {
            metrics.unknownUsersDeferred(destination.name(), review.deferred());
        }
        return review.outcome();
    }

    /** Best effort: a suppression left in place is what happened before the guard, not a lost mail. */
    private int lift(DestinationKey key, DirectoryOutageGuard.Review review) {
        int lifted = 0;
        for (String address : review.liftable()) {
            try {
                if (suppressions.removeReplyEntry(address, review.liftableSince())) {
                    lifted++;
                }
            } catch (RuntimeException e) {
                LOGGER.warn("directory outage destination={}: could not lift the suppression of {}: {}", key, address,
                        e.getMessage());
            }
        }
        if (lifted > 0) {
            metrics.suppressionsLifted(lifted);
        }
        return lifted;
    }
}
