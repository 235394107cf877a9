package org.mailpolicy.state;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The fields of a destination's state that are worth a database write when they change: a hold and
 * its length, the throttles in a row and the learned pace (what a restart must find again), and, for
 * a row the nodes of a cluster share, whether a probe runs (what only a transaction may change).
 * Everything else (counts, the last reply, slots in flight) changes with every attempt and is kept in
 * memory. Compared by value: a store writes when the part before and after an outcome differ.
 */
final class DurablePart {
    private final Optional<Instant> heldUntil;
    private final Duration currentHold;
    private final int consecutiveThrottles;
    private final Optional<Instant> holdStartedAt;
    private final Optional<Pace> pace;
    private final boolean probing;

    private DurablePart(DestinationState s, boolean probing) {
        this.heldUntil = s.heldUntil();
        this.currentHold = s.currentHold();
        this.consecutiveThrottles = s.consecutiveThrottles();
        this.holdStartedAt = s.holdStartedAt();
        this.pace = s.pace();
        this.probing = probing;
    }

    /** What one node writes through to its own file: the probe dies with the process, so it is not part of it. */
    static DurablePart forRestart(DestinationState s) {
        return new DurablePart(s, false);
    }

    /** What a cluster's shared row holds that only a transaction may change: the restart's part and the probe. */
    static DurablePart forSharedRow(DestinationState s) {
        return new DurablePart(s, s.probing());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DurablePart)) {
            return false;
        }
        DurablePart d = (DurablePart) o;
        return heldUntil.equals(d.heldUntil) && currentHold.equals(d.currentHold)
                && consecutiveThrottles == d.consecutiveThrottles && holdStartedAt.equals(d.holdStartedAt)
                && pace.equals(d.pace) && probing == d.probing;
    }

    @Override
    public int hashCode() {
        return Objects.hash(heldUntil, currentHold, consecutiveThrottles, holdStartedAt, pace, probing);
    }
}
