package org.mailpolicy.parking;

import java.time.Instant;
import java.util.Optional;

/**
 * One destination's parked mail, as operators see it: how many wait, how many are released and not
 * yet delivered (on the queue or in an attempt), since when the oldest waits, and when the next is due.
 */
public final class ParkedSummary {
    private final String destination;
    private final long parked;
    private final long released;
    private final Optional<Instant> oldest;
    private final Optional<Instant> nextDue;

    public ParkedSummary(String destination, long parked, long released, Optional<Instant> oldest,
                         Optional<Instant> nextDue) {
        this.destination = destination;
        this.parked = parked;
        this.released = released;
        this.oldest = oldest;
        this.nextDue = nextDue;
    }

    public String destination() {
        return destination;
    }

    /** Parked, not released: waiting for their due time (or for their destination's hold to end). */
    public long parked() {
        return parked;
    }

    /** Released and not yet finished: a copy is on the outgoing queue or being delivered. */
    public long released() {
        return released;
    }

    /** When the longest-waiting of all (parked or released) was parked. */
    public Optional<Instant> oldest() {
        return oldest;
    }

    /** The earliest due time of those still parked. */
    public Optional<Instant> nextDue() {
        return nextDue;
    }

    @Override
    public String toString() {
        return "ParkedSummary{" + destination + ": " + parked + " parked, " + released + " released, oldest "
                + oldest.orElse(null) + ", next due " + nextDue.orElse(null) + "}";
    }
}
