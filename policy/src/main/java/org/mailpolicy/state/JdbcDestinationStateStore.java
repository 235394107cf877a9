package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;
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
 * <p>Times are epoch milliseconds in BIGINT columns: no time-zone conversion between drivers.
 * Tables created by earlier versions get the new columns on open ({@code ADD COLUMN IF NOT EXISTS}).
 */
public final class JdbcDestinationStateStore implements DestinationStateStore, AutoCloseable {
    public static final String STATE = "delivery_policy_destination";
    public static final String SLOTS = "delivery_policy_destination_slot";
    public static final String STARTS = "delivery_policy_destination_start";
    public static final Duration DEFAULT_BUSY_WAIT = Duration.ofSeconds(10);
    /** Longer than any SMTP attempt (James's timeouts are minutes): a lease this old belongs to a dead node. */
    public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofMinutes(30);
    public static final Duration DEFAULT_SWEEP_EVERY = Duration.ofMinutes(1);
    /** A key: a destination name (at most 64) or a domain name (at most 253). */
    private static final int NAME_COLUMN = DestinationKey.MAX_LENGTH;
    private static final int LOCK_ATTEMPTS = 3;
    private static final String COLUMNS = "name, held_until_ms, current_hold_ms, consecutive_throttles, attempts, "
            + "last_reply, last_attempt_ms, probe_started_ms, last_activity_ms, rate_window_end_ms, next_start_ms, hold_started_ms, "
            + "pace_rate, pace_concurrency, pace_changed_ms, pace_signal_ms, pace_signals";
    private static final System.Logger LOGGER = System.getLogger(JdbcDestinationStateStore.class.getName());

