package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to "may one delivery attempt to this destination start now?": granted (a slot is
 * taken; give it back with {@link DestinationStateStore#finished}), or wait until an instant, with
 * the reason to log.
 */
public final class Admission {
    private static final Admission GRANTED = new Admission(true, false, null, false, "granted");
    private static final Admission PROBE = new Admission(true, true, null, false, "probe after hold");

    private final boolean granted;
    private final boolean probe;
    private final Instant notBefore;
    private final boolean reservation;
    private final String reason;

    private Admission(boolean granted, boolean probe, Instant notBefore, boolean reservation, String reason) {
        this.granted = granted;
        this.probe = probe;
        this.notBefore = notBefore;
        this.reservation = reservation;
        this.reason = reason;
    }

    public static Admission granted() {
        return GRANTED;
    }

    /** Granted as the single probe that tests whether a destination's hold may end. */
    public static Admission probe() {
        return PROBE;
    }

    /** Not now: try again at {@code until}; {@code reason} says why (held, probe in flight, limits). */
    public static Admission waitUntil(Instant until, String reason) {
        Preconditions.checkNotNull(until, "until");
        Preconditions.checkArgument(reason != null && !reason.isEmpty(), "reason must not be empty");
        return new Admission(false, false, until, false, reason);
    }

    /**
     * Not now: {@code place} in the destination's line is this attempt's. Pass it back as the
     * reservation when asking again at or after that instant, and it is honoured.
     */
    public static Admission reserved(Instant place, String reason) {
        Preconditions.checkNotNull(place, "place");
        Preconditions.checkArgument(reason != null && !reason.isEmpty(), "reason must not be empty");
        return new Admission(false, false, place, true, reason);
    }

    /** Whether this refusal gave the attempt a place in line ({@link #notBefore()}), to pass back when asking again. */
    public boolean isReservation() {
        return reservation;
    }

    public boolean isGranted() {
        return granted;
    }

    /** Whether this grant is the probe after a hold: its outcome decides whether the hold ends. */
    public boolean isProbe() {
        return probe;
    }

    /** When to ask again; empty when granted. */
    public Optional<Instant> notBefore() {
        return Optional.ofNullable(notBefore);
    }

    public String reason() {
        return reason;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Admission)) {
            return false;
        }
        Admission that = (Admission) o;
        return granted == that.granted && probe == that.probe && Objects.equals(notBefore, that.notBefore)
                && reservation == that.reservation && reason.equals(that.reason);
    }

    @Override
    public int hashCode() {
        return Objects.hash(granted, probe, notBefore, reservation, reason);
    }

    @Override
    public String toString() {
        return granted ? reason : (reservation ? "reserved " : "wait until ") + notBefore + ": " + reason;
    }
}
