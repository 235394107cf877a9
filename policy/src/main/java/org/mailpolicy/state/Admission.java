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
    private final boolean granted;
    private final boolean probe;
    private final Instant notBefore;
    private final boolean reservation;
    private final String reason;
    private final int connections;

    private Admission(boolean granted, boolean probe, Instant notBefore, boolean reservation, String reason,
                      int connections) {
        this.granted = granted;
        this.probe = probe;
        this.notBefore = notBefore;
        this.reservation = reservation;
        this.reason = reason;
        this.connections = connections;
    }

    /**
     * Granted; {@code connections} is the destination's effective concurrency now: the most connections
     * that may be open to it, those kept idle for reuse included.
     */
    public static Admission granted(int connections) {
        return new Admission(true, false, null, false, "granted", checkConnections(connections));
    }

    /** Granted as the single probe that tests whether a destination's hold may end; see {@link #granted(int)}. */
    public static Admission probe(int connections) {
        return new Admission(true, true, null, false, "probe after hold", checkConnections(connections));
    }

    private static int checkConnections(int connections) {
        Preconditions.checkArgument(connections >= 1, "connections must be at least 1: %s", connections);
        return connections;
    }

    /** Not now: try again at {@code until}; {@code reason} says why (held, probe in flight, limits). */
    public static Admission waitUntil(Instant until, String reason) {
        Preconditions.checkNotNull(until, "until");
        Preconditions.checkArgument(reason != null && !reason.isEmpty(), "reason must not be empty");
        return new Admission(false, false, until, false, reason, 0);
    }

    /**
     * Not now: {@code place} in the destination's line is this attempt's. Pass it back as the
     * reservation when asking again at or after that instant, and it is honoured.
     */
    public static Admission reserved(Instant place, String reason) {
        Preconditions.checkNotNull(place, "place");
        Preconditions.checkArgument(reason != null && !reason.isEmpty(), "reason must not be empty");
        return new Admission(false, false, place, true, reason, 0);
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

    /** For a grant: the most connections that may be open to the destination now, idle ones included; 0 for a refusal. */
    public int connections() {
        return connections;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Admission)) {
            return false;
        }
        Admission that = (Admission) o;
        return granted == that.granted && probe == that.probe && Objects.equals(notBefore, that.notBefore)
                && reservation == that.reservation && reason.equals(that.reason) && connections == that.connections;
    }

    @Override
    public int hashCode() {
        return Objects.hash(granted, probe, notBefore, reservation, reason, connections);
    }

    @Override
    public String toString() {
        return granted ? reason + " (connections " + connections + ")" : (reservation ? "reserved " : "wait until ") + notBefore + ": " + reason;
    }
}
