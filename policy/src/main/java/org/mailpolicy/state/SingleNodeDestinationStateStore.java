package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * The destination state of one James node: every decision in memory, and what must survive a
 * restart written through to the node's own database file.
 *
 * <p>Admission runs for every attempt (and again for each mail that waits its turn), so on one node
 * it stays in memory: a transaction per admission and per finished attempt was most of the
 * plugin's cost per message. In-flight slots, probes and the starts of the rate period need no
 * durability: they die with the process anyway. What must outlive a restart is what the
 * destination told us: a hold and its length, the throttles in a row, and the learned pace (a
 * restart must not burst at the policy's ceilings into a receiver that asked us to slow down).
 * Those are written through whenever an outcome changes them, which is rare next to admissions;
 * counters and the last reply are kept in memory only.
 *
 * <p>Only for a database this process owns (the embedded H2 file): nodes of a cluster share their
 * state through {@link JdbcDestinationStateStore} instead.
 */
public final class SingleNodeDestinationStateStore implements DestinationStateStore {
    private static final System.Logger LOGGER = System.getLogger(SingleNodeDestinationStateStore.class.getName());

    private final InMemoryDestinationStateStore memory;
    private final JdbcDestinationStateStore durable;
    private final Clock clock;

    private SingleNodeDestinationStateStore(InMemoryDestinationStateStore memory, JdbcDestinationStateStore durable,
                                            Clock clock) {
        this.memory = memory;
        this.durable = durable;
        this.clock = clock;
    }

    /**
     * The store over {@code durable}, with the holds and pace it kept read back into memory; the
     * idle rows are dropped first. {@code clock} dates an operator's release of a hold.
     */
    public static SingleNodeDestinationStateStore over(JdbcDestinationStateStore durable, Clock clock) {
        return over(durable, clock, JdbcDestinationStateStore.DEFAULT_BUSY_WAIT, DEFAULT_IDLE_AFTER);
    }

    /** As {@link #over(JdbcDestinationStateStore, Clock)}, with the memory's busy wait and idle period (see {@link InMemoryDestinationStateStore}). */
    public static SingleNodeDestinationStateStore over(JdbcDestinationStateStore durable, Clock clock, Duration busyWait,
                                                       Duration idleAfter) {
        Preconditions.checkNotNull(durable, "durable");
        Preconditions.checkNotNull(clock, "clock");
        Instant now = clock.instant();
        InMemoryDestinationStateStore memory = new InMemoryDestinationStateStore(busyWait, idleAfter);
        durable.forgetIdle(now);
        durable.all().forEach(memory::restore);
        return new SingleNodeDestinationStateStore(memory, durable, clock);
    }

    @Override
    public Admission admit(DestinationKey key, DestinationPolicy policy, Optional<Instant> reservation, Instant now) {
        return memory.admit(key, policy, reservation, toMillis(now));
    }

    @Override
    public void finished(DestinationKey key, Instant now) {
        memory.finished(key, toMillis(now));
    }

    @Override
    public DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, ThrottleEffect effect,
                                           String reply, Optional<Duration> hint, Instant now) {
        Optional<DestinationState> before = memory.get(key);
        return keptIfChanged(before, memory.recordThrottle(key, policy, effect, reply, hint, toMillis(now)), now);
    }

    @Override
    public DestinationState recordSuccess(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Optional<DestinationState> before = memory.get(key);
        return keptIfChanged(before, memory.recordSuccess(key, policy, reply, toMillis(now)), now);
    }

    @Override
    public DestinationState recordFailure(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Optional<DestinationState> before = memory.get(key);
        return keptIfChanged(before, memory.recordFailure(key, policy, reply, toMillis(now)), now);
    }

    @Override
    public Optional<DestinationState> get(DestinationKey key) {
        return memory.get(key);
    }

    @Override
    public List<DestinationState> all() {
        return memory.all();
    }

    @Override
    public boolean releaseHold(DestinationKey key) {
        boolean released = memory.releaseHold(key);
        if (released) {
            memory.get(key).ifPresent(s -> keep(s, clock.instant()));
        }
        return released;
    }

    /**
     * Decisions are dated to the millisecond, as the file keeps them, so that a restart reads back
     * exactly the hold that was decided (and mail due at its end is due at the same instant).
     */
    private static Instant toMillis(Instant now) {
        return now.truncatedTo(ChronoUnit.MILLIS);
    }

    /** How many keys are remembered; for tests and metrics. */
    public int size() {
        return memory.size();
    }

    /**
     * Writes {@code after} through when what must survive a restart changed. Two outcomes of one key
     * may race here; both states are complete, and the last write is at least as new as the hold it
     * carries, which is all a restart needs.
     */
    private DestinationState keptIfChanged(Optional<DestinationState> before, DestinationState after, Instant now) {
        if (!before.map(DurablePart::forRestart).equals(Optional.of(DurablePart.forRestart(after)))) {
            keep(after, now);
        }
        return after;
    }

    /** A failed write loses only durability: the decision stands in memory, and the next change writes again. */
    private void keep(DestinationState state, Instant now) {
        try {
            durable.save(state, now);
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the state of destination " + state.destination()
                    + " is kept in memory but was not saved, so a restart would forget it: " + e.getMessage(), e);
        }
    }
}
