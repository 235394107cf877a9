package org.mailpolicy.state;

import com.google.common.base.CharMatcher;
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
    private static final int MAX_REPLY_CHARS = 500;

    private final Duration busyWait;
    private final Duration idleAfter;
    private final Object lock = new Object();
    private final Map<DestinationKey, Entry> entries = new HashMap<>();
    private Instant nextSweep = Instant.MIN;

    /** What is kept per key besides the visible state. */
    private static final class Entry {
        DestinationState state;
        /** The last operation on the key (admission asked, outcome recorded, slot given back). */
        Instant lastActivity;
        /** Start instants of recent grants, for the sliding-window rate limit. */
        final Deque<Instant> starts = new ArrayDeque<>();
        /** When the last grant leaves its rate-limit window; the key is not forgotten before. */
        Instant rateWindowEnd;

        Entry(DestinationState state, Instant now) {
            this.state = state;
            this.lastActivity = now;
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
    public Admission admit(DestinationKey key, DestinationPolicy policy, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            sweepIfDue(now);
            Entry e = entry(key, now);
            DestinationState s = e.state;
            Optional<Instant> heldUntil = s.heldUntil();
            boolean probe = false;
            if (heldUntil.isPresent()) {
                if (now.isBefore(heldUntil.get())) {
                    return Admission.waitUntil(heldUntil.get(), "destination " + key + " held until "
                            + heldUntil.get() + " after throttling" + s.lastReply().map(r -> ": " + r).orElse(""));
                }
                if (s.probing()) {
                    return Admission.waitUntil(now.plus(busyWait), "destination " + key + ": probe after hold in flight");
                }
                probe = true;
            }
            if (s.inFlight() >= policy.concurrency()) {
                return Admission.waitUntil(now.plus(busyWait), "destination " + key + ": concurrency limit "
                        + policy.concurrency() + " reached");
            }
            Optional<RateLimit> rate = policy.rateLimit();
            Deque<Instant> starts = e.starts;
            if (rate.isPresent()) {
                Instant windowStart = now.minus(rate.get().per());
                while (!starts.isEmpty() && !starts.peekFirst().isAfter(windowStart)) {
                    starts.pollFirst();
                }
                if (starts.size() >= rate.get().count()) {
                    // The oldest start in the window leaves it exactly one period later.
                    return Admission.waitUntil(starts.peekFirst().plus(rate.get().per()), "destination "
                            + key + ": rate limit " + rate.get() + " reached");
                }
                starts.addLast(now);
                Instant windowEnd = now.plus(rate.get().per());
                if (e.rateWindowEnd == null || windowEnd.isAfter(e.rateWindowEnd)) {
                    e.rateWindowEnd = windowEnd;
                }
            } else {
                starts.clear();
            }
            e.state = s.toBuilder().inFlight(s.inFlight() + 1).probing(probe).build();
            return probe ? Admission.probe() : Admission.granted();
        }
    }

    @Override
    public void finished(DestinationKey key, Instant now) {
        Preconditions.checkNotNull(key, "key");
        synchronized (lock) {
            Entry e = entries.get(key);
            if (e == null) {
                return;
            }
            touch(e, now);
            // A probe that finishes without a recorded outcome is inconclusive: the next admit probes again.
            e.state = e.state.toBuilder().inFlight(Math.max(0, e.state.inFlight() - 1)).probing(false).build();
        }
    }

    @Override
    public DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, String reply,
                                           Optional<Duration> hint, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(hint, "hint");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            sweepIfDue(now);
            Entry e = entry(key, now);
            DestinationState s = e.state;
            DestinationState.Builder b = counted(s, reply, now).probing(false);
            Duration hintLength = policy.throttleHold().boundedHint(hint);
            if (s.isHeldAt(now)) {
                // A connection that started before the hold was answered late: the hold already
                // accounts for this throttle; only a longer hint may lengthen it.
                Instant byHint = now.plus(hintLength);
                if (byHint.isAfter(s.heldUntil().get())) {
                    b.heldUntil(Optional.of(byHint));
                }
            } else {
                Duration hold = policy.throttleHold().next(s.currentHold(), hint);
                b.currentHold(hold).heldUntil(Optional.of(now.plus(hold)))
                        .consecutiveThrottles(s.consecutiveThrottles() + 1);
            }
            return e.state = b.build();
        }
    }

    @Override
    public DestinationState recordSuccess(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            sweepIfDue(now);
            Entry e = entry(key, now);
            DestinationState s = e.state;
            DestinationState.Builder b = counted(s, reply, now);
            if (s.isHeldAt(now)) {
                // An attempt from before the hold got through: good news, but the throttle is newer.
                return e.state = b.build();
            }
            return e.state = b.heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0)
                    .currentHold(policy.throttleHold().shrink(s.currentHold())).build();
        }
    }

    @Override
    public DestinationState recordFailure(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            sweepIfDue(now);
            Entry e = entry(key, now);
            DestinationState s = e.state;
            DestinationState.Builder b = counted(s, reply, now);
            if (s.probing() && !s.isHeldAt(now)) {
                // The probe was answered, not throttled: the destination talks to us again.
                b.heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0);
            }
            return e.state = b.build();
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
            e.state = e.state.toBuilder().heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0).build();
            return true;
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
                if (isIdle(it.next(), now)) {
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

    private boolean isIdle(Entry e, Instant now) {
        DestinationState s = e.state;
        Instant cutoff = now.minus(idleAfter);
        return s.inFlight() == 0 && !s.probing()
                && (!s.heldUntil().isPresent() || !s.heldUntil().get().isAfter(cutoff))
                && !e.lastActivity.isAfter(cutoff)
                && (e.rateWindowEnd == null || !e.rateWindowEnd.isAfter(now));
    }

    /** The key's entry, made fresh if it was never seen or was forgotten; marks the key active. */
    private Entry entry(DestinationKey key, Instant now) {
        Entry e = entries.get(key);
        if (e == null) {
            e = new Entry(DestinationState.initial(key.asString()), now);
            entries.put(key, e);
        }
        touch(e, now);
        return e;
    }

    private static void touch(Entry e, Instant now) {
        if (now != null && now.isAfter(e.lastActivity)) {
            e.lastActivity = now;
        }
    }

    private static DestinationState.Builder counted(DestinationState s, String reply, Instant now) {
        return s.toBuilder().attempts(s.attempts() + 1).lastAttemptAt(Optional.of(now))
                .lastReply(Optional.ofNullable(reply).map(InMemoryDestinationStateStore::sanitise));
    }

    /** Remote text ends up in logs and WebAdmin: no control characters, bounded. */
    static String sanitise(String reply) {
        String t = CharMatcher.javaIsoControl().replaceFrom(reply, ' ').trim();
        return t.length() > MAX_REPLY_CHARS ? t.substring(0, MAX_REPLY_CHARS) + "..." : t;
    }
}
