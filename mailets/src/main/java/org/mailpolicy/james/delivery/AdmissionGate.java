package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.mailpolicy.state.Admission;

/**
 * Waits out short admission refusals in the delivery thread instead of re-queuing the mail.
 *
 * <p>A refusal for a concurrency slot or for the rate limit's next opening usually ends within
 * milliseconds (an SMTP transaction finishes, the window slides), but a re-queued mail comes back
 * only at the refusal's instant: after the store's busy wait (seconds) for a slot, or, for the rate
 * limit, at the same instant as every other waiting mail, which then mostly miss the one opening and
 * go round again. Slots opened while no mail was there to take them are lost, and a throttled
 * destination drained well below its rate. So a delivery thread refused while this JVM has attempts
 * in flight to the same destination (a slot will be given back) or while the next opening is near
 * waits, up to {@code maxWait}, woken when an attempt finishes, and asks again; mail stays in the
 * queue meanwhile instead of being churned. A hold (its end far off, nothing in flight) is never
 * waited for here.
 *
 * <p>Waiting threads are bounded: per destination by its concurrency (more could not start anyway),
 * and overall by {@code maxWaiters}, so that mail for other destinations still finds threads.
 * Thread-safe.
 */
final class AdmissionGate {
    /** Long enough for an SMTP transaction on a good link, short enough not to starve other destinations. */
    static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(2);

    private final Clock clock;
    private final long maxWaitNanos;
    private final int maxWaiters;
    private final ReentrantLock lock = new ReentrantLock();
    /** Keys with attempts in flight or threads waiting; a key is dropped when it has neither. */
    private final Map<String, KeyState> keys = new HashMap<>();
    private int waitingTotal;

    /** One destination key's attempts granted here and not yet released, and the threads waiting for it. */
    private final class KeyState {
        final Condition released = lock.newCondition();
        int inFlight;
        int waiting;
        /** Counts releases, so that a release between a refusal and the wait is not missed. */
        long releases;
    }

    /**
     * @param clock      the clock admissions are decided with (for how far off a refusal's instant is)
     * @param maxWait    the longest one admission may wait here; zero never waits (single-threaded tests)
     * @param maxWaiters how many threads may wait at once, over all destinations
     */
    AdmissionGate(Clock clock, Duration maxWait, int maxWaiters) {
        this.clock = Preconditions.checkNotNull(clock, "clock");
        Preconditions.checkArgument(maxWait != null && !maxWait.isNegative(), "maxWait must not be negative: %s", maxWait);
        Preconditions.checkArgument(maxWaiters >= 0, "maxWaiters must not be negative: %s", maxWaiters);
        this.maxWaitNanos = maxWait.toNanos();
        this.maxWaiters = maxWaiters;
    }

    /** A gate that never waits: every refusal is returned at once. */
    static AdmissionGate noWait(Clock clock) {
        return new AdmissionGate(clock, Duration.ZERO, 0);
    }

    /**
     * Asks {@code admit} for admission to {@code key}, and again after waiting while the refusal is
     * short (see the class comment). Returns the grant, or the last refusal to re-queue the mail by.
     * A grant must be followed by {@link #released} once the attempt is over.
     *
     * @param concurrency the destination's concurrency: at most this many threads wait for it here
     */
    Admission admit(String key, int concurrency, Supplier<Admission> admit) throws InterruptedException {
        long deadline = System.nanoTime() + maxWaitNanos;
        KeyState waitingOn = null;
        lock.lock();
        try {
            while (true) {
                KeyState seen = keys.get(key);
                long seenReleases = seen == null ? 0 : seen.releases;
                lock.unlock();
                Admission admission;
                try {
                    admission = admit.get();
                } finally {
                    lock.lock();
                }
                KeyState state = keys.computeIfAbsent(key, k -> new KeyState());
                if (admission.isGranted()) {
                    state.inFlight++;
                    return admission;
                }
                long remaining = deadline - System.nanoTime();
                long untilNotBefore = Duration.between(clock.instant(), admission.notBefore().get()).toNanos();
                boolean releaseExpected = state.inFlight > 0;
                if (remaining <= 0 || (!releaseExpected && untilNotBefore > remaining)) {
                    return admission;
                }
                if (waitingOn == null) {
                    if (waitingTotal >= maxWaiters || state.waiting >= concurrency) {
                        return admission;
                    }
                    state.waiting++;
                    waitingTotal++;
                    waitingOn = state;
                }
                boolean releasedMeanwhile = seen != null && (state != seen || state.releases != seenReleases);
                if (!releasedMeanwhile) {
                    state.released.awaitNanos(Math.max(1_000_000L, Math.min(remaining, Math.max(0, untilNotBefore))));
                }
            }
        } finally {
            if (waitingOn != null) {
                waitingOn.waiting--;
                waitingTotal--;
            }
            forgetIfUnused(key);
            lock.unlock();
        }
    }

    /** The attempt a grant of {@link #admit} started is over (its slot is back in the store): wakes its waiters. */
    void released(String key) {
        lock.lock();
        try {
            KeyState state = keys.get(key);
            if (state == null) {
                return;
            }
            state.inFlight = Math.max(0, state.inFlight - 1);
            state.releases++;
            state.released.signalAll();
            forgetIfUnused(key);
        } finally {
            lock.unlock();
        }
    }

    private void forgetIfUnused(String key) {
        KeyState state = keys.get(key);
        if (state != null && state.inFlight == 0 && state.waiting == 0) {
            keys.remove(key);
        }
    }

    /** Threads waiting now, for tests. */
    int waiting() {
        lock.lock();
        try {
            return waitingTotal;
        } finally {
            lock.unlock();
        }
    }

    /** Keys with attempts in flight or threads waiting, for tests: the gate keeps nothing for idle keys. */
    int keys() {
        lock.lock();
        try {
            return keys.size();
        } finally {
            lock.unlock();
        }
    }
}
