package org.mailpolicy.decision;

import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.rules.Classification;

/**
 * What happens to one recipient after one delivery attempt. A closed set: the constructor is
 * private, and the only subclasses are the nested final ones. Callers switch on {@link #kind()}.
 */
public abstract class RecipientDecision {
    /** The closed set of outcomes, for switches and logs. */
    public enum Kind {
        DELIVERED, RETRY, HOLD, BOUNCE, SUPPRESS, EXPIRED;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** RFC 3463 4.4.7: delivery time expired. */
    public static final EnhancedStatus EXPIRED_STATUS = EnhancedStatus.of(4, 4, 7);
    public static final String EXPIRED_REASON = "expired";
    /** RFC 5248 5.7.10: encryption needed, for a message that expired waiting for the TLS its policy requires. */
    public static final EnhancedStatus ENCRYPTION_NEEDED = EnhancedStatus.of(5, 7, 10);

    private static final Delivered DELIVERED = new Delivered();

    private final Classification classification;

    private RecipientDecision(Classification classification) {
        this.classification = classification;
    }

    public static Delivered delivered() {
        return DELIVERED;
    }

    public static RetryAt retryAt(Instant at, Classification failure) {
        return new RetryAt(at, failure);
    }

    public static HoldDestination holdDestination(Instant until, Classification throttle) {
        return new HoldDestination(until, throttle);
    }

    public static Bounce bounce(Classification failure) {
        return new Bounce(failure);
    }

    public static Suppress suppress(Classification failure) {
        return new Suppress(failure);
    }

    public static Expired expired(Classification lastFailure) {
        return new Expired(lastFailure);
    }

    public abstract Kind kind();

    /** The classification of the reply that led here; empty only for {@link Delivered}. */
    public Optional<Classification> classification() {
        return Optional.ofNullable(classification);
    }

    /** When the recipient is tried again; empty unless it goes back on the queue. */
    public Optional<Instant> nextAttempt() {
        return Optional.empty();
    }

    /** Whether the recipient goes back on the queue (retry or destination hold). */
    public boolean willRetry() {
        return false;
    }

    /** Whether the sender is told the recipient failed for good (bounce, suppress, expired). */
    public boolean isFinalFailure() {
        return false;
    }

    /** The status a DSN reports; empty for {@link Delivered}. */
    public Optional<EnhancedStatus> dsnStatus() {
        return classification().map(Classification::dsnStatus);
    }

    /** The reason a DSN and the log give; empty for {@link Delivered}. */
    public Optional<String> reason() {
        return classification().map(Classification::reason);
    }

    @Override
    public boolean equals(Object o) {
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        RecipientDecision that = (RecipientDecision) o;
        return Objects.equals(classification, that.classification) && nextAttempt().equals(that.nextAttempt());
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), classification, nextAttempt());
    }

    @Override
    public String toString() {
        return kind().id() + nextAttempt().map(t -> " at " + t).orElse("")
                + classification().map(c -> " (" + c + ")").orElse("");
    }

    /** The remote server accepted the message for this recipient: never tried again. */
    public static final class Delivered extends RecipientDecision {
        private Delivered() {
            super(null);
        }

        @Override
        public Kind kind() {
            return Kind.DELIVERED;
        }
    }

    /** A temporary failure: try this recipient again at {@link #at()}. */
    public static final class RetryAt extends RecipientDecision {
        private final Instant at;

        private RetryAt(Instant at, Classification failure) {
            super(Preconditions.checkNotNull(failure, "failure"));
            this.at = Preconditions.checkNotNull(at, "at");
        }

        public Instant at() {
            return at;
        }

        @Override
        public Kind kind() {
            return Kind.RETRY;
        }

        @Override
        public Optional<Instant> nextAttempt() {
            return Optional.of(at);
        }

        @Override
        public boolean willRetry() {
            return true;
        }
    }

    /** The destination throttled us: the whole destination is held, and this recipient waits until {@link #until()}. */
    public static final class HoldDestination extends RecipientDecision {
        private final Instant until;

        private HoldDestination(Instant until, Classification throttle) {
            super(Preconditions.checkNotNull(throttle, "throttle"));
            this.until = Preconditions.checkNotNull(until, "until");
        }

        public Instant until() {
            return until;
        }

        @Override
        public Kind kind() {
            return Kind.HOLD;
        }

        @Override
        public Optional<Instant> nextAttempt() {
            return Optional.of(until);
        }

        @Override
        public boolean willRetry() {
            return true;
        }
    }

    /** A permanent failure: the sender gets a DSN. */
    public static final class Bounce extends RecipientDecision {
        private Bounce(Classification failure) {
            super(Preconditions.checkNotNull(failure, "failure"));
        }

        @Override
        public Kind kind() {
            return Kind.BOUNCE;
        }

        @Override
        public boolean isFinalFailure() {
            return true;
        }
    }

    /** The recipient does not exist: a DSN, and the address joins the suppression list. */
    public static final class Suppress extends RecipientDecision {
        private Suppress(Classification failure) {
            super(Preconditions.checkNotNull(failure, "failure"));
        }

        @Override
        public Kind kind() {
            return Kind.SUPPRESS;
        }

        @Override
        public boolean isFinalFailure() {
            return true;
        }
    }

    /**
     * The message reached the destination's maximum age while still failing temporarily: a DSN
     * with status 4.4.7 and reason {@code expired}; {@link #classification()} is the last failure.
     */
    public static final class Expired extends RecipientDecision {
        private Expired(Classification lastFailure) {
            super(Preconditions.checkNotNull(lastFailure, "lastFailure"));
        }

        @Override
        public Kind kind() {
            return Kind.EXPIRED;
        }

        @Override
        public boolean isFinalFailure() {
            return true;
        }

        /**
         * 4.4.7, except when the message waited for encryption the destination's policy requires (X.7.10, RFC 5248):
         * then 5.7.10, so the sender reads that TLS, not the receiver being slow, is why it never went.
         */
        @Override
        public Optional<EnhancedStatus> dsnStatus() {
            EnhancedStatus last = classification().get().dsnStatus();
            if (last.subject() == ENCRYPTION_NEEDED.subject() && last.detail() == ENCRYPTION_NEEDED.detail()) {
                return Optional.of(ENCRYPTION_NEEDED);
            }
            return Optional.of(EXPIRED_STATUS);
        }

        @Override
        public Optional<String> reason() {
            return Optional.of(EXPIRED_REASON);
        }
    }
}
