package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * Per-destination delivery state: holds after throttling, the probe that ends a hold, concurrency
 * and rate limits. State is kept per {@link DestinationKey} (a named destination's name, or an
 * unlisted recipient domain under the default's settings); the {@link DestinationPolicy} passed
 * with it gives the settings (hold lengths, concurrency, rate). Every method is atomic per key, so
 * that an implementation over SQL can do each in one transaction ({@code SELECT ... FOR UPDATE}
 * then {@code UPDATE}).
 *
 * <p>Protocol for one attempt: {@link #admit}; if granted, connect and deliver; record the outcome
 * with {@link #recordThrottle}, {@link #recordSuccess} or {@link #recordFailure}; then always
 * {@link #finished} (in a {@code finally}) to give the slot back.
 *
 * <p><b>Idle keys are forgotten.</b> A key with no hold in force (none, or one that ended at least
 * the idle period ago), nothing in flight, no probe, no rate-limit window still open, and no
 * activity for the idle period ({@link #DEFAULT_IDLE_AFTER}) is dropped; it comes back as
 * {@link DestinationState#initial}, which is what it would behave like anyway (not held, nothing in
 * flight). Only the memory of past throttles ({@link DestinationState#currentHold()}) and the
 * counters are lost. Without this, one key per recipient domain would grow without bound.
 */
public interface DestinationStateStore {
    /** How long a key must be idle before it is forgotten. */
    Duration DEFAULT_IDLE_AFTER = Duration.ofHours(1);

    /**
     * Whether one delivery attempt to {@code key} may start now. Not while it is held; after a hold
     * ends, one probe at a time until an attempt succeeds; never more than {@code policy}'s
     * concurrency in flight, nor more starts than its rate limit. A grant takes an in-flight slot.
     * A refusal may give the attempt a place in the destination's line ({@link Admission#isReservation()}):
     * passed back as {@code reservation} once its time has come, that place is honoured without
     * queueing again behind everyone refused since.
     */
    Admission admit(DestinationKey key, DestinationPolicy policy, Optional<Instant> reservation, Instant now);

    /** {@link #admit(DestinationKey, DestinationPolicy, Optional, Instant)} for an attempt that holds no reservation. */
    default Admission admit(DestinationKey key, DestinationPolicy policy, Instant now) {
        return admit(key, policy, Optional.empty(), now);
    }

    /** Gives back the slot an admitted attempt took. A probe that finishes unrecorded is inconclusive. */
    void finished(DestinationKey key, Instant now);

    /**
     * The destination throttled us; {@code effect} says what shrinks: see
     * {@link DestinationTransitions#throttled}.
     */
    DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, ThrottleEffect effect, String reply,
                                    Optional<Duration> hint, Instant now);

    /** {@link #recordThrottle(DestinationKey, DestinationPolicy, ThrottleEffect, String, Optional, Instant)} for a hold. */
    default DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, String reply,
                                            Optional<Duration> hint, Instant now) {
        return recordThrottle(key, policy, ThrottleEffect.HOLD, reply, hint, now);
    }

    /** An attempt got through: ends a hold whose time is over and shrinks the next hold. */
    DestinationState recordSuccess(DestinationKey key, DestinationPolicy policy, String reply, Instant now);

    /**
     * Any other outcome (a bounce, a retry, a connection failure): counted, and the reply kept. A
     * probe that ends this way ends the hold, since the destination answered without throttling.
     */
    DestinationState recordFailure(DestinationKey key, DestinationPolicy policy, String reply, Instant now);

    Optional<DestinationState> get(DestinationKey key);

    /** Every key remembered (not forgotten as idle), in key order. */
    List<DestinationState> all();

    /** An operator ends a hold now. True if the key was held. */
    boolean releaseHold(DestinationKey key);

    // ---- Named destinations: the key is the destination's name ------------------------------------

    /**
     * {@link #admit(DestinationKey, DestinationPolicy, Instant)} for a named destination.
     *
     * @throws IllegalArgumentException for the default destination, whose state is per recipient
     *                                  domain: use {@link DestinationKey#forDelivery}
     */
    default Admission admit(DestinationPolicy policy, Instant now) {
        return admit(named(policy), policy, now);
    }

    default DestinationState recordThrottle(DestinationPolicy policy, String reply, Optional<Duration> hint, Instant now) {
        return recordThrottle(named(policy), policy, reply, hint, now);
    }

    default DestinationState recordSuccess(DestinationPolicy policy, String reply, Instant now) {
        return recordSuccess(named(policy), policy, reply, now);
    }

    default DestinationState recordFailure(DestinationPolicy policy, String reply, Instant now) {
        return recordFailure(named(policy), policy, reply, now);
    }

    /** {@link #finished(DestinationKey, Instant)} with the key as text. */
    default void finished(String key, Instant now) {
        finished(DestinationKey.of(key), now);
    }

    /** {@link #get(DestinationKey)} with the key as text ({@code aol}, {@code example.org}). */
    default Optional<DestinationState> get(String key) {
        return get(DestinationKey.of(key));
    }

    /** {@link #releaseHold(DestinationKey)} with the key as text ({@code aol}, {@code example.org}). */
    default boolean releaseHold(String key) {
        return releaseHold(DestinationKey.of(key));
    }

    private static DestinationKey named(DestinationPolicy policy) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkArgument(!DestinationKey.isDefault(policy),
                "the default destination's state is per recipient domain: pass a DestinationKey");
        return DestinationKey.of(policy);
    }
}
