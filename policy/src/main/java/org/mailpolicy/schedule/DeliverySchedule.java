package org.mailpolicy.schedule;

import com.google.common.base.Preconditions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.state.DestinationState;

/**
 * When to try a message next, when it expires, and when its sender should hear that it is late.
 * Pure functions of the policy, the history and the clock.
 */
public final class DeliverySchedule {
    private DeliverySchedule() {
    }

    /**
     * The next attempt: the destination's retry delay after the last failure (now, if none failed
     * yet), pushed later by {@code atLeast} from now (a rule's retry hint, a destination hold), never
     * earlier than now, and never after the expiry instant: the final attempt happens at expiry, and
     * if it fails {@link #isExpired} says to bounce.
     */
    public static Instant nextAttempt(DestinationPolicy policy, AttemptHistory history, Optional<Duration> atLeast,
                                      Clock clock) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(history, "history");
        Preconditions.checkNotNull(atLeast, "atLeast");
        Instant now = clock.instant();
        Instant next = now;
        if (history.failedAttempts() > 0) {
            Instant failedAt = history.lastAttempt().orElse(now);
            next = failedAt.plus(policy.retrySchedule().delayAfter(history.failedAttempts(), history.messageKey()));
        }
        if (atLeast.isPresent() && !atLeast.get().isNegative()) {
            next = latest(next, now.plus(atLeast.get()));
        }
        next = latest(next, now);
        Instant expiry = expiresAt(policy, history);
        return next.isAfter(expiry) ? latest(expiry, now) : next;
    }

    /** When the message is given up: first queued plus the destination's maximum age. */
    public static Instant expiresAt(DestinationPolicy policy, AttemptHistory history) {
        return history.firstQueued().plus(policy.maxAge());
    }

    /** Whether the message has reached its maximum age: a failure now is final (4.4.7, expired). */
    public static boolean isExpired(DestinationPolicy policy, AttemptHistory history, Clock clock) {
        return !clock.instant().isBefore(expiresAt(policy, history));
    }

    /**
     * Whether to tell the sender now that the message is delayed: once, when the delay-warning time
     * has passed, and only while there is still time left to deliver (otherwise the bounce says it).
     */
    public static boolean delayWarningDue(DestinationPolicy policy, AttemptHistory history, Clock clock) {
        if (history.delayWarningSent()) {
            return false;
        }
        Instant now = clock.instant();
        Instant warnAt = history.firstQueued().plus(policy.delayWarning());
        return !now.isBefore(warnAt) && now.isBefore(expiresAt(policy, history));
    }

    /**
     * How long the destination's hold still runs, as an {@code atLeast} for {@link #nextAttempt}:
     * a message that meets a held destination waits for the hold's end, not for its own schedule.
     */
    public static Optional<Duration> holdRemaining(DestinationState state, Clock clock) {
        Preconditions.checkNotNull(state, "state");
        Instant now = clock.instant();
        if (!state.isHeldAt(now)) {
            return Optional.empty();
        }
        return Optional.of(Duration.between(now, state.heldUntil().get()));
    }

    private static Instant latest(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
