package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * {@link DestinationStateStore} for one James node, in memory: fast, and gone when James stops.
 * Thread-safe: every operation runs under one lock, which is cheap next to an SMTP connection and
 * keeps each decision atomic, as a SQL transaction does.
 *
 * <p>Idle keys are forgotten by a sweep that runs on {@link #admit} and the recording methods, at
 * most once per {@link #SWEEP_EVERY} of the callers' time: linear in the keys, once a minute.
 */
public final class InMemoryDestinationStateStore implements DestinationStateStore {
    /** How long to come back after a refusal whose end is unknown (a slot held by a running attempt). */
    public static final Duration DEFAULT_BUSY_WAIT = Duration.ofSeconds(10);
    /** The idle sweep runs at most this often. */
    public static final Duration SWEEP_EVERY = Duration.ofMinutes(1);

    private final Duration busyWait;
    private final Duration idleAfter;
    private final Object lock = new Object();
    private final Map<DestinationKey, Entry> entries = new HashMap<>();
    private Instant nextSweep = Instant.MIN;

    /** What is kept per key besides the state value: the starts within the rate period. */
    private static final class Entry implements RecentStarts {
        DestinationState state;
        /** Start instants within the last rate period, oldest first. */
        final Deque<Instant> starts = new ArrayDeque<>();
        /** The rate period the starts were last trimmed to. */
        Duration period = Duration.ZERO;

        Entry(DestinationState state) {
            this.state = state;
        }

        /** Drops the starts that left the period ending {@code now}; the deque is then this view. */
        RecentStarts within(Optional<RateLimit> rate, Instant now) {
            if (!rate.isPresent()) {
                starts.clear();
                return this;
            }
            Instant periodStart = now.minus(rate.get().per());
            while (!starts.isEmpty() && !starts.peekFirst().isAfter(periodStart)) {
                starts.pollFirst();
            }
            period = rate.get().per();
            return this;
        }

        @Override
        public int count() {
            return starts.size();
        }

        @Override
        public Instant whenFewerThan(int limit) {
            Iterator<Instant> it = starts.iterator();
            Instant leaving = it.next();
            for (int i = 1; i < starts.size() - limit + 1; i++) {
                leaving = it.next();
            }
            return leaving.plus(period);
        }
    }

    public InMemoryDestinationStateStore() {
        this(DEFAULT_BUSY_WAIT);
    }

    /** @param busyWait how long a caller refused for concurrency or a running probe waits before asking again */
    public InMemoryDestinationStateStore(Duration busyWait) {
        this(busyWait, DEFAULT_IDLE_AFTER);
    }

    /** @param idleAfter how long a key must be idle (see {@link DestinationStateStore}) before it is forgotten */
    public InMemoryDestinationStateStore(Duration busyWait, Duration idleAfter) {
        Preconditions.checkArgument(busyWait != null && !busyWait.isNegative() && !busyWait.isZero(),
                "busyWait must be positive: %s", busyWait);
        Preconditions.checkArgument(idleAfter != null && !idleAfter.isNegative() && !idleAfter.isZero(),
                "idleAfter must be positive: %s", idleAfter);
        this.busyWait = busyWait;
        this.idleAfter = idleAfter;
    }

    @Override
    public Admission admit(DestinationKey key, DestinationPolicy policy, Optional<Instant> reservation, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(reservation, "reservation");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            sweepIfDue(now);
            Entry e = entry(key);
            DestinationTransitions.Admitted a = DestinationTransitions.admit(e.state, policy,
                    e.within(policy.rateLimit(), now), reservation, busyWait, now);
            e.state = a.next();
            if (a.admission().isGranted() && policy.rateLimit().isPresent()) {
                e.starts.addLast(now);
            }
            return a.admission();
        }
    }

    @Override
    public void finished(DestinationKey key, Instant now) {
        Preconditions.checkNotNull(key, "key");
        synchronized (lock) {
            Entry e = entries.get(key);
            if (e != null) {
                e.state = DestinationTransitions.finished(e.state, now);
            }
        }
    }

    @Override
    public DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, ThrottleEffect effect,
                                           String reply, Optional<Duration> hint, Instant now) {
        Preconditions.checkNotNull(effect, "effect");
        Preconditions.checkNotNull(hint, "hint");
        return recorded(key, policy, now, e -> DestinationTransitions.throttled(e.state, policy, effect, reply, hint,
                e.within(policy.rateLimit(), now), now));
    }

    @Override
    public DestinationState recordSuccess(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        return recorded(key, policy, now, e -> DestinationTransitions.succeeded(e.state, policy, reply, now));
    }

    @Override
    public DestinationState recordFailure(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        return recorded(key, policy, now, e -> DestinationTransitions.failed(e.state, reply, now));
    }

    /** An outcome of an attempt to {@code key}: the transition's state replaces the entry's, under the lock. */
    private DestinationState recorded(DestinationKey key, DestinationPolicy policy, Instant now,
                                      java.util.function.Function<Entry, DestinationState> transition) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            sweepIfDue(now);
            Entry e = entry(key);
            return e.state = transition.apply(e);
        }
    }

    @Override
    public Optional<DestinationState> get(DestinationKey key) {
        Preconditions.checkNotNull(key, "key");
        synchronized (lock) {
            Entry e = entries.get(key);
            return e == null ? Optional.empty() : Optional.of(e.state);
        }
    }

    @Override
    public List<DestinationState> all() {
        synchronized (lock) {
            TreeMap<DestinationKey, DestinationState> sorted = new TreeMap<>();
            entries.forEach((k, e) -> sorted.put(k, e.state));
            return ImmutableList.copyOf(sorted.values());
        }
    }

    @Override
    public boolean releaseHold(DestinationKey key) {
        Preconditions.checkNotNull(key, "key");
        synchronized (lock) {
            Entry e = entries.get(key);
            if (e == null || !e.state.heldUntil().isPresent()) {
                return false;
            }
            e.state = DestinationTransitions.released(e.state);
            return true;
        }
    }

    /**
     * Takes {@code state} as its key's state, with nothing in flight and no probe running: a state
     * read back from a durable store after a restart, whose attempts died with the process.
     */
    void restore(DestinationState state) {
        Preconditions.checkNotNull(state, "state");
        synchronized (lock) {
            entry(DestinationKey.of(state.destination())).state = state.toBuilder().inFlight(0).probing(false).build();
        }
    }

    /** How many keys are remembered; for tests and metrics. */
    public int size() {
        synchronized (lock) {
            return entries.size();
        }
    }

    /** Forgets every idle key now, whenever the last sweep ran; returns how many. */
    public int forgetIdle(Instant now) {
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            nextSweep = now.plus(SWEEP_EVERY);
            int forgotten = 0;
            for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
                if (DestinationTransitions.isIdle(it.next().state, idleAfter, now)) {
                    it.remove();
                    forgotten++;
                }
            }
            return forgotten;
        }
    }

    private void sweepIfDue(Instant now) {
        if (!now.isBefore(nextSweep)) {
            forgetIdle(now);
        }
    }

    /** The key's entry, made fresh if it was never seen or was forgotten. */
    private Entry entry(DestinationKey key) {
        return entries.computeIfAbsent(key, k -> new Entry(DestinationState.initial(k.asString())));
    }
}
