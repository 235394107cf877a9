package org.mailpolicy.state;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;

/**
 * {@link DestinationStateStore} for one James node, in memory. Thread-safe: every operation runs
 * under one lock, which is cheap next to an SMTP connection and keeps each decision atomic, as a
 * SQL transaction will.
 */
public final class InMemoryDestinationStateStore implements DestinationStateStore {
    /** How long to come back after a refusal whose end is unknown (a slot held by a running attempt). */
    public static final Duration DEFAULT_BUSY_WAIT = Duration.ofSeconds(10);
    private static final int MAX_REPLY_CHARS = 500;

    private final Duration busyWait;
    private final Object lock = new Object();
    private final Map<String, DestinationState> states = new HashMap<>();
    /** Start instants of recent grants, per destination, for the sliding-window rate limit. */
    private final Map<String, Deque<Instant>> recentStarts = new HashMap<>();

    public InMemoryDestinationStateStore() {
        this(DEFAULT_BUSY_WAIT);
    }

    /** @param busyWait how long a caller refused for concurrency or a running probe waits before asking again */
    public InMemoryDestinationStateStore(Duration busyWait) {
        Preconditions.checkArgument(busyWait != null && !busyWait.isNegative() && !busyWait.isZero(),
                "busyWait must be positive: %s", busyWait);
        this.busyWait = busyWait;
    }

    @Override
    public Admission admit(DestinationPolicy policy, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            DestinationState s = stateOf(policy.name());
            Optional<Instant> heldUntil = s.heldUntil();
            boolean probe = false;
            if (heldUntil.isPresent()) {
                if (now.isBefore(heldUntil.get())) {
                    return Admission.waitUntil(heldUntil.get(), "destination " + policy.name() + " held until "
                            + heldUntil.get() + " after throttling" + s.lastReply().map(r -> ": " + r).orElse(""));
                }
                if (s.probing()) {
                    return Admission.waitUntil(now.plus(busyWait), "destination " + policy.name()
                            + ": probe after hold in flight");
                }
                probe = true;
            }
            if (s.inFlight() >= policy.concurrency()) {
                return Admission.waitUntil(now.plus(busyWait), "destination " + policy.name() + ": concurrency limit "
                        + policy.concurrency() + " reached");
            }
            Optional<RateLimit> rate = policy.rateLimit();
            Deque<Instant> starts = recentStarts.computeIfAbsent(policy.name(), k -> new ArrayDeque<>());
            if (rate.isPresent()) {
                Instant windowStart = now.minus(rate.get().per());
                while (!starts.isEmpty() && !starts.peekFirst().isAfter(windowStart)) {
                    starts.pollFirst();
                }
                if (starts.size() >= rate.get().count()) {
                    // The oldest start in the window leaves it exactly one period later.
                    return Admission.waitUntil(starts.peekFirst().plus(rate.get().per()), "destination "
                            + policy.name() + ": rate limit " + rate.get() + " reached");
                }
                starts.addLast(now);
            } else {
                starts.clear();
            }
            states.put(policy.name(), s.toBuilder().inFlight(s.inFlight() + 1).probing(probe).build());
            return probe ? Admission.probe() : Admission.granted();
        }
    }

    @Override
    public void finished(String destination, Instant now) {
        Preconditions.checkNotNull(destination, "destination");
        synchronized (lock) {
            DestinationState s = states.get(destination);
            if (s == null) {
                return;
            }
            // A probe that finishes without a recorded outcome is inconclusive: the next admit probes again.
            states.put(destination, s.toBuilder().inFlight(Math.max(0, s.inFlight() - 1)).probing(false).build());
        }
    }

    @Override
    public DestinationState recordThrottle(DestinationPolicy policy, String reply, Optional<Duration> hint, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(hint, "hint");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            DestinationState s = stateOf(policy.name());
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
            return put(b.build());
        }
    }

    @Override
    public DestinationState recordSuccess(DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            DestinationState s = stateOf(policy.name());
            DestinationState.Builder b = counted(s, reply, now);
            if (s.isHeldAt(now)) {
                // An attempt from before the hold got through: good news, but the throttle is newer.
                return put(b.build());
            }
            return put(b.heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0)
                    .currentHold(policy.throttleHold().shrink(s.currentHold())).build());
        }
    }

    @Override
    public DestinationState recordFailure(DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        synchronized (lock) {
            DestinationState s = stateOf(policy.name());
            DestinationState.Builder b = counted(s, reply, now);
            if (s.probing() && !s.isHeldAt(now)) {
                // The probe was answered, not throttled: the destination talks to us again.
                b.heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0);
            }
            return put(b.build());
        }
    }

    @Override
    public Optional<DestinationState> get(String destination) {
        synchronized (lock) {
            return Optional.ofNullable(states.get(destination));
        }
    }

    @Override
    public List<DestinationState> all() {
        synchronized (lock) {
            return ImmutableList.copyOf(new TreeMap<>(states).values());
        }
    }

    @Override
    public boolean releaseHold(String destination) {
        synchronized (lock) {
            DestinationState s = states.get(destination);
            if (s == null || !s.heldUntil().isPresent()) {
                return false;
            }
            states.put(destination, s.toBuilder().heldUntil(Optional.empty()).probing(false)
                    .consecutiveThrottles(0).build());
            return true;
        }
    }

    private DestinationState stateOf(String name) {
        DestinationState s = states.get(name);
        return s == null ? DestinationState.initial(name) : s;
    }

    private DestinationState put(DestinationState s) {
        states.put(s.destination(), s);
        return s;
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
