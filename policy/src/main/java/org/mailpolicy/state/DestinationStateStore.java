package org.mailpolicy.state;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;

/**
 * Shared, per-destination delivery state: holds after throttling, the probe that ends a hold,
 * concurrency and rate limits. Every method is atomic per destination, so that an implementation
 * over SQL can do each in one transaction ({@code SELECT ... FOR UPDATE} then {@code UPDATE}).
 *
 * <p>Protocol for one attempt: {@link #admit}; if granted, connect and deliver; record the outcome
 * with {@link #recordThrottle}, {@link #recordSuccess} or {@link #recordFailure}; then always
 * {@link #finished} (in a {@code finally}) to give the slot back.
 */
public interface DestinationStateStore {

    /**
     * Whether one delivery attempt may start now. Not while the destination is held; after a hold
     * ends, one probe at a time until an attempt succeeds; never more than the destination's
     * concurrency in flight, nor more starts than its rate limit. A grant takes an in-flight slot.
     */
    Admission admit(DestinationPolicy policy, Instant now);

    /** Gives back the slot an admitted attempt took. A probe that finishes unrecorded is inconclusive. */
    void finished(String destination, Instant now);

    /**
     * The destination throttled us: start the hold (the policy's initial hold) or grow it (times
     * growth, up to max), and at least {@code hint} (itself bounded by the policy's max). A throttle received while a hold is already
     * running (from a connection that started before it) extends nothing but the hint: simultaneous
     * connections must not multiply the hold.
     */
    DestinationState recordThrottle(DestinationPolicy policy, String reply, Optional<Duration> hint, Instant now);

    /** An attempt got through: ends a hold whose time is over and shrinks the next hold. */
    DestinationState recordSuccess(DestinationPolicy policy, String reply, Instant now);

    /**
     * Any other outcome (a bounce, a retry, a connection failure): counted, and the reply kept. A
     * probe that ends this way ends the hold, since the destination answered without throttling.
     */
    DestinationState recordFailure(DestinationPolicy policy, String reply, Instant now);

    Optional<DestinationState> get(String destination);

    /** Every destination seen, by name. */
    List<DestinationState> all();

    /** An operator ends a hold now. True if the destination was held. */
    boolean releaseHold(String destination);
}
