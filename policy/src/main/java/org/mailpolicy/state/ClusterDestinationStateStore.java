package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * The destination state of one node of a cluster that shares a PostgreSQL database: admission in
 * memory within slots the node leases from the database, the rare decisions in the database.
 *
 * <p><b>Why.</b> With one transaction per admission and per finished attempt, every delivery
 * thread of every node waited on the destination's row lock ({@code SELECT ... FOR UPDATE}): the
 * plugin on PostgreSQL ran at a tenth of its speed on H2. Here a node leases a share of the
 * destination's concurrency in chunks (one short transaction, {@link JdbcDestinationStateStore#lease})
 * and admits and finishes in memory within it. The database counts every node's leased slots as in
 * flight, whether in use or not, so the sum of the leases never passes the concurrency.
 *
 * <p><b>Leases.</b> A lease row carries the node, its slots, whether it wants more, and an expiry
 * that the node's heartbeat (every {@code beatEvery}, default {@value #DEFAULT_BEAT_MILLIS} ms)
 * renews to {@code leaseFor} ahead (default 30 s): a dead node's share returns once that has passed.
 * A node that stops renewing (database unreachable) stops admitting from its lease after half of
 * {@code leaseFor} from before its last renewal, before the database could give the slots to another
 * node (the nodes' clocks must agree within that half: each judges the others' expiry by its own). A
 * lease that expired is never renewed: back, the node holds what the database holds for it (nothing),
 * and leases again through the row lock, first for its attempts still running. Every write of a
 * lease's slots happens under the key's monitor with the change of this node's count, and each
 * heartbeat sets the count to the database's (unless a write came between), so a failed statement
 * cannot leave the two apart. On each heartbeat a
 * node gives back the slots it does not use: all of them when it admitted nothing for a heartbeat
 * period (so an idle node's slots are free within two heartbeats), and, while another node waits, what
 * it holds beyond its fair share (see Fairness).
 * When the leases of all nodes add up to more than the concurrency (lowered by the pace or the policy
 * since they were taken), no node admits in memory, and each gives back every slot it does not use,
 * until they no longer do.
 *
 * <p><b>Fairness.</b> While another node waits for slots (its lease row says it wants more than it
 * got), a node keeps to its share: the database leases it nothing beyond it (the lease transaction
 * reads the other nodes' rows under the key's lock), it refuses in memory once its share is in use
 * (no transaction for each of its delivery threads), and it gives back what it holds beyond its share
 * at the heartbeat that sees the other waiting, free slots at once and slots in use as each attempt
 * ends. Without this a busy node whose threads asked again first took every slot it gave back, and
 * a node that started later could wait for as long as the first stayed busy. With nobody waiting a
 * node may lease and use every free slot. The sum of the leases stays within the concurrency at every
 * instant: fairness only refuses and gives back.
 *
 * <p><b>Shares add up to the concurrency.</b> A node's share is the concurrency over the nodes that
 * hold or want slots, rounded down, and one more for as many nodes as the division leaves over
 * ({@link DestinationTransitions#fairShare}); which nodes get those goes round, in turns of
 * {@value #TURN_BEATS} heartbeats counted from the epoch by each node's clock, by each node's place
 * among the others' ids (read with the nodes at each heartbeat and lease). So 4 slots over 3 busy
 * nodes are shares of 2, 1 and 1, the 2 moving on each turn, and 2 slots over 3 nodes are 1, 1 and
 * none, the none moving on. Rounded up (2 each of 4), two nodes holding their share kept the third
 * waiting for as long as they stayed busy. A node whose turn ended gives back its slot as an attempt
 * ends (it never stops one). A waiting node gets a slot within about a heartbeat plus an attempt or
 * two where every node's share is at least one; where it is not, within one turn more for each node
 * beyond the slots. An attempt longer than a turn can stretch that: its node gives the slot back only
 * if its turn has not come round again when the attempt ends. Nodes see the others' wishes and a
 * turn's end at slightly different times (a heartbeat apart, their clocks' difference apart):
 * meanwhile a share may be refused or given back a little late, never a slot beyond the concurrency.
 *
 * <p><b>Failures.</b> Only the heartbeat thread renews (an operation runs the heartbeat itself only
 * in a store without that thread); a failed heartbeat is logged, never thrown at a delivery thread,
 * and what it had not done is done by the next one. That holds for an {@link Error} too (logged at
 * ERROR with the step it was at): one leaving the heartbeat thread's task would cancel every later
 * heartbeat silently.
 *
 * <p><b>Holds and the probe</b> stay transactions on the shared row, through the same
 * {@link DestinationTransitions}: every throttle, and every outcome that changes what the row keeps
 * (a hold ending, the throttle streak, the pace). While a destination is held, or its probe has not
 * answered, a node leases nothing, gives back what it does not use, and admits one attempt at a time
 * through {@link JdbcDestinationStateStore#admit}, so one probe runs cluster-wide. A hold started by
 * another node is seen here at the next heartbeat, which reads the rows of held keys: <b>worst-case
 * delay {@code beatEvery} plus one heartbeat's transaction</b> (about a second by default) before
 * this node's in-memory admissions stop; a hold started on this node stops them at once.
 *
 * <p><b>Outcomes that change nothing durable</b> (a success with no hold, no streak and the pace at
 * its ceiling; most failures) are counted in memory and added to the row on the next heartbeat:
 * the attempt count and last reply of a destination lag by at most a heartbeat.
 *
 * <p>Destinations with a rate limit are admitted one by one in the database as before: each start
 * must be counted cluster-wide, and leasing a rate budget is not done yet.
 */
public final class ClusterDestinationStateStore implements DestinationStateStore, AutoCloseable {
    static final long DEFAULT_BEAT_MILLIS = 1000;
    public static final Duration DEFAULT_BEAT_EVERY = Duration.ofMillis(DEFAULT_BEAT_MILLIS);
    public static final Duration DEFAULT_LEASE_FOR = Duration.ofSeconds(30);
    /**
     * Heartbeats per turn of the slots the fair shares leave over. Long enough that a node whose turn it
     * is sees its slot within it (the others see it waiting by their next heartbeat, and give the slot
     * back as an attempt ends); short enough that with fewer slots than nodes a node waits a few seconds.
     */
    static final int TURN_BEATS = 5;
    /** Forget a key's memory after this long with nothing leased, in flight or to flush. */
    private static final Duration FORGET_LOCAL_AFTER = Duration.ofMinutes(1);
    /** How long close() waits for a heartbeat still running. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    private static final System.Logger LOGGER = System.getLogger(ClusterDestinationStateStore.class.getName());

    private final JdbcDestinationStateStore db;
    private final Clock clock;
    private final String node;
    private final Duration beatEvery;
    private final Duration turnEvery;
    private final Duration leaseFor;
    private final Map<DestinationKey, Local> locals = new ConcurrentHashMap<>();
    private final AtomicLong nextBeatMs = new AtomicLong(Long.MIN_VALUE);
    private final AtomicBoolean beating = new AtomicBoolean();
    /** Heartbeats failed since the last that worked: logged when renewing works again. */
    private final AtomicLong failedBeats = new AtomicLong();
    /** The class of the last heartbeat's failure: an error's stack is logged when it differs. */
    private volatile Class<?> lastFailure;
    /** What the heartbeat is at, for the line that logs an error it met. */
    private volatile String doing = "starting";
    private final ScheduledExecutorService heart;

    /** What this node knows and holds of one key; guarded by its own monitor. */
    private static final class Local {
        /** The shared row as last read (its in-flight count is not kept up to date); null before the first read. */
        DestinationState row;
        /** The policy of the last admission: what the row's pace is judged by on a heartbeat. */
        DestinationPolicy policy;
        int concurrency = 1;
        /** Slots leased, and how many of them are in use; attempts admitted one by one in the database. */
        int leased;
        /**
         * Counts this node's writes of the lease's slots (each made with the change of {@link #leased}, under
         * this monitor): a heartbeat takes the database's count as {@link #leased} only if none came between.
         */
        long leaseWrites;
        int leaseInFlight;
        int dbInFlight;
        /** Removed from the map by a heartbeat: an operation that looked it up before takes the key's new one. */
        boolean forgotten;
        /**
         * At the last heartbeat every node's leases added up to more than the concurrency (it was lowered since
         * they were taken): none is used in memory and unused slots go back until they no longer do.
         */
        boolean overcommitted;
        /** How many nodes held or wanted slots of the key when a heartbeat or a lease last counted, this one included. */
        int nodesSharing = 1;
        /** This node's place among them, as then: which turns give it a slot the fair shares leave over. */
        int place;
        /**
         * Another node waits for slots of the key (as last seen by a heartbeat or a lease): slots beyond the share go
         * back as they free, and the database leases this node none beyond it.
         */
        boolean othersWaiting;
        /** The lease may be used until then (clock millis): half the lease time after the last renewal. */
        long usableUntilMs = Long.MIN_VALUE;
        /** The last admission within the lease; a lease idle for a heartbeat period gives its unused slots back. */
        Instant lastAdmitted = Instant.MIN;
        boolean wantedSinceBeat;
        /** Outcomes counted here and not yet added to the row. */
        long attempts;
        String lastReply;
        Instant lastAttemptAt;
        Instant lastActivity;

        boolean admitsInMemory(DestinationPolicy policy) {
            return row != null && !row.heldUntil().isPresent() && !row.probing() && !policy.rateLimit().isPresent();
        }

        boolean holdsOrProbes() {
            return row != null && (row.heldUntil().isPresent() || row.probing());
        }

        int unused() {
            return Math.max(0, leased - leaseInFlight);
        }

        /**
         * This node's fair share of the concurrency as it stands, in {@code turn}: the pace or the policy
         * may have raised it since the nodes were counted. A share kept from then left a node whose pace had
         * grown refusing attempts with slots of its own lease free, each refusal a transaction on the row.
         */
        int share(long turn) {
            return DestinationTransitions.fairShare(concurrency, nodesSharing, place, turn);
        }

        /** Slots leased beyond the fair share in {@code turn} and not in use. */
        int surplus(long turn) {
            return Math.min(unused(), Math.max(0, leased - share(turn)));
        }

        /** What a lease transaction saw of the key: this node's view until the next heartbeat or lease. */
        void saw(JdbcDestinationStateStore.Lease lease, DestinationPolicy policy, Instant now) {
            row = lease.seen;
            othersWaiting = lease.othersWaiting;
            nodesSharing = lease.nodes;
            place = lease.place;
            concurrency = concurrencyOf(lease.seen, policy, now);
            leased = lease.held;
            leaseWrites++;
        }
    }

    private ClusterDestinationStateStore(JdbcDestinationStateStore db, Duration beatEvery, Duration leaseFor, boolean background) {
        this.db = db;
        this.clock = db.clock();
        this.node = db.nodeId();
        this.beatEvery = beatEvery;
        this.turnEvery = turnOf(beatEvery);
        this.leaseFor = leaseFor;
        if (background) {
            heart = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "delivery-policy-leases");
                t.setDaemon(true);
                return t;
            });
            heart.scheduleWithFixedDelay(this::beatOnThread, beatEvery.toMillis(), beatEvery.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            heart = null;
        }
    }

    /** How long the slots the fair shares leave over stay with the same nodes, for a heartbeat of {@code beatEvery}. */
    static Duration turnOf(Duration beatEvery) {
        return beatEvery.multipliedBy(TURN_BEATS);
    }

    /** The store over {@code db}, with a heartbeat thread every {@link #DEFAULT_BEAT_EVERY}. */
    public static ClusterDestinationStateStore over(JdbcDestinationStateStore db) {
        return over(db, DEFAULT_BEAT_EVERY, DEFAULT_LEASE_FOR, true);
    }

    /**
     * The store over {@code db}. Without {@code background}, heartbeats run only on the store's
     * operations, at most once per {@code beatEvery} of the times passed to them (for tests whose
     * time line is given).
     */
    public static ClusterDestinationStateStore over(JdbcDestinationStateStore db, Duration beatEvery, Duration leaseFor,
                                                    boolean background) {
        Preconditions.checkNotNull(db, "db");
        Preconditions.checkArgument(beatEvery != null && !beatEvery.isNegative() && !beatEvery.isZero(), "beatEvery must be positive");
        Preconditions.checkArgument(leaseFor != null && leaseFor.compareTo(beatEvery.multipliedBy(4)) >= 0,
                "leaseFor must be at least four heartbeats: %s", leaseFor);
        return new ClusterDestinationStateStore(db, beatEvery, leaseFor, background);
    }

    @Override
    public Admission admit(DestinationKey key, DestinationPolicy policy, Optional<Instant> reservation, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(reservation, "reservation");
        Preconditions.checkNotNull(now, "now");
        beatIfDue(now);
        Local l = local(key);
        synchronized (l) {
            if (l.forgotten) {
                // Forgotten by the heartbeat between the look-up and the lock: slots leased into it would never go back.
                return admit(key, policy, reservation, now);
            }
            l.lastActivity = now;
            l.policy = policy;
            boolean leaseUsable = l.admitsInMemory(policy) && !l.overcommitted && clock.millis() < l.usableUntilMs;
            long turn = turn(now);
            int share = l.share(turn);
            // With nobody waiting every slot of the lease is this node's to use; the share only binds while another waits.
            if (leaseUsable && l.leaseInFlight < (l.othersWaiting ? Math.min(l.leased, share) : l.leased)) {
                l.leaseInFlight++;
                l.lastAdmitted = now;
                return Admission.granted(l.concurrency);
            }
            if (leaseUsable && l.othersWaiting && l.leaseInFlight >= share && l.leaseInFlight <= l.leased) {
                // Its share in use while another node waits: the database would lease it nothing more (and every delivery
                // thread of a busy node asking would queue on the row's lock). Asked again once the heartbeat sees
                // nobody waiting; wanted meanwhile, so that the others keep to their share too.
                l.wantedSinceBeat = true;
                return shareInUse(key, l, share, now);
            }
            if (leaseUsable && l.leaseInFlight >= l.leased) {
                int concurrency = concurrencyOf(l.row, policy, now);
                if (l.leased >= concurrency) {
                    // The whole concurrency (as the row last read and this policy make it) is this node's and in use:
                    // the database has no slot to give, and asking would hold this key's monitor, so every other
                    // attempt's end here, for a transaction. A pace grown by another node reaches this one by the
                    // next heartbeat.
                    l.wantedSinceBeat = true;
                    return limitReached(key, concurrency, "", now);
                }
            }
            if (!policy.rateLimit().isPresent() && !l.holdsOrProbes()) {
                // Attempts still running on a lease that expired are no longer counted by it: slots for them first.
                int wanted = Math.max(1, Math.max(share, l.leaseInFlight + 1) - l.leased);
                // Taken before the renewal: the lease is used for half its time from when its expiry was written, never longer.
                long renewedAtMs = clock.millis();
                JdbcDestinationStateStore.Lease lease = db.lease(key, policy, node, wanted,
                        Math.max(0, l.leaseInFlight - l.leased), leaseFor, turn, now);
                // The lease as the database holds it (fewer slots than counted here when it had expired), and the others.
                l.saw(lease, policy, now);
                // Every node's slots counted under the row's lock: within the concurrency again, or not.
                l.overcommitted = lease.seen.inFlight() > l.concurrency;
                // Renewed even when it holds nothing: a node whose share is none this turn then refuses in memory while
                // the others hold their shares, rather than with a transaction for each of its delivery threads.
                l.usableUntilMs = renewedAtMs + leaseFor.toMillis() / 2;
                if (lease.granted > 0 && l.leaseInFlight < l.leased) {
                    l.leaseInFlight++;
                    l.lastAdmitted = now;
                    return Admission.granted(l.concurrency);
                }
                if (lease.granted > 0) {
                    l.wantedSinceBeat = true;
                    return limitReached(key, l.concurrency, " (attempts from this node's expired lease still in flight)", now);
                }
                if (!l.holdsOrProbes()) {
                    l.wantedSinceBeat = true;
                    if (lease.seen.inFlight() < l.concurrency) {
                        // Slots are free, but not for this node: it holds its share while another node waits for slots. (The
                        // transition below would grant one, with no slot behind it.)
                        return shareInUse(key, l, l.share(turn), now);
                    }
                    // Refused as the row stands, every node's slots in flight: the transition says why and until when.
                    return DestinationTransitions.admit(lease.seen, policy, NO_STARTS, reservation, db.busyWait(), now).admission();
                }
                giveBackUnused(key, l);
            }
            Admission a = db.admit(key, policy, reservation, now);
            if (a.isGranted()) {
                l.dbInFlight++;
                if (a.isProbe() && l.row != null) {
                    l.row = l.row.toBuilder().probing(true).build();
                }
            }
            return a;
        }
    }

    /** The concurrency {@code row}'s pace allows under {@code policy} at {@code now}: at least one. */
    private static int concurrencyOf(DestinationState row, DestinationPolicy policy, Instant now) {
        return Math.max(1, row.paceUnder(policy, now).effectiveConcurrency(policy));
    }

    /** A refusal for a slot, asked again after the store's busy wait: {@code concurrency} reached, and why. */
    private Admission limitReached(DestinationKey key, int concurrency, String why, Instant now) {
        return Admission.waitUntil(now.plus(db.busyWait()), "destination " + key.asString() + ": concurrency limit "
                + concurrency + " reached" + why);
    }

    /** The refusal of a node whose fair share is in use while another node waits for slots. */
    private Admission shareInUse(DestinationKey key, Local l, int share, Instant now) {
        return limitReached(key, l.concurrency, " for this node's share of " + share + " (another node waits for slots)", now);
    }

    /** The turn of the slots the nodes' fair shares leave over, at {@code now}. */
    private long turn(Instant now) {
        return DestinationTransitions.shareTurn(now, turnEvery);
    }

    /** Never asked: leases are not taken under a rate limit. */
    private static final RecentStarts NO_STARTS = new RecentStarts() {
        @Override
        public int count() {
            return 0;
        }

        @Override
        public Instant whenFewerThan(int limit) {
            throw new IllegalStateException("no starts are counted for a lease");
        }
    };

    @Override
    public void finished(DestinationKey key, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Local l = locals.get(key);
        if (l == null) {
            db.finished(key, now);
            return;
        }
        synchronized (l) {
            l.lastActivity = now;
            if (l.dbInFlight > 0) {
                l.dbInFlight--;
                db.finished(key, now);
                if (l.row != null) {
                    l.row = DestinationTransitions.finished(l.row, now);
                }
            } else if (l.leaseInFlight > 0) {
                l.leaseInFlight--;
                if (l.holdsOrProbes() || l.overcommitted) {
                    // The probe waits for every attempt from before the hold: this slot goes back now.
                    giveBackUnused(key, l);
                } else if (l.othersWaiting && l.surplus(turn(now)) > 0) {
                    // Another node waits and this one holds more than its share: the slot goes to it now, not a heartbeat later.
                    giveBack(key, l, l.surplus(turn(now)));
                }
            } else {
                db.finished(key, now);
            }
        }
        beatIfDue(now);
    }

    @Override
    public DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, ThrottleEffect effect,
                                           String reply, Optional<Duration> hint, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Local l = local(key);
        synchronized (l) {
            // The transition judges by the connections open (a cut to fewer connections counts them): unused slots go first.
            giveBackUnused(key, l);
        }
        return fromDatabase(key, policy, l, db.recordThrottle(key, policy, effect, reply, hint, now), now);
    }

    /** A transition's row becomes this node's view; a hold or a smaller pace takes back the slots not in use. */
    private DestinationState fromDatabase(DestinationKey key, DestinationPolicy policy, Local l, DestinationState after,
                                          Instant now) {
        synchronized (l) {
            l.row = after;
            int concurrency = concurrencyOf(after, policy, now);
            if (l.holdsOrProbes() || concurrency < l.concurrency) {
                giveBackUnused(key, l);
            }
            l.concurrency = concurrency;
            return merged(after, l);
        }
    }

    @Override
    public DestinationState recordSuccess(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        return recorded(key, policy, now, reply, row -> DestinationTransitions.succeeded(row, policy, reply, now),
                () -> db.recordSuccess(key, policy, reply, now));
    }

    @Override
    public DestinationState recordFailure(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        return recorded(key, policy, now, reply, row -> DestinationTransitions.failed(row, reply, now),
                () -> db.recordFailure(key, policy, reply, now));
    }

    /**
     * An outcome: counted in memory when, applied to the row as this node last read it, it changes
     * nothing the row keeps besides counters; else a transaction on the row.
     */
    private DestinationState recorded(DestinationKey key, DestinationPolicy policy, Instant now, String reply,
                                      java.util.function.UnaryOperator<DestinationState> transition,
                                      java.util.function.Supplier<DestinationState> inDatabase) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(now, "now");
        beatIfDue(now);
        Local l = local(key);
        synchronized (l) {
            if (l.forgotten) {
                // Forgotten by the heartbeat between the look-up and the lock: what is counted in it would never be added.
                return recorded(key, policy, now, reply, transition, inDatabase);
            }
            if (l.row != null && !l.holdsOrProbes()) {
                DestinationState next = transition.apply(l.row);
                if (DurablePart.forSharedRow(next).equals(DurablePart.forSharedRow(l.row))) {
                    l.attempts++;
                    l.lastAttemptAt = now;
                    l.lastActivity = now;
                    if (reply != null) {
                        l.lastReply = DestinationTransitions.sanitise(reply);
                    }
                    // This node's view, without a read: the row as last read, its counts, its attempts in flight.
                    return merged(l.row, l).toBuilder().inFlight(l.leaseInFlight + l.dbInFlight).build();
                }
            }
        }
        return fromDatabase(key, policy, l, inDatabase.get(), now);
    }

    @Override
    public Optional<DestinationState> get(DestinationKey key) {
        Preconditions.checkNotNull(key, "key");
        Optional<DestinationState> row = db.get(key);
        Local l = locals.get(key);
        if (l == null || !row.isPresent()) {
            return row;
        }
        synchronized (l) {
            return Optional.of(merged(row.get(), l));
        }
    }

    @Override
    public List<DestinationState> all() {
        ImmutableList.Builder<DestinationState> out = ImmutableList.builder();
        for (DestinationState row : db.all()) {
            Local l = locals.get(DestinationKey.of(row.destination()));
            if (l == null) {
                out.add(row);
            } else {
                synchronized (l) {
                    out.add(merged(row, l));
                }
            }
        }
        return out.build();
    }

    @Override
    public boolean releaseHold(DestinationKey key) {
        boolean released = db.releaseHold(key);
        Local l = locals.get(key);
        if (l != null) {
            synchronized (l) {
                l.row = db.get(key).orElse(null);
            }
        }
        return released;
    }

    /**
     * The row as the database has it, seen from this node: this node's slots leased but unused are
     * not in flight, and the outcomes counted here are added.
     */
    private static DestinationState merged(DestinationState row, Local l) {
        DestinationState.Builder b = row.toBuilder().inFlight(Math.max(0, row.inFlight() - l.unused()));
        if (l.attempts > 0) {
            boolean newer = !row.lastAttemptAt().isPresent() || !row.lastAttemptAt().get().isAfter(l.lastAttemptAt);
            b.attempts(row.attempts() + l.attempts);
            if (newer) {
                b.lastAttemptAt(Optional.of(l.lastAttemptAt));
                if (l.lastReply != null) {
                    b.lastReply(Optional.of(l.lastReply));
                }
            }
        }
        return b.build();
    }

    /**
     * Gives back every slot leased and not in use; called under the key's monitor. Best effort: when
     * the database does not answer, the slots stay this node's and the next heartbeat gives them back
     * (an operation that finished an attempt must not fail for it).
     */
    private void giveBackUnused(DestinationKey key, Local l) {
        giveBack(key, l, l.unused());
    }

    /** Gives back {@code unused} slots leased and not in use, as {@link #giveBackUnused} does. */
    private void giveBack(DestinationKey key, Local l, int unused) {
        if (unused > 0) {
            l.leaseWrites++;
            try {
                db.giveBack(key, node, unused);
            } catch (RuntimeException e) {
                LOGGER.log(System.Logger.Level.WARNING, "delivery policy: giving back " + unused + " unused slots of destination "
                        + key.asString() + " failed; the next heartbeat gives them back: " + e.getMessage());
                return;
            }
            l.leased -= unused;
        }
    }

    private Local local(DestinationKey key) {
        return locals.computeIfAbsent(key, k -> new Local());
    }

    /**
     * Without a heartbeat thread, an operation runs the heartbeat when it is due. With one, never:
     * a delivery thread must not wait for the database (up to the pool's timeout when it is away)
     * to admit within its lease. A failed heartbeat is logged, never thrown: the operation itself
     * was done (an exception after a delivered attempt would deliver it again).
     */
    private void beatIfDue(Instant now) {
        if (heart != null) {
            return;
        }
        long due = nextBeatMs.get();
        if (now.toEpochMilli() >= due && nextBeatMs.compareAndSet(due, now.plus(beatEvery).toEpochMilli())) {
            beatQuietly(now);
        }
    }

    /**
     * The heartbeat thread's task. Nothing may leave it: an exception or error out of a task scheduled
     * with a fixed delay cancels every later run without a word, and the node would stop renewing its
     * leases while its attempts still run (the others take the slots once the leases expire).
     */
    private void beatOnThread() {
        doing = "reading the clock";
        Instant now;
        try {
            now = clock.instant();
        } catch (ThreadDeath death) {
            throw death;
        } catch (Throwable t) {
            failedBeat(t);
            return;
        }
        nextBeatMs.set(now.plus(beatEvery).toEpochMilli());
        beatQuietly(now);
    }

    /**
     * A heartbeat whose failure is logged, never thrown (see {@link #beatIfDue} and {@link #beatOnThread}):
     * an {@link Error} too, an {@link OutOfMemoryError} among them, as the next heartbeat may well work
     * (the memory freed meanwhile); only {@link ThreadDeath} goes on. An interrupt (from {@link #close}) is
     * left set for the thread's owner to see.
     */
    private void beatQuietly(Instant now) {
        try {
            beat(now);
        } catch (ThreadDeath death) {
            throw death;
        } catch (Throwable t) {
            failedBeat(t);
            return;
        }
        long failed = failedBeats.getAndSet(0);
        lastFailure = null;
        if (failed > 0) {
            LOGGER.log(System.Logger.Level.INFO, "delivery policy: renewing this node's destination leases works again after "
                    + failed + " failed heartbeat(s)");
        }
    }

    private void failedBeat(Throwable t) {
        long failed = failedBeats.incrementAndGet();
        Class<?> before = lastFailure;
        lastFailure = t.getClass();
        String consequence = " heartbeat(s) in a row); the leases stop being used " + shown(leaseFor.dividedBy(2))
                + " after the last renewal and expire for the cluster after " + shown(leaseFor);
        if (t instanceof RuntimeException) {
            // The database away, most likely: retried by the next heartbeat, as the line says.
            String line = "delivery policy: renewing this node's destination leases failed (" + failed + consequence + ": "
                    + t.getMessage();
            // The stack once per outage: a database away for a minute would otherwise print it every heartbeat.
            if (failed == 1) {
                LOGGER.log(System.Logger.Level.WARNING, line, t);
            } else {
                LOGGER.log(System.Logger.Level.WARNING, line);
            }
            return;
        }
        // A bug or the JVM out of resources, not the database: an operator must see it, with what the heartbeat was at.
        String line = "delivery policy: the lease heartbeat of node " + node + " failed with " + t.getClass().getName()
                + " while " + doing + " (" + failed + consequence + "; the heartbeat goes on; destinations this node leases or counts: "
                + destinationsNamed() + "): " + t.getMessage();
        if (failed == 1 || before != t.getClass()) {
            LOGGER.log(System.Logger.Level.ERROR, line, t);
        } else {
            LOGGER.log(System.Logger.Level.ERROR, line);
        }
    }

    private static String shown(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The destinations this node keeps state of, for a log line: the first few, and how many in all. */
    private String destinationsNamed() {
        List<String> names = new ArrayList<>();
        int all = 0;
        for (DestinationKey key : locals.keySet()) {
            if (all++ < 10) {
                names.add(key.asString());
            }
        }
        return all == 0 ? "none" : String.join(", ", names) + (all > names.size() ? " and " + (all - names.size()) + " more" : "");
    }

    /**
     * One heartbeat at {@code now}: gives back idle slots and slots beyond the fair share, adds the
     * outcomes counted in memory, renews the leases, and reads back held rows, the rows of leased
     * keys and what each lease holds. Runs on the heartbeat thread, or on an operation when due;
     * never two at once.
     *
     * <p>Slots are given back under the key's monitor, the count here changed with the database's (as
     * every write of a lease's slots is), so that a lease taken meanwhile cannot fall between the two;
     * this node's count then follows what the database holds (a lease that expired holds nothing), unless
     * the lease was written again since the heartbeat looked.
     */
    void beat(Instant now) {
        if (!beating.compareAndSet(false, true)) {
            return;
        }
        try {
            List<Runnable> undo = new ArrayList<>();
            List<JdbcDestinationStateStore.BeatChange> decided = new ArrayList<>();
            Map<Local, Long> writesSeen = new java.util.IdentityHashMap<>();
            doing = "reading the clock";
            // Taken before the renewal: the leases are used for half their time from when their expiry was written.
            long renewedAtMs = clock.millis();
            doing = "giving back slots, adding the counted outcomes and renewing the leases in the database";
            JdbcDestinationStateStore.Beat beat;
            try {
                beat = db.beat(node, give -> {
                    for (Map.Entry<DestinationKey, Local> e : locals.entrySet()) {
                        Local l = e.getValue();
                        synchronized (l) {
                            if (l.leased == 0 && l.attempts == 0 && !l.wantedSinceBeat) {
                                writesSeen.put(l, l.leaseWrites);
                                continue;
                            }
                            boolean idle = !l.lastAdmitted.isAfter(now.minus(beatEvery));
                            int giveBack = idle || l.holdsOrProbes() || l.overcommitted ? l.unused()
                                    : l.othersWaiting ? l.surplus(turn(now)) : 0;
                            boolean wanted = l.wantedSinceBeat;
                            if (giveBack > 0) {
                                l.leaseWrites++;
                                give.giveBack(e.getKey().asString(), giveBack, wanted);
                                l.leased -= giveBack;
                            }
                            writesSeen.put(l, l.leaseWrites);
                            long attempts = l.attempts;
                            String reply = l.lastReply;
                            Instant at = l.lastAttemptAt;
                            JdbcDestinationStateStore.BeatChange change = new JdbcDestinationStateStore.BeatChange(
                                    e.getKey().asString(), giveBack, wanted, attempts, reply, at);
                            decided.add(change);
                            l.attempts = 0;
                            l.lastReply = null;
                            l.wantedSinceBeat = false;
                            undo.add(() -> {
                                synchronized (l) {
                                    l.wantedSinceBeat |= wanted;
                                    // Counted outcomes not added (the heartbeat failed first) are added by the next one.
                                    if (!change.counted) {
                                        l.attempts += attempts;
                                        if (l.lastReply == null) {
                                            l.lastReply = reply;
                                        }
                                        if (l.lastAttemptAt == null) {
                                            l.lastAttemptAt = at;
                                        }
                                    }
                                }
                            });
                        }
                    }
                    return decided;
                }, leaseFor, now);
            } catch (Throwable ex) {
                // Slots given back stay given back (here as in the database); the rest is tried again.
                undo.forEach(Runnable::run);
                throw ex;
            }
            long usableUntil = renewedAtMs + leaseFor.toMillis() / 2;
            for (Map.Entry<DestinationKey, Local> e : locals.entrySet()) {
                Local l = e.getValue();
                String name = e.getKey().asString();
                doing = "taking what the database holds for destination " + name;
                synchronized (l) {
                    DestinationState row = beat.rows.get(name);
                    if (row != null) {
                        l.row = row;
                        if (l.policy != null) {
                            // Another node's throttle may have cut the pace: this node's admissions follow at once.
                            l.concurrency = concurrencyOf(row, l.policy, now);
                        }
                    } else if (l.row != null && l.row.heldUntil().isPresent()) {
                        // No longer held, or forgotten: read it again when next needed.
                        l.row = null;
                    }
                    Integer held = beat.ownSlots.get(name);
                    Long seen = writesSeen.get(l);
                    if (seen != null && seen == l.leaseWrites) {
                        // What the database counts for this node: none when the lease expired (the others may have its slots).
                        l.leased = held == null ? 0 : held;
                        if (held == null && l.leaseInFlight > 0 && l.policy != null && !l.holdsOrProbes()
                                && !l.policy.rateLimit().isPresent()) {
                            // Expired with attempts still running (the node could not renew in time): slots for them
                            // again, as far as the others left them free.
                            long leasedAtMs = clock.millis();
                            JdbcDestinationStateStore.Lease lease = db.lease(e.getKey(), l.policy, node, l.leaseInFlight,
                                    l.leaseInFlight, leaseFor, turn(now), now);
                            l.saw(lease, l.policy, now);
                            if (lease.held > 0) {
                                l.usableUntilMs = leasedAtMs + leaseFor.toMillis() / 2;
                            }
                        }
                    }
                    if (held != null) {
                        // Renewed, with slots or wanting some: a node whose share is none this turn refuses in memory too.
                        l.usableUntilMs = usableUntil;
                        l.nodesSharing = Math.max(1, beat.nodesSharing.getOrDefault(name, 1));
                        l.place = beat.places.getOrDefault(name, 0);
                    }
                    l.othersWaiting = beat.othersWaiting.contains(name);
                    Integer leasedByAll = beat.leasedByAll.get(name);
                    l.overcommitted = leasedByAll != null && leasedByAll > l.concurrency;
                    if (l.holdsOrProbes() || l.overcommitted) {
                        giveBackUnused(e.getKey(), l);
                    } else if (l.othersWaiting) {
                        // Seen waiting by this heartbeat: what is free beyond the share goes now, not on the next one.
                        giveBack(e.getKey(), l, l.surplus(turn(now)));
                    }
                    if (l.leased == 0 && l.leaseInFlight == 0 && l.dbInFlight == 0 && l.attempts == 0
                            && (l.lastActivity == null || !l.lastActivity.isAfter(now.minus(FORGET_LOCAL_AFTER)))) {
                        locals.remove(e.getKey(), l);
                        l.forgotten = true;
                    }
                }
            }
            // Admissions in memory never reach the store's own sweep: the heartbeat runs it.
            doing = "deleting idle rows and expired leases";
            db.sweepIfDue(now);
        } finally {
            beating.set(false);
        }
    }

    /** Stops the heartbeat, adds the outcomes counted in memory, and gives back every lease of this node. */
    @Override
    public void close() {
        if (heart != null) {
            // A heartbeat still running would make the last one below a no-op: what was counted after it began
            // would be lost. It is waited for, within bounds (a database that does not answer at all).
            heart.shutdown();
            try {
                if (!heart.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the lease heartbeat did not end within "
                            + CLOSE_WAIT.toSeconds() + " s of closing; outcomes counted since it began may not reach the database");
                    heart.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                heart.shutdownNow();
            }
        }
        try {
            beat(clock.instant());
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the last heartbeat failed: " + e.getMessage(), e);
        }
        try {
            db.dropLeases(node);
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: this node's leases could not be given back; they expire in "
                    + leaseFor.toSeconds() + " s: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "ClusterDestinationStateStore{" + db + "}";
    }
}
