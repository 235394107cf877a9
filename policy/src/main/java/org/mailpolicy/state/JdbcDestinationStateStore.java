package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.Egress;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.SqlErrors;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * {@link DestinationStateStore} in a SQL database: PostgreSQL shared by several James nodes, or the
 * embedded H2 file of one node (next to its suppression list), so that holds survive a restart.
 * Each operation is one transaction that locks the key's row and applies
 * {@link DestinationTransitions} to it, so a hold started by one node stops every node's next
 * admission, and concurrency and rate count the whole cluster.
 *
 * <p>An in-flight attempt is a lease row (node, start time) and a probe has a start time, both
 * ignored after {@code leaseTimeout}, so that a node that dies mid-attempt cannot hold its slots,
 * or the probe after a hold, for ever. A store on a database of this process alone (the embedded
 * file, {@link Database#isSingleProcess()}) also drops every lease and probe when it opens:
 * whatever was in flight died with the previous process. The starts within the rate period are
 * rows too, for the cluster's count.
 *
 * <p>Idle keys are forgotten (see {@link DestinationStateStore}): at most once per
 * {@code sweepEvery}, an admission or a recorded outcome also deletes, in separate statements,
 * the rows of idle keys, expired leases, and the rate-limit starts of keys no longer there.
 *
 * <p><b>Per egress.</b> Receivers throttle per sending IP, so every row (state, lease, start) carries
 * the egress it counts for, and a store sees only its own node's ({@link Builder#egress}): nodes that
 * name different egresses keep separate holds, probes and rate counts for the same destination,
 * nodes of one egress share them. Without the setting every node is in {@link Egress#DEFAULT}.
 *
 * <p>Times are epoch milliseconds in BIGINT columns: no time-zone conversion between drivers.
 * Tables created by earlier versions get the new columns on open ({@code ADD COLUMN IF NOT EXISTS}).
 */
public final class JdbcDestinationStateStore implements DestinationStateStore, AutoCloseable {
    public static final String STATE = DestinationTables.STATE;
    public static final String SLOTS = DestinationTables.SLOTS;
    public static final String STARTS = DestinationTables.STARTS;
    public static final Duration DEFAULT_BUSY_WAIT = Duration.ofSeconds(10);
    /** Longer than any SMTP attempt (James's timeouts are minutes): a lease this old belongs to a dead node. */
    public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofMinutes(30);
    public static final Duration DEFAULT_SWEEP_EVERY = Duration.ofMinutes(1);
    private static final int LOCK_ATTEMPTS = 3;
    private static final System.Logger LOGGER = System.getLogger(JdbcDestinationStateStore.class.getName());

    private final Database db;
    private final boolean ownsDatabase;
    private final Clock clock;
    private final String nodeId;
    private final Egress egress;
    private final Duration busyWait;
    private final Duration leaseTimeout;
    private final Duration idleAfter;
    private final Duration sweepEvery;
    private final AtomicLong nextSweepMs = new AtomicLong(Long.MIN_VALUE);

    private JdbcDestinationStateStore(Builder b, boolean ownsDatabase) {
        this.db = b.db;
        this.ownsDatabase = ownsDatabase;
        this.clock = b.clock;
        this.nodeId = UUID.randomUUID().toString();
        this.egress = b.egress;
        this.busyWait = b.busyWait;
        this.leaseTimeout = b.leaseTimeout;
        this.idleAfter = b.idleAfter;
        this.sweepEvery = b.sweepEvery;
    }

    /** Opens the store on a database the caller owns, creating the tables if they are missing. */
    public static JdbcDestinationStateStore open(Database db) {
        return on(db).open();
    }

    /** The store on {@code db}, with the settings still to choose. */
    public static Builder on(Database db) {
        return new Builder(Preconditions.checkNotNull(db, "db"));
    }

    /**
     * The embedded H2 database file at {@code fileBase} (H2 adds {@code .mv.db}), opened for this
     * store alone; close the store to release the file. The runtime opens all stores over one
     * {@link Database} instead.
     *
     * @throws org.mailpolicy.jdbc.StoreException if the file cannot be opened (locked by another process, unreadable)
     */
    public static JdbcDestinationStateStore openH2(Path fileBase) {
        return Database.openH2For(fileBase, db -> on(db).open(true));
    }

    /** Settings of a store; {@link #open()} creates the tables if missing. */
    public static final class Builder {
        private final Database db;
        private Clock clock = Clock.systemUTC();
        private Egress egress = Egress.DEFAULT;
        private Duration busyWait = DEFAULT_BUSY_WAIT;
        private Duration leaseTimeout = DEFAULT_LEASE_TIMEOUT;
        private Duration idleAfter = DEFAULT_IDLE_AFTER;
        private Duration sweepEvery = DEFAULT_SWEEP_EVERY;

        private Builder(Database db) {
            this.db = db;
        }

        /** The time {@link #get} and {@link #all} judge leases and probes by. */
        public Builder clock(Clock c) {
            this.clock = Preconditions.checkNotNull(c, "clock");
            return this;
        }

        /** The egress this node sends from: the rows its attempts count against. */
        public Builder egress(Egress e) {
            this.egress = Preconditions.checkNotNull(e, "egress");
            return this;
        }

        /** How long a caller refused for concurrency or a running probe waits. */
        public Builder busyWait(Duration d) {
            this.busyWait = positive(d, "busyWait");
            return this;
        }

        /** After this, an in-flight slot or a probe of a node that never finished it is ignored. */
        public Builder leaseTimeout(Duration d) {
            this.leaseTimeout = positive(d, "leaseTimeout");
            return this;
        }

        /** How long a key must be idle before it is forgotten. */
        public Builder idleAfter(Duration d) {
            this.idleAfter = positive(d, "idleAfter");
            return this;
        }

        /** How often (at most) the idle rows are deleted. */
        public Builder sweepEvery(Duration d) {
            this.sweepEvery = positive(d, "sweepEvery");
            return this;
        }

        public JdbcDestinationStateStore open() {
            return open(false);
        }

        private JdbcDestinationStateStore open(boolean ownsDatabase) {
            JdbcDestinationStateStore store = new JdbcDestinationStateStore(this, ownsDatabase);
            store.db.createSchema("create the destination state tables", c -> {
                DestinationTables.create(c);
                if (db.isSingleProcess()) {
                    // Whatever was in flight died with the previous process.
                    DestinationTables.dropLeases(c);
                }
                return null;
            });
            return store;
        }

        private static Duration positive(Duration d, String name) {
            Preconditions.checkArgument(d != null && !d.isNegative() && !d.isZero(), "%s must be positive: %s", name, d);
            return d;
        }
    }

    /** A transition of one locked key: the state as stored (with live counts) to the next. */
    private interface Step<T> {
        T apply(Connection c, Locked locked) throws SQLException;
    }

    /** A locked row: its state (in-flight count and probe judged by the leases) and the probe's start. */
    private static final class Locked {
        DestinationState state;
        final Instant probeStarted;

        Locked(DestinationState state, Instant probeStarted) {
            this.state = state;
            this.probeStarted = probeStarted;
        }
    }

    /**
     * Runs {@code step} on the key's row, locked, in one transaction, creating the row if
     * {@code create}; writes back whatever state the step leaves in {@link Locked#state}; then maybe
     * sweeps. Without {@code create}, a missing row runs nothing and gives {@code absent}.
     */
    private <T> T locked(DestinationKey key, Instant now, boolean create, T absent, Step<T> step) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(now, "now");
        String name = key.asString();
        T result = db.withConnection("update destination " + name, c -> Database.inTransaction(c, tx -> {
            Optional<Locked> row = lockOrCreate(tx, name, now, create);
            if (!row.isPresent()) {
                return absent;
            }
            Locked l = row.get();
            T r;
            try {
                r = step.apply(tx, l);
            } catch (DestinationTables.UncheckedSql e) {
                throw (SQLException) e.getCause();
            }
            // A probe keeps the start it had; a new one starts now.
            DestinationTables.write(tx, l.state, egress, !l.state.probing() ? null : l.probeStarted != null ? l.probeStarted : now);
            return r;
        }));
        sweepIfDue(now);
        return result;
    }

    private Optional<Locked> lockOrCreate(Connection c, String name, Instant now, boolean create) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            Optional<Locked> row = lock(c, name, now);
            if (row.isPresent() || !create) {
                return row;
            }
            // Never seen, or forgotten as idle: create it, then lock it. Another thread or node may
            // create it at the same time (a duplicate key) or a sweep forget it again before the
            // lock: then start over, at most a few times.
            if (attempt >= LOCK_ATTEMPTS) {
                throw new SQLException("cannot create or lock the row of destination " + name);
            }
            insertRow(c, name, now);
        }
    }

    /**
     * Inserts a fresh row and commits it; false (rolled back) if another thread or node inserted it
     * first. A new row is active now, so no sweep deletes it before the transaction locks it.
     */
    private boolean insertRow(Connection c, String name, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + STATE
                + " (name, egress, current_hold_ms, consecutive_throttles, attempts, last_activity_ms) VALUES (?, ?, 0, 0, 0, ?)")) {
            ps.setString(1, name);
            ps.setString(2, egress.name());
            ps.setLong(3, now.toEpochMilli());
            ps.executeUpdate();
            c.commit();
            return true;
        } catch (SQLException e) {
            // On PostgreSQL the failed insert aborted the transaction: roll it back either way.
            c.rollback();
            if (!SqlErrors.isDuplicateKey(e)) {
                throw e;
            }
            return false;
        }
    }

    private Optional<Locked> lock(Connection c, String name, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + DestinationTables.COLUMNS + " FROM " + STATE + " WHERE name = ? AND egress = ? FOR UPDATE")) {
            ps.setString(1, name);
            ps.setString(2, egress.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Instant probeStarted = DestinationTables.instant(rs, "probe_started_ms");
                return Optional.of(new Locked(DestinationTables.read(c, rs, egress, now, leaseTimeout), probeStarted));
            }
        }
    }

    @Override
    public Admission admit(DestinationKey key, DestinationPolicy policy, Optional<Instant> reservation, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(reservation, "reservation");
        return locked(key, now, true, null, (tx, row) -> {
            DestinationTransitions.Admitted a = DestinationTransitions.admit(row.state, policy,
                    new DestinationTables.StartRows(tx, key.asString(), egress, policy.rateLimit(), now), reservation, busyWait, now);
            row.state = a.next();
            if (a.admission().isGranted()) {
                insertStarted(tx, SLOTS, "(id, name, egress, node, started_ms) VALUES (?, ?, ?, ?, ?)", key.asString(), nodeId, now);
                if (policy.rateLimit().isPresent()) {
                    insertStarted(tx, STARTS, "(id, name, egress, started_ms) VALUES (?, ?, ?, ?)", key.asString(), null, now);
                }
            }
            return a.admission();
        });
    }

    private void insertStarted(Connection c, String table, String columnsAndValues, String name, String node,
                               Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " " + columnsAndValues)) {
            int i = 1;
            ps.setString(i++, UUID.randomUUID().toString());
            ps.setString(i++, name);
            ps.setString(i++, egress.name());
            if (node != null) {
                ps.setString(i++, node);
            }
            ps.setLong(i, now.toEpochMilli());
            ps.executeUpdate();
        }
    }

    @Override
    public void finished(DestinationKey key, Instant now) {
        // Nothing to give back for a missing row: never admitted here, or forgotten (then with no slot).
        locked(key, now, false, null, (c, l) -> {
            // This node's oldest lease: which of its attempts ends does not matter, the count does.
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + SLOTS + " WHERE id = (SELECT id FROM "
                    + SLOTS + " WHERE name = ? AND egress = ? AND node = ? ORDER BY started_ms, id FETCH FIRST 1 ROWS ONLY)")) {
                ps.setString(1, key.asString());
                ps.setString(2, egress.name());
                ps.setString(3, nodeId);
                ps.executeUpdate();
            }
            l.state = DestinationTransitions.finished(l.state, now);
            return null;
        });
    }

    @Override
    public DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, ThrottleEffect effect,
                                           String reply, Optional<Duration> hint, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(effect, "effect");
        Preconditions.checkNotNull(hint, "hint");
        return locked(key, now, true, null, (tx, row) -> row.state = DestinationTransitions.throttled(row.state,
                policy, effect, reply, hint, new DestinationTables.StartRows(tx, key.asString(), egress, policy.rateLimit(), now), now));
    }

    @Override
    public DestinationState recordSuccess(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        return locked(key, now, true, null, (c, l) -> l.state = DestinationTransitions.succeeded(l.state, policy, reply, now));
    }

    @Override
    public DestinationState recordFailure(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        return locked(key, now, true, null, (c, l) -> l.state = DestinationTransitions.failed(l.state, reply, now));
    }

    /**
     * What a node's request for slots got: how many, how many its lease holds now (an expired lease
     * held none), the row as it stood (every node's slots counted in flight), whether another node
     * waits for slots of the key, how many nodes hold or want slots of it (this one included), and where
     * this node stands among them ({@link DestinationTransitions#placeAmong}).
     */
    static final class Lease {
        final int granted;
        final int held;
        final DestinationState seen;
        final boolean othersWaiting;
        /** The nodes that hold or want slots of the key, this one included. */
        final int nodes;
        /** This node's place among them, for the turns of the slots the fair shares leave over. */
        final int place;

        Lease(int granted, int held, DestinationState seen, boolean othersWaiting, int nodes, int place) {
            this.granted = granted;
            this.held = held;
            this.seen = seen;
            this.othersWaiting = othersWaiting;
            this.nodes = nodes;
            this.place = place;
        }
    }

    /**
     * One transaction on the key's locked row: leases {@code node} up to {@code wanted} more slots as
     * {@link DestinationTransitions#leasable} allows and, while another node waits for slots, within
     * its fair share in {@code turn} ({@link DestinationTransitions#fairShare},
     * {@link DestinationTransitions#leasableWithinShare}; {@code forRunning} slots for
     * attempts running beyond what its lease counts all the same), marks whether it wants more than it
     * got, and extends its lease to {@code now + leaseFor}. A lease of the node that had expired holds
     * nothing any more (its slots were free for the others): it starts again from what this grants.
     */
    Lease lease(DestinationKey key, DestinationPolicy policy, String node, int wanted, int forRunning, Duration leaseFor,
                long turn, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        return locked(key, now, true, null, (tx, l) -> {
            // The other nodes' lease rows are written under this row's lock or by their own node (giving back,
            // renewing, flagging what it wants): read under it, they can only have fewer slots by the commit.
            List<String> others = new ArrayList<>();
            boolean othersWaiting = false;
            int holds = 0;
            try (PreparedStatement ps = tx.prepareStatement("SELECT node, slots, wanted FROM " + DestinationTables.LEASES
                    + " WHERE name = ? AND egress = ? AND expires_ms > ?")) {
                ps.setString(1, key.asString());
                ps.setString(2, egress.name());
                ps.setLong(3, now.toEpochMilli());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (node.equals(rs.getString(1))) {
                            holds = rs.getInt(2);
                        } else if (rs.getInt(2) > 0 || rs.getInt(3) > 0) {
                            others.add(rs.getString(1));
                            othersWaiting |= rs.getInt(3) > 0;
                        }
                    }
                }
            }
            int concurrency = l.state.paceUnder(policy, now).effectiveConcurrency(policy);
            int place = DestinationTransitions.placeAmong(node, others);
            int share = DestinationTransitions.fairShare(concurrency, others.size() + 1, place, turn);
            int granted = DestinationTransitions.leasableWithinShare(DestinationTransitions.leasable(l.state, policy, wanted, now),
                    othersWaiting, share, holds, forRunning);
            if (granted > 0) {
                l.state = DestinationTransitions.leased(l.state, policy, now);
            }
            int held = addToLease(tx, key.asString(), node, granted, granted < wanted, now, now.plus(leaseFor));
            // The row as written (its pace included, so the node's first outcome finds nothing new to write).
            return new Lease(granted, held, l.state.toBuilder().inFlight(l.state.inFlight() + granted).build(), othersWaiting,
                    others.size() + 1, place);
        });
    }

    /** Adds {@code slots} to the node's lease and renews it; returns the slots it holds now. */
    private int addToLease(Connection c, String name, String node, int slots, boolean wantsMore, Instant now, Instant expires)
            throws SQLException {
        // A lease that expired is no longer the node's: the others were given its slots. Renewed with them,
        // they would count twice; it starts again from what this lease grants.
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + DestinationTables.LEASES
                + " SET slots = CASE WHEN expires_ms > ? THEN slots ELSE 0 END + ?, wanted = ?, expires_ms = ?"
                + " WHERE name = ? AND egress = ? AND node = ?")) {
            ps.setLong(1, now.toEpochMilli());
            ps.setInt(2, slots);
            ps.setInt(3, wantsMore ? 1 : 0);
            ps.setLong(4, expires.toEpochMilli());
            ps.setString(5, name);
            ps.setString(6, egress.name());
            ps.setString(7, node);
            if (ps.executeUpdate() > 0) {
                try (PreparedStatement read = c.prepareStatement("SELECT slots FROM " + DestinationTables.LEASES
                        + " WHERE name = ? AND egress = ? AND node = ?")) {
                    read.setString(1, name);
                    read.setString(2, egress.name());
                    read.setString(3, node);
                    try (ResultSet rs = read.executeQuery()) {
                        rs.next();
                        return rs.getInt(1);
                    }
                }
            }
        }
        // The node's lease rows of a key are written only under the key's row lock or by the node itself.
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + DestinationTables.LEASES
                + " (name, egress, node, slots, wanted, expires_ms) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, name);
            ps.setString(2, egress.name());
            ps.setString(3, node);
            ps.setInt(4, slots);
            ps.setInt(5, wantsMore ? 1 : 0);
            ps.setLong(6, expires.toEpochMilli());
            ps.executeUpdate();
        }
        return slots;
    }

    /**
     * Gives back {@code slots} of {@code node}'s lease of {@code key} at once (one statement, no row
     * lock: fewer leased slots can only leave more room for the others).
     */
    void giveBack(DestinationKey key, String node, int slots) {
        if (slots <= 0) {
            return;
        }
        db.withConnection("give back slots of destination " + key, c -> {
            try (PreparedStatement ps = c.prepareStatement(GIVE_BACK)) {
                ps.setInt(1, slots);
                ps.setInt(2, slots);
                ps.setString(3, key.asString());
                ps.setString(4, egress.name());
                ps.setString(5, node);
                ps.executeUpdate();
            }
            return null;
        });
    }

    private static final String GIVE_BACK = "UPDATE " + DestinationTables.LEASES
            + " SET slots = CASE WHEN slots > ? THEN slots - ? ELSE 0 END WHERE name = ? AND egress = ? AND node = ?";

    /** What a node changes on a heartbeat for one key it leases or counted outcomes of. */
    static final class BeatChange {
        final String name;
        final int giveBack;
        final boolean wantsMore;
        final long attempts;
        final String lastReply;
        final Instant lastAttemptAt;
        /** Whether the counted outcomes are in the row (a heartbeat that fails before leaves them to the next one). */
        boolean counted;

        BeatChange(String name, int giveBack, boolean wantsMore, long attempts, String lastReply, Instant lastAttemptAt) {
            this.name = name;
            this.giveBack = giveBack;
            this.wantsMore = wantsMore;
            this.attempts = attempts;
            this.lastReply = lastReply;
            this.lastAttemptAt = lastAttemptAt;
            this.counted = attempts == 0;
        }
    }

    /** Gives back slots of the node's lease of one key, and says whether it wants more, on the heartbeat's connection. */
    interface SlotReturn {
        void giveBack(String name, int slots, boolean wantsMore) throws SQLException;
    }

    /**
     * A heartbeat's changes, decided key by key by the node: slots it gives back go through
     * {@link SlotReturn} at once (the node changes its own count in the same step), the rest is returned.
     */
    interface BeatPlan {
        List<BeatChange> decide(SlotReturn give) throws SQLException;
    }

    /**
     * What a heartbeat read back: the rows of the keys the node leases and of every held key, the
     * nodes sharing each key and the node's place among them, and the slots of each of the node's
     * leases that stand (renewed).
     */
    static final class Beat {
        final java.util.Map<String, DestinationState> rows;
        final java.util.Map<String, Integer> nodesSharing;
        /** The node's place among the nodes sharing each key ({@link DestinationTransitions#placeAmong}). */
        final java.util.Map<String, Integer> places;
        final java.util.Map<String, Integer> ownSlots;
        /** The slots of every node's lease that stands, per key the node leases. */
        final java.util.Map<String, Integer> leasedByAll;
        /** The keys the node leases for which another node waits for slots. */
        final java.util.Set<String> othersWaiting;

        Beat(java.util.Map<String, DestinationState> rows, java.util.Map<String, Integer> nodesSharing,
             java.util.Map<String, Integer> places, java.util.Map<String, Integer> ownSlots,
             java.util.Map<String, Integer> leasedByAll, java.util.Set<String> othersWaiting) {
            this.rows = rows;
            this.nodesSharing = nodesSharing;
            this.places = places;
            this.ownSlots = ownSlots;
            this.leasedByAll = leasedByAll;
            this.othersWaiting = othersWaiting;
        }
    }

    /**
     * A node's heartbeat: gives back and flags its leases as {@code plan} decides, adds the outcomes
     * it counted in memory, renews its leases that have not expired to {@code now + leaseFor} (an
     * expired one is no longer the node's: see {@link #lease}), drops the empty ones, and reads the
     * rows it needs to know about (held keys and the keys it leases; without the in-flight count),
     * how many nodes lease or want each of its keys and its place among them, how many slots they lease
     * together and whether another node waits for some, and the slots of its own leases that stand.
     */
    Beat beat(String node, BeatPlan plan, Duration leaseFor, Instant now) {
        // Statement by statement, each its own transaction: a heartbeat never holds one row while waiting for
        // another, so it cannot deadlock with a lease (state row, then lease row) or another node's heartbeat.
        return db.withConnection("renew the leases of node " + node, c -> {
            List<BeatChange> changes;
            try (PreparedStatement give = c.prepareStatement("UPDATE " + DestinationTables.LEASES
                    + " SET slots = CASE WHEN slots > ? THEN slots - ? ELSE 0 END, wanted = ? WHERE name = ? AND egress = ? AND node = ?")) {
                changes = plan.decide((name, slots, wantsMore) -> {
                    give.setInt(1, slots);
                    give.setInt(2, slots);
                    give.setInt(3, wantsMore ? 1 : 0);
                    give.setString(4, name);
                    give.setString(5, egress.name());
                    give.setString(6, node);
                    give.executeUpdate();
                });
            }
            try (PreparedStatement want = c.prepareStatement("UPDATE " + DestinationTables.LEASES
                    + " SET wanted = ? WHERE name = ? AND egress = ? AND node = ?");
                 PreparedStatement count = c.prepareStatement("UPDATE " + STATE + " SET attempts = attempts + ?, "
                         + "last_reply = CASE WHEN ? IS NOT NULL AND (last_attempt_ms IS NULL OR last_attempt_ms <= ?) THEN ? ELSE last_reply END, "
                         + "last_attempt_ms = CASE WHEN last_attempt_ms IS NULL OR last_attempt_ms < ? THEN ? ELSE last_attempt_ms END, "
                         + "last_activity_ms = CASE WHEN last_activity_ms IS NULL OR last_activity_ms < ? THEN ? ELSE last_activity_ms END "
                         + "WHERE name = ? AND egress = ?")) {
                for (BeatChange ch : changes) {
                    if (ch.giveBack == 0) {
                        want.setInt(1, ch.wantsMore ? 1 : 0);
                        want.setString(2, ch.name);
                        want.setString(3, egress.name());
                        want.setString(4, node);
                        want.executeUpdate();
                    }
                    if (ch.attempts > 0) {
                        long at = ch.lastAttemptAt.toEpochMilli();
                        count.setLong(1, ch.attempts);
                        count.setString(2, ch.lastReply);
                        count.setLong(3, at);
                        count.setString(4, ch.lastReply);
                        count.setLong(5, at);
                        count.setLong(6, at);
                        count.setLong(7, at);
                        count.setLong(8, at);
                        count.setString(9, ch.name);
                        count.setString(10, egress.name());
                        count.executeUpdate();
                        ch.counted = true;
                    }
                }
            }
            try (PreparedStatement renew = c.prepareStatement("UPDATE " + DestinationTables.LEASES
                    + " SET expires_ms = ? WHERE node = ? AND egress = ? AND expires_ms > ?");
                 PreparedStatement drop = c.prepareStatement("DELETE FROM " + DestinationTables.LEASES
                         + " WHERE node = ? AND egress = ? AND slots = 0 AND wanted = 0")) {
                renew.setLong(1, now.plus(leaseFor).toEpochMilli());
                renew.setString(2, node);
                renew.setString(3, egress.name());
                renew.setLong(4, now.toEpochMilli());
                renew.executeUpdate();
                drop.setString(1, node);
                drop.setString(2, egress.name());
                drop.executeUpdate();
            }
            java.util.Map<String, DestinationState> rows = new java.util.HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + DestinationTables.COLUMNS + " FROM " + STATE
                    + " WHERE egress = ? AND (held_until_ms IS NOT NULL OR name IN (SELECT name FROM " + DestinationTables.LEASES
                    + " WHERE node = ? AND egress = ?))")) {
                ps.setString(1, egress.name());
                ps.setString(2, node);
                ps.setString(3, egress.name());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        DestinationState row = DestinationTables.readRow(rs, now, leaseTimeout);
                        rows.put(row.destination(), row);
                    }
                }
            }
            java.util.Map<String, List<String>> sharingNodes = new java.util.HashMap<>();
            java.util.Map<String, Integer> leasedByAll = new java.util.HashMap<>();
            java.util.Set<String> waiting = new java.util.HashSet<>();
            // The leases themselves rather than counts: each node's place among the others is worked out in Java, by the
            // order every node uses (the database's collation may differ from it).
            try (PreparedStatement ps = c.prepareStatement("SELECT name, node, slots, wanted FROM " + DestinationTables.LEASES
                    + " WHERE egress = ? AND expires_ms > ? AND (slots > 0 OR wanted > 0) AND name IN (SELECT name FROM "
                    + DestinationTables.LEASES + " WHERE node = ? AND egress = ?)")) {
                ps.setString(1, egress.name());
                ps.setLong(2, now.toEpochMilli());
                ps.setString(3, node);
                ps.setString(4, egress.name());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String name = rs.getString(1);
                        String holder = rs.getString(2);
                        sharingNodes.computeIfAbsent(name, n -> new ArrayList<>()).add(holder);
                        leasedByAll.merge(name, rs.getInt(3), Integer::sum);
                        if (rs.getInt(4) > 0 && !holder.equals(node)) {
                            waiting.add(name);
                        }
                    }
                }
            }
            java.util.Map<String, Integer> sharing = new java.util.HashMap<>();
            java.util.Map<String, Integer> places = new java.util.HashMap<>();
            for (java.util.Map.Entry<String, List<String>> e : sharingNodes.entrySet()) {
                sharing.put(e.getKey(), e.getValue().size());
                places.put(e.getKey(), DestinationTransitions.placeAmong(node, e.getValue()));
            }
            java.util.Map<String, Integer> own = new java.util.HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT name, slots FROM " + DestinationTables.LEASES
                    + " WHERE node = ? AND egress = ? AND expires_ms > ?")) {
                ps.setString(1, node);
                ps.setString(2, egress.name());
                ps.setLong(3, now.toEpochMilli());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        own.put(rs.getString(1), rs.getInt(2));
                    }
                }
            }
            return new Beat(rows, sharing, places, own, leasedByAll, waiting);
        });
    }

    /** Deletes every lease of {@code node}: a node that stops gives its slots back at once. */
    void dropLeases(String node) {
        db.withConnection("drop the leases of node " + node, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + DestinationTables.LEASES + " WHERE node = ? AND egress = ?")) {
                ps.setString(1, node);
                ps.setString(2, egress.name());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Writes {@code state} as its key's row (created if missing), with no probe running: how a
     * {@link SingleNodeDestinationStateStore} keeps the holds and pace it decided in memory.
     */
    void save(DestinationState state, Instant now) {
        Preconditions.checkNotNull(state, "state");
        locked(DestinationKey.of(state.destination()), now, true, null, (c, l) -> {
            l.state = state.toBuilder().probing(false).build();
            return null;
        });
    }

    @Override
    public boolean releaseHold(DestinationKey key) {
        return locked(key, clock.instant(), false, false, (c, l) -> {
            if (!l.state.heldUntil().isPresent()) {
                return false;
            }
            l.state = DestinationTransitions.released(l.state);
            return true;
        });
    }

    @Override
    public Optional<DestinationState> get(DestinationKey key) {
        Preconditions.checkNotNull(key, "key");
        return read(" AND name = ?", key.asString()).stream().findFirst();
    }

    @Override
    public List<DestinationState> all() {
        return read(" ORDER BY name", null);
    }

    /** This store's node id, in its slot and lease rows. */
    String nodeId() {
        return nodeId;
    }

    Clock clock() {
        return clock;
    }

    Duration busyWait() {
        return busyWait;
    }

    /** The egress whose rows this store reads and writes. */
    public Egress egress() {
        return egress;
    }

    private List<DestinationState> read(String where, String name) {
        Instant now = clock.instant();
        return db.withConnection("read destination state", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + DestinationTables.COLUMNS + " FROM " + STATE
                    + " WHERE egress = ?" + where)) {
                ps.setString(1, egress.name());
                if (name != null) {
                    ps.setString(2, name);
                }
                ImmutableList.Builder<DestinationState> out = ImmutableList.builder();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(DestinationTables.read(c, rs, egress, now, leaseTimeout));
                    }
                }
                return out.build();
            }
        });
    }

    /**
     * Deletes now the rows of idle keys (see {@link DestinationStateStore}), expired leases, and the
     * rate-limit starts of keys no longer there; returns how many keys were forgotten. Runs by
     * itself at most once per {@code sweepEvery}, on admissions and recorded outcomes.
     */
    public int forgetIdle(Instant now) {
        Preconditions.checkNotNull(now, "now");
        nextSweepMs.set(now.plus(sweepEvery).toEpochMilli());
        long cutoff = now.minus(idleAfter).toEpochMilli();
        long leaseCutoff = now.minus(leaseTimeout).toEpochMilli();
        return db.withConnection("forget idle destinations", c -> {
            int forgotten;
            // The SQL form of DestinationTransitions.isIdle, with leases for the in-flight count.
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + STATE
                    + " WHERE (held_until_ms IS NULL OR held_until_ms <= ?)"
                    + " AND (probe_started_ms IS NULL OR probe_started_ms <= ?)"
                    + " AND COALESCE(last_activity_ms, last_attempt_ms, 0) <= ?"
                    + " AND (rate_window_end_ms IS NULL OR rate_window_end_ms <= ?)"
                    + " AND NOT EXISTS (SELECT 1 FROM " + SLOTS + " s WHERE s.name = " + STATE + ".name"
                    + " AND s.egress = " + STATE + ".egress AND s.started_ms > ?)"
                    + " AND NOT EXISTS (SELECT 1 FROM " + DestinationTables.LEASES + " l WHERE l.name = " + STATE + ".name"
                    + " AND l.egress = " + STATE + ".egress AND l.expires_ms > ? AND l.slots > 0)")) {
                ps.setLong(1, cutoff);
                ps.setLong(2, leaseCutoff);
                ps.setLong(3, cutoff);
                ps.setLong(4, now.toEpochMilli());
                ps.setLong(5, leaseCutoff);
                ps.setLong(6, now.toEpochMilli());
                forgotten = ps.executeUpdate();
            }
            // A node's lease that was not renewed in time: the node is dead, its share returns.
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + DestinationTables.LEASES + " WHERE expires_ms <= ?")) {
                ps.setLong(1, now.toEpochMilli());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + SLOTS + " WHERE started_ms <= ?")) {
                ps.setLong(1, leaseCutoff);
                ps.executeUpdate();
            }
            try (Statement st = c.createStatement()) {
                st.executeUpdate("DELETE FROM " + STARTS + " WHERE NOT EXISTS (SELECT 1 FROM " + STATE
                        + " d WHERE d.name = " + STARTS + ".name AND d.egress = " + STARTS + ".egress)");
            }
            return forgotten;
        });
    }

    /** Best effort: a failed sweep must not fail the delivery that triggered it; the next one tries again. */
    void sweepIfDue(Instant now) {
        long due = nextSweepMs.get();
        long nowMs = now.toEpochMilli();
        if (nowMs < due || !nextSweepMs.compareAndSet(due, now.plus(sweepEvery).toEpochMilli())) {
            return;
        }
        try {
            forgetIdle(now);
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: " + e.getMessage(), e);
        }
    }


    /** Releases the embedded database file when this store opened it ({@link #openH2}); else nothing. */
    @Override
    public void close() {
        if (ownsDatabase) {
            db.close();
        }
    }

    @Override
    public String toString() {
        return "JdbcDestinationStateStore{node " + nodeId + ", egress " + egress + ", " + db + "}";
    }
}