    private final Database db;
    private final boolean ownsDatabase;
    private final Clock clock;
    private final String nodeId;
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
            store.createSchema();
            if (db.isSingleProcess()) {
                store.dropLeftoverLeases();
            }
            return store;
        }

        private static Duration positive(Duration d, String name) {
            Preconditions.checkArgument(d != null && !d.isNegative() && !d.isZero(), "%s must be positive: %s", name, d);
            return d;
        }
    }

    private void createSchema() {
        db.withConnection("create the destination state tables", c -> {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("CREATE TABLE IF NOT EXISTS " + STATE + " ("
                        + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL PRIMARY KEY, "
                        + "held_until_ms BIGINT, "
                        + "current_hold_ms BIGINT NOT NULL, "
                        + "consecutive_throttles INTEGER NOT NULL, "
                        + "attempts BIGINT NOT NULL, "
                        + "last_reply VARCHAR(" + (DestinationTransitions.MAX_REPLY_CHARS + 3) + "), "
                        + "last_attempt_ms BIGINT, "
                        + "probe_started_ms BIGINT)");
                // Added after the first release: tables of earlier versions get them here.
                for (String column : new String[] {"last_activity_ms BIGINT", "rate_window_end_ms BIGINT",
                        "next_start_ms BIGINT", "hold_started_ms BIGINT", "pace_rate DOUBLE PRECISION", "pace_concurrency INTEGER",
                        "pace_changed_ms BIGINT", "pace_signal_ms BIGINT", "pace_signals INTEGER"}) {
                    st.executeUpdate("ALTER TABLE " + STATE + " ADD COLUMN IF NOT EXISTS " + column);
                }
                st.executeUpdate("CREATE TABLE IF NOT EXISTS " + SLOTS + " ("
                        + "id VARCHAR(36) NOT NULL PRIMARY KEY, "
                        + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL, "
                        + "node VARCHAR(36) NOT NULL, "
                        + "started_ms BIGINT NOT NULL)");
                st.executeUpdate("CREATE INDEX IF NOT EXISTS " + SLOTS + "_name ON " + SLOTS + " (name, started_ms)");
                st.executeUpdate("CREATE TABLE IF NOT EXISTS " + STARTS + " ("
                        + "id VARCHAR(36) NOT NULL PRIMARY KEY, "
                        + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL, "
                        + "started_ms BIGINT NOT NULL)");
                st.executeUpdate("CREATE INDEX IF NOT EXISTS " + STARTS + "_name ON " + STARTS + " (name, started_ms)");
            }
            return null;
        });
    }

    /** Single process, on open: no attempt of a previous process is still running. */
    private void dropLeftoverLeases() {
        db.withConnection("drop the in-flight attempts of the previous process", c -> {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("DELETE FROM " + SLOTS);
                st.executeUpdate("UPDATE " + STATE + " SET probe_started_ms = NULL WHERE probe_started_ms IS NOT NULL");
            }
            return null;
        });
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
            } catch (UncheckedSql e) {
                throw (SQLException) e.getCause();
            }
            write(tx, l, now);
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
    private static boolean insertRow(Connection c, String name, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + STATE
                + " (name, current_hold_ms, consecutive_throttles, attempts, last_activity_ms) VALUES (?, 0, 0, 0, ?)")) {
            ps.setString(1, name);
            ps.setLong(2, now.toEpochMilli());
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
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + STATE + " WHERE name = ? FOR UPDATE")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Instant probeStarted = instant(rs, "probe_started_ms");
                return Optional.of(new Locked(read(c, rs, now), probeStarted));
            }
        }
    }

    /** The row as a state value, with the in-flight count of live leases and the probe judged by the lease timeout. */
    private DestinationState read(Connection c, ResultSet rs, Instant now) throws SQLException {
        String name = rs.getString("name");
        Instant probeStarted = instant(rs, "probe_started_ms");
        Pace pace = null;
        double rate = rs.getDouble("pace_rate");
        if (!rs.wasNull()) {
            pace = Pace.of(rate, Math.max(1, rs.getInt("pace_concurrency")), instant(rs, "pace_changed_ms"),
                    Optional.ofNullable(instant(rs, "pace_signal_ms")), rs.getInt("pace_signals"));
        }
        return DestinationState.builder(name)
                .heldUntil(Optional.ofNullable(instant(rs, "held_until_ms")))
                .currentHold(Duration.ofMillis(rs.getLong("current_hold_ms")))
                .consecutiveThrottles(rs.getInt("consecutive_throttles"))
                .attempts(rs.getLong("attempts"))
                .lastReply(Optional.ofNullable(rs.getString("last_reply")))
                .lastAttemptAt(Optional.ofNullable(instant(rs, "last_attempt_ms")))
                .probing(probeStarted != null && now.isBefore(probeStarted.plus(leaseTimeout)))
                .lastActivity(Optional.ofNullable(instant(rs, "last_activity_ms")))
                .rateWindowEnd(Optional.ofNullable(instant(rs, "rate_window_end_ms")))
                .nextStartAt(Optional.ofNullable(instant(rs, "next_start_ms")))
                .holdStartedAt(Optional.ofNullable(instant(rs, "hold_started_ms")))
                .pace(Optional.ofNullable(pace))
                .inFlight(liveSlots(c, name, now))
                .build();
    }

    private static void write(Connection c, Locked l, Instant now) throws SQLException {
        DestinationState s = l.state;
        // A probe keeps the start it had; a new one starts now.
        Instant probeStarted = !s.probing() ? null : l.probeStarted != null ? l.probeStarted : now;
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + STATE + " SET held_until_ms = ?, current_hold_ms = ?, "
                + "consecutive_throttles = ?, attempts = ?, last_reply = ?, last_attempt_ms = ?, probe_started_ms = ?, "
                + "last_activity_ms = ?, rate_window_end_ms = ?, next_start_ms = ?, pace_rate = ?, pace_concurrency = ?, "
                + "pace_changed_ms = ?, pace_signal_ms = ?, pace_signals = ?, hold_started_ms = ? WHERE name = ?")) {
            setInstant(ps, 1, s.heldUntil());
            ps.setLong(2, s.currentHold().toMillis());
            ps.setInt(3, s.consecutiveThrottles());
            ps.setLong(4, s.attempts());
            ps.setString(5, s.lastReply().orElse(null));
            setInstant(ps, 6, s.lastAttemptAt());
            setInstant(ps, 7, Optional.ofNullable(probeStarted));
            setInstant(ps, 8, s.lastActivity());
            setInstant(ps, 9, s.rateWindowEnd());
            setInstant(ps, 10, s.nextStartAt());
            Optional<Pace> pace = s.pace();
            if (pace.isPresent()) {
                ps.setDouble(11, pace.get().rate());
                ps.setInt(12, pace.get().concurrency());
            } else {
                ps.setNull(11, Types.DOUBLE);
                ps.setNull(12, Types.INTEGER);
            }
            setInstant(ps, 13, pace.map(Pace::changedAt));
            setInstant(ps, 14, pace.flatMap(Pace::lastSignalAt));
            ps.setInt(15, pace.map(Pace::recentSignals).orElse(0));
            setInstant(ps, 16, s.holdStartedAt());
            ps.setString(17, s.destination());
            ps.executeUpdate();
        }
    }

    /** Leases younger than the lease timeout; older ones belong to dead nodes (the sweep deletes them). */
    private int liveSlots(Connection c, String name, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + SLOTS + " WHERE name = ? AND started_ms > ?")) {
            ps.setString(1, name);
            ps.setLong(2, now.minus(leaseTimeout).toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The starts rows of one key within the rate period ending now, read only as far as asked. */
    private static final class StartRows implements RecentStarts {
        private final Connection c;
        private final String name;
        private final Duration per;
        private final long periodStartMs;
        private int count = -1;

        StartRows(Connection c, String name, Optional<RateLimit> rate, Instant now) {
            this.c = c;
            this.name = name;
            this.per = rate.map(RateLimit::per).orElse(Duration.ZERO);
            this.periodStartMs = now.minus(per).toEpochMilli();
        }

        /** Asked only with a rate: starts that left the period are deleted first, then counted. */
        @Override
        public int count() {
            if (count < 0) {
                try (PreparedStatement purge = c.prepareStatement("DELETE FROM " + STARTS
                        + " WHERE name = ? AND started_ms <= ?")) {
                    purge.setString(1, name);
                    purge.setLong(2, periodStartMs);
                    purge.executeUpdate();
                } catch (SQLException e) {
                    throw new UncheckedSql(e);
                }
                count = (int) query("SELECT COUNT(*) FROM " + STARTS + " WHERE name = ?", -1);
            }
            return count;
        }

        @Override
        public Instant whenFewerThan(int limit) {
            long oldestLeaving = query("SELECT started_ms FROM " + STARTS + " WHERE name = ? ORDER BY started_ms "
                    + "OFFSET ? ROWS FETCH FIRST 1 ROWS ONLY", count() - limit);
            return Instant.ofEpochMilli(oldestLeaving).plus(per);
        }

        private long query(String sql, int offset) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, name);
                if (offset >= 0) {
                    ps.setInt(2, offset);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            } catch (SQLException e) {
                throw new UncheckedSql(e);
            }
        }
    }

    /** Carries an SQLException out of {@link RecentStarts}, whose methods cannot throw it. */
    private static final class UncheckedSql extends RuntimeException {
        UncheckedSql(SQLException e) {
            super(e);
        }
    }

    @Override
    public Admission admit(DestinationKey key, DestinationPolicy policy, Optional<Instant> reservation, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(reservation, "reservation");
        return locked(key, now, true, null, (tx, row) -> {
            DestinationTransitions.Admitted a = DestinationTransitions.admit(row.state, policy,
                    new StartRows(tx, key.asString(), policy.rateLimit(), now), reservation, busyWait, now);
            row.state = a.next();
            if (a.admission().isGranted()) {
                insertStarted(tx, SLOTS, "(id, name, node, started_ms) VALUES (?, ?, ?, ?)", key.asString(), nodeId, now);
                if (policy.rateLimit().isPresent()) {
                    insertStarted(tx, STARTS, "(id, name, started_ms) VALUES (?, ?, ?)", key.asString(), null, now);
                }
            }
            return a.admission();
        });
    }

    private static void insertStarted(Connection c, String table, String columnsAndValues, String name, String node,
                                      Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " " + columnsAndValues)) {
            int i = 1;
            ps.setString(i++, UUID.randomUUID().toString());
            ps.setString(i++, name);
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
                    + SLOTS + " WHERE name = ? AND node = ? ORDER BY started_ms, id FETCH FIRST 1 ROWS ONLY)")) {
                ps.setString(1, key.asString());
                ps.setString(2, nodeId);
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
                policy, effect, reply, hint, new StartRows(tx, key.asString(), policy.rateLimit(), now), now));
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
        return read(" WHERE name = ?", key.asString()).stream().findFirst();
    }

    @Override
    public List<DestinationState> all() {
        return read(" ORDER BY name", null);
    }

    private List<DestinationState> read(String where, String name) {
        Instant now = clock.instant();
        return db.withConnection("read destination state", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + STATE + where)) {
                if (name != null) {
                    ps.setString(1, name);
                }
                ImmutableList.Builder<DestinationState> out = ImmutableList.builder();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(read(c, rs, now));
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
                    + " AND NOT EXISTS (SELECT 1 FROM " + SLOTS + " s WHERE s.name = " + STATE + ".name AND s.started_ms > ?)")) {
                ps.setLong(1, cutoff);
                ps.setLong(2, leaseCutoff);
                ps.setLong(3, cutoff);
                ps.setLong(4, now.toEpochMilli());
                ps.setLong(5, leaseCutoff);
                forgotten = ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + SLOTS + " WHERE started_ms <= ?")) {
                ps.setLong(1, leaseCutoff);
                ps.executeUpdate();
            }
            try (Statement st = c.createStatement()) {
                st.executeUpdate("DELETE FROM " + STARTS + " WHERE NOT EXISTS (SELECT 1 FROM " + STATE
                        + " d WHERE d.name = " + STARTS + ".name)");
            }
            return forgotten;
        });
    }

    /** Best effort: a failed sweep must not fail the delivery that triggered it; the next one tries again. */
    private void sweepIfDue(Instant now) {
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

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    private static void setInstant(PreparedStatement ps, int index, Optional<Instant> value) throws SQLException {
        if (value.isPresent()) {
            ps.setLong(index, value.get().toEpochMilli());
        } else {
            ps.setNull(index, Types.BIGINT);
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
        return "JdbcDestinationStateStore{node " + nodeId + ", " + db + "}";
    }
}
