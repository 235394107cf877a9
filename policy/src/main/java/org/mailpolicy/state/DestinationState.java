package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;

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
    private final Instant holdStartedAt;
    private final Instant lastActivity;
    private final Instant nextStartAt;
    private final Instant rateWindowEnd;
    private final Instant overflowEndAt;
    private final Pace pace;

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
        this.holdStartedAt = b.holdStartedAt;
        this.lastActivity = b.lastActivity;
        this.nextStartAt = b.nextStartAt;
        this.rateWindowEnd = b.rateWindowEnd;
        this.overflowEndAt = b.overflowEndAt;
        this.pace = b.pace;
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
        b.holdStartedAt = holdStartedAt;
        b.lastActivity = lastActivity;
        b.nextStartAt = nextStartAt;
        b.rateWindowEnd = rateWindowEnd;
        b.overflowEndAt = overflowEndAt;
        b.pace = pace;
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

    /** When the current (or last) hold began: the throttle that started it, not one that only extended it. */
    public Optional<Instant> holdStartedAt() {
        return Optional.ofNullable(holdStartedAt);
    }

    /** The last operation on the key (an admission asked, an outcome recorded, a slot given back). */
    public Optional<Instant> lastActivity() {
        return Optional.ofNullable(lastActivity);
    }

    /**
     * The first place in the destination's line not yet given to anyone: starts are spaced evenly at
     * the effective rate, and a refused attempt is given the next free place (a reservation it
     * carries back), so attempts refused together come back one pace apart, never in a burst.
     */
    public Optional<Instant> nextStartAt() {
        return Optional.ofNullable(nextStartAt);
    }

    /**
     * Where the line's overflow ends: attempts refused while the line is already long get no place
     * (it would fix today's pace for them) but a time to ask again, half a pace after the one told
     * before, so that they come back spread out at twice the pace instead of all at the line's end.
     * Kept in memory only: the SQL store does not keep it, and without it the overflow starts afresh
     * at the line's end, which costs re-queued mail, never a wrong admission.
     */
    public Optional<Instant> overflowEndAt() {
        return Optional.ofNullable(overflowEndAt);
    }

    /** When the last start leaves its rate period; the key is not forgotten before. */
    public Optional<Instant> rateWindowEnd() {
        return Optional.ofNullable(rateWindowEnd);
    }

    /** The pace learned so far; empty until the destination's first attempt. */
    public Optional<Pace> pace() {
        return Optional.ofNullable(pace);
    }

    /** The pace learned so far, or where {@code policy} starts a destination never seen. */
    public Pace paceUnder(DestinationPolicy policy, Instant now) {
        return pace != null ? pace : Pace.initial(policy, now);
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
                && Objects.equals(lastReply, that.lastReply) && Objects.equals(lastAttemptAt, that.lastAttemptAt)
                && Objects.equals(holdStartedAt, that.holdStartedAt)
                && Objects.equals(lastActivity, that.lastActivity) && Objects.equals(nextStartAt, that.nextStartAt)
                && Objects.equals(rateWindowEnd, that.rateWindowEnd) && Objects.equals(overflowEndAt, that.overflowEndAt)
                && Objects.equals(pace, that.pace);
    }

    @Override
    public int hashCode() {
        return Objects.hash(destination, heldUntil, currentHold, consecutiveThrottles, attempts, inFlight,
                lastReply, lastAttemptAt, probing, holdStartedAt, lastActivity, nextStartAt, rateWindowEnd, overflowEndAt, pace);
    }

    @Override
    public String toString() {
        return "DestinationState{" + destination + (heldUntil == null ? "" : ", heldUntil " + heldUntil)
                + ", hold " + currentHold + ", throttles " + consecutiveThrottles + ", attempts " + attempts
                + ", inFlight " + inFlight + (probing ? ", probing" : "") + (pace == null ? "" : ", " + pace)
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
        private Instant holdStartedAt;
        private Instant lastActivity;
        private Instant nextStartAt;
        private Instant rateWindowEnd;
        private Instant overflowEndAt;
        private Pace pace;

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

        public Builder holdStartedAt(Optional<Instant> at) {
            this.holdStartedAt = at.orElse(null);
            return this;
        }

        public Builder lastActivity(Optional<Instant> at) {
            this.lastActivity = at.orElse(null);
            return this;
        }

        public Builder nextStartAt(Optional<Instant> at) {
            this.nextStartAt = at.orElse(null);
            return this;
        }

        public Builder rateWindowEnd(Optional<Instant> at) {
            this.rateWindowEnd = at.orElse(null);
            return this;
        }

        public Builder overflowEndAt(Optional<Instant> at) {
            this.overflowEndAt = at.orElse(null);
            return this;
        }

        public Builder pace(Optional<Pace> p) {
            this.pace = p.orElse(null);
            return this;
        }

        public DestinationState build() {
            return new DestinationState(this);
        }
    }
}
