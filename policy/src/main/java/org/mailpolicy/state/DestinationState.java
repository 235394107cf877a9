package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the engine knows about one destination right now: whether it is held and until when, how
 * long the current hold is, how busy it is. Immutable; stores hand out snapshots.
 */
public final class DestinationState {
    private final String destination;
    private final Instant heldUntil;
    private final Duration currentHold;
    private final int consecutiveThrottles;
    private final long attempts;
    private final int inFlight;
    private final String lastReply;
    private final Instant lastAttemptAt;
    private final boolean probing;

    private DestinationState(Builder b) {
        this.destination = b.destination;
        this.heldUntil = b.heldUntil;
        this.currentHold = b.currentHold;
        this.consecutiveThrottles = b.consecutiveThrottles;
        this.attempts = b.attempts;
        this.inFlight = b.inFlight;
        this.lastReply = b.lastReply;
        this.lastAttemptAt = b.lastAttemptAt;
        this.probing = b.probing;
    }

    /** A destination never seen: not held, nothing in flight. */
    public static DestinationState initial(String destination) {
        return new Builder(destination).build();
    }

    public static Builder builder(String destination) {
        return new Builder(destination);
    }

    public Builder toBuilder() {
        Builder b = new Builder(destination);
        b.heldUntil = heldUntil;
        b.currentHold = currentHold;
        b.consecutiveThrottles = consecutiveThrottles;
        b.attempts = attempts;
        b.inFlight = inFlight;
        b.lastReply = lastReply;
        b.lastAttemptAt = lastAttemptAt;
        b.probing = probing;
        return b;
    }

    public String destination() {
        return destination;
    }

    /**
     * The end of the current hold. It stays set after that instant until an attempt succeeds (or an
     * operator releases it): meanwhile one probe at a time is let through.
     */
    public Optional<Instant> heldUntil() {
        return Optional.ofNullable(heldUntil);
    }

    /** Whether no attempt (not even a probe) may start at {@code now}. */
    public boolean isHeldAt(Instant now) {
        return heldUntil != null && now.isBefore(heldUntil);
    }

    /** The length of the last hold; the next throttle grows it, successes shrink it. Zero when none. */
    public Duration currentHold() {
        return currentHold;
    }

    public int consecutiveThrottles() {
        return consecutiveThrottles;
    }

    /** Attempts whose outcome was recorded. */
    public long attempts() {
        return attempts;
    }

    public int inFlight() {
        return inFlight;
    }

    /** The last reply recorded, as sanitised text. */
    public Optional<String> lastReply() {
        return Optional.ofNullable(lastReply);
    }

    public Optional<Instant> lastAttemptAt() {
        return Optional.ofNullable(lastAttemptAt);
    }

    /** Whether the probe after a hold is in flight. */
    public boolean probing() {
        return probing;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DestinationState)) {
            return false;
        }
        DestinationState that = (DestinationState) o;
        return consecutiveThrottles == that.consecutiveThrottles && attempts == that.attempts
                && inFlight == that.inFlight && probing == that.probing && destination.equals(that.destination)
                && Objects.equals(heldUntil, that.heldUntil) && currentHold.equals(that.currentHold)
                && Objects.equals(lastReply, that.lastReply) && Objects.equals(lastAttemptAt, that.lastAttemptAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(destination, heldUntil, currentHold, consecutiveThrottles, attempts, inFlight,
                lastReply, lastAttemptAt, probing);
    }

    @Override
    public String toString() {
        return "DestinationState{" + destination + (heldUntil == null ? "" : ", heldUntil " + heldUntil)
                + ", hold " + currentHold + ", throttles " + consecutiveThrottles + ", attempts " + attempts
                + ", inFlight " + inFlight + (probing ? ", probing" : "")
                + (lastReply == null ? "" : ", last '" + lastReply + "'") + "}";
    }

    /** Builds a {@link DestinationState}; for stores that rebuild state from rows. */
    public static final class Builder {
        private final String destination;
        private Instant heldUntil;
        private Duration currentHold = Duration.ZERO;
        private int consecutiveThrottles;
        private long attempts;
        private int inFlight;
        private String lastReply;
        private Instant lastAttemptAt;
        private boolean probing;

        private Builder(String destination) {
            Preconditions.checkArgument(destination != null && !destination.isEmpty(), "destination must not be empty");
            this.destination = destination;
        }

        public Builder heldUntil(Optional<Instant> until) {
            this.heldUntil = until.orElse(null);
            return this;
        }

        public Builder currentHold(Duration hold) {
            Preconditions.checkArgument(hold != null && !hold.isNegative(), "currentHold must not be negative: %s", hold);
            this.currentHold = hold;
            return this;
        }

        public Builder consecutiveThrottles(int n) {
            Preconditions.checkArgument(n >= 0, "consecutiveThrottles must not be negative: %s", n);
            this.consecutiveThrottles = n;
            return this;
        }

        public Builder attempts(long n) {
            Preconditions.checkArgument(n >= 0, "attempts must not be negative: %s", n);
            this.attempts = n;
            return this;
        }

        public Builder inFlight(int n) {
            Preconditions.checkArgument(n >= 0, "inFlight must not be negative: %s", n);
            this.inFlight = n;
            return this;
        }

        public Builder lastReply(Optional<String> reply) {
            this.lastReply = reply.orElse(null);
            return this;
        }

        public Builder lastAttemptAt(Optional<Instant> at) {
            this.lastAttemptAt = at.orElse(null);
            return this;
        }

        public Builder probing(boolean p) {
            this.probing = p;
            return this;
        }

        public DestinationState build() {
            return new DestinationState(this);
        }
    }
}
