package org.mailpolicy.shared;

import com.google.common.base.CharMatcher;
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
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.jdbcx.JdbcDataSource;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.state.Admission;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.suppression.SqlErrors;

/**
 * {@link DestinationStateStore} in a SQL database: PostgreSQL shared by several James nodes, or the
 * embedded H2 file of one node (next to its suppression list), so that holds survive a restart.
 * Each operation is one transaction that locks the key's row, so a hold started by one node stops
 * every node's next admission, and concurrency and rate limits count the whole cluster.
 *
 * <p>The rules are those of {@code InMemoryDestinationStateStore}, applied to rows. An in-flight
 * attempt is a lease row (node, start time) and a probe has a start time, both ignored after
 * {@code leaseTimeout}, so that a node that dies mid-attempt cannot hold its slots, or the probe
 * after a hold, for ever. A store opened for a single node ({@link Builder#singleNode()}, the
 * embedded H2 file, which only one process can open) also drops every lease and probe when it
 * opens: whatever was in flight died with the previous process.
 *
 * <p>Idle keys are forgotten (see {@link DestinationStateStore}): at most once per
 * {@code sweepEvery}, an admission or a recorded outcome also deletes, in separate statements,
 * the rows of idle keys, expired leases, and the rate-limit starts of keys no longer there.
 *
 * <p>Times are epoch milliseconds in BIGINT columns: no time-zone conversion between drivers.
 * Tables created by earlier versions get the new columns on open ({@code ADD COLUMN IF NOT EXISTS});
 * their rows count as last active at their last attempt.
 */
public final class JdbcDestinationStateStore implements DestinationStateStore, AutoCloseable {
    static final String STATE = "delivery_policy_destination";
    static final String SLOTS = "delivery_policy_destination_slot";
    static final String STARTS = "delivery_policy_destination_start";
    public static final Duration DEFAULT_BUSY_WAIT = Duration.ofSeconds(10);
    /** Longer than any SMTP attempt (James's timeouts are minutes): a lease this old belongs to a dead node. */
    public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofMinutes(30);
    public static final Duration DEFAULT_SWEEP_EVERY = Duration.ofMinutes(1);
    private static final int MAX_REPLY_CHARS = 500;
    /** A key: a destination name (at most 64) or a domain name (at most 253). */
    private static final int NAME_COLUMN = DestinationKey.MAX_LENGTH;
    private static final int LOCK_ATTEMPTS = 3;
    private static final System.Logger LOGGER = System.getLogger(JdbcDestinationStateStore.class.getName());

    private final DataSource dataSource;
    private final JdbcConnectionPool ownedPool;
    private final String description;
    private final Clock clock;
    private final String nodeId;
    private final Duration busyWait;
    private final Duration leaseTimeout;
    private final Duration idleAfter;
    private final Duration sweepEvery;
    private final AtomicLong nextSweepMs = new AtomicLong(Long.MIN_VALUE);

    private JdbcDestinationStateStore(Builder b, JdbcConnectionPool ownedPool, String description) {
        this.dataSource = b.dataSource;
        this.ownedPool = ownedPool;
        this.description = description;
        this.clock = b.clock;
        this.nodeId = UUID.randomUUID().toString();
        this.busyWait = b.busyWait;
        this.leaseTimeout = b.leaseTimeout;
        this.idleAfter = b.idleAfter;
        this.sweepEvery = b.sweepEvery;
    }

    /** Opens the store on a DataSource the caller owns (a cluster's database), creating the tables if they are missing. */
    public static JdbcDestinationStateStore open(DataSource dataSource) {
        return on(dataSource).open();
    }

    /**
     * @param clock        the time {@link #get} and {@link #all} judge leases and probes by (the
     *                     recording methods take their instant as a parameter)
     * @param busyWait     how long a caller refused for concurrency or a running probe waits
     * @param leaseTimeout after this, an in-flight slot or a probe of a node that never finished it is ignored
     */
    public static JdbcDestinationStateStore open(DataSource dataSource, Clock clock, Duration busyWait,
                                                 Duration leaseTimeout) {
        return on(dataSource).clock(clock).busyWait(busyWait).leaseTimeout(leaseTimeout).open();
    }

    /** The store on {@code dataSource}, with the settings still to choose. */
    public static Builder on(DataSource dataSource) {
        return new Builder(Preconditions.checkNotNull(dataSource, "dataSource"));
    }

    /**
     * The embedded H2 database file at {@code fileBase} (H2 adds {@code .mv.db}), the one the
     * suppression list of the same path uses, opened for a single node: leases and probes left by a
     * previous process are dropped. Close it to release the file.
     *
     * @throws SharedStoreException if the file cannot be opened (locked by another process, unreadable)
     */
    public static JdbcDestinationStateStore openH2(Path fileBase) {
        return openH2(fileBase, Clock.systemUTC());
    }

    /** As {@link #openH2(Path)}, judging leases by {@code clock}. */
    public static JdbcDestinationStateStore openH2(Path fileBase, Clock clock) {
        Preconditions.checkNotNull(fileBase, "fileBase");
        JdbcDataSource h2 = new JdbcDataSource();
        // The same URL as the suppression list's (org.mailpolicy.suppression.EmbeddedH2): in one JVM,
        // every pool on one file then shares one open database.
        h2.setURL("jdbc:h2:file:" + fileBase.toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE;AUTO_SERVER=FALSE");
        h2.setUser("sa");
        h2.setPassword("");
        JdbcConnectionPool pool = JdbcConnectionPool.create(h2);
        pool.setMaxConnections(32);
        try {
            return on(pool).clock(clock).singleNode().open(pool, "H2 " + fileBase.toAbsolutePath());
        } catch (RuntimeException e) {
            pool.dispose();
            throw e;
        }
    }

    /** Settings of a store; {@link #open()} creates the tables if missing. */
    public static final class Builder {
        private final DataSource dataSource;
        private Clock clock = Clock.systemUTC();
        private Duration busyWait = DEFAULT_BUSY_WAIT;
        private Duration leaseTimeout = DEFAULT_LEASE_TIMEOUT;
        private Duration idleAfter = DEFAULT_IDLE_AFTER;
        private Duration sweepEvery = DEFAULT_SWEEP_EVERY;
        private boolean singleNode;

        private Builder(DataSource dataSource) {
            this.dataSource = dataSource;
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

        /**
         * The database belongs to this process alone (an embedded file): on open, every lease and
         * probe is dropped, since the attempts they stood for died with the previous process.
         * Never for a database that other nodes use: their running attempts would be forgotten.
         */
        public Builder singleNode() {
            this.singleNode = true;
            return this;
        }

        public JdbcDestinationStateStore open() {
            // SharedDatabase's DataSource prints its URL and user, never the password.
            return open(null, dataSource.toString());
        }

        private JdbcDestinationStateStore open(JdbcConnectionPool ownedPool, String description) {
            JdbcDestinationStateStore store = new JdbcDestinationStateStore(this, ownedPool, description);
            store.createSchema();
            if (singleNode) {
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
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + STATE + " ("
                    + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL PRIMARY KEY, "
                    + "held_until_ms BIGINT, "
                    + "current_hold_ms BIGINT NOT NULL, "
                    + "consecutive_throttles INTEGER NOT NULL, "
                    + "attempts BIGINT NOT NULL, "
                    + "last_reply VARCHAR(" + (MAX_REPLY_CHARS + 3) + "), "
                    + "last_attempt_ms BIGINT, "
                    + "probe_started_ms BIGINT)");
            // Added after the first release: tables of earlier versions get them here.
            st.executeUpdate("ALTER TABLE " + STATE + " ADD COLUMN IF NOT EXISTS last_activity_ms BIGINT");
            st.executeUpdate("ALTER TABLE " + STATE + " ADD COLUMN IF NOT EXISTS rate_window_end_ms BIGINT");
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
        } catch (SQLException e) {
            throw failure("cannot create the destination state tables", e);
        }
    }

    /** Single node, on open: no attempt of a previous process is still running. */
    private void dropLeftoverLeases() {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM " + SLOTS);
            st.executeUpdate("UPDATE " + STATE + " SET probe_started_ms = NULL WHERE probe_started_ms IS NOT NULL");
        } catch (SQLException e) {
            throw failure("cannot drop the in-flight attempts of the previous process", e);
        }
    }

    /** One locked row: the state as stored. */
    private static final class Row {
        Instant heldUntil;
        Duration currentHold = Duration.ZERO;
        int consecutiveThrottles;
        long attempts;
        String lastReply;
        Instant lastAttemptAt;
        Instant probeStarted;
        Instant lastActivity;
        Instant rateWindowEnd;

        boolean probing(Instant now, Duration leaseTimeout) {
            return probeStarted != null && now.isBefore(probeStarted.plus(leaseTimeout));
        }

        boolean isHeldAt(Instant now) {
            return heldUntil != null && now.isBefore(heldUntil);
        }
    }

    /** A unit of work on one locked row. */
    private interface Work<T> {
        T run(Connection c, Row row) throws SQLException;
    }

    /** Runs {@code work} on the key's row, locked, creating the row if missing; then maybe sweeps. */
    private <T> T inTransaction(DestinationKey key, Instant now, Work<T> work) {
        Preconditions.checkNotNull(key, "key");
        String name = key.asString();
        T result;
        try (Connection c = dataSource.getConnection()) {
            result = lockedWork(c, name, now, work);
        } catch (SQLException e) {
            throw failure("cannot update destination " + name, e);
        }
        sweepIfDue(now);
        return result;
    }

    private <T> T lockedWork(Connection c, String name, Instant now, Work<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            for (int attempt = 1; ; attempt++) {
                Optional<Row> row = lock(c, name);
                if (!row.isPresent()) {
                    // Never seen, or forgotten as idle: create it, then lock it. Another thread or
                    // node may create it at the same time (a duplicate key) or a sweep forget it
                    // again before the lock: then start over, at most a few times.
                    if (attempt >= LOCK_ATTEMPTS) {
                        throw new SQLException("cannot create or lock the row of destination " + name);
                    }
                    insertRow(c, name, now);
                    continue;
                }
                Row r = row.get();
                T result = work.run(c, r);
                if (r.lastActivity == null || now.isAfter(r.lastActivity)) {
                    r.lastActivity = now;
                }
                write(c, name, r);
                c.commit();
                return result;
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
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

    private static final String COLUMNS = "name, held_until_ms, current_hold_ms, consecutive_throttles, attempts, "
            + "last_reply, last_attempt_ms, probe_started_ms, last_activity_ms, rate_window_end_ms";

    private static Optional<Row> lock(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + STATE + " WHERE name = ? FOR UPDATE")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Row row = new Row();
                readInto(rs, row);
                return Optional.of(row);
            }
        }
    }

    private static void readInto(ResultSet rs, Row row) throws SQLException {
        row.heldUntil = instant(rs, "held_until_ms");
        row.currentHold = Duration.ofMillis(rs.getLong("current_hold_ms"));
        row.consecutiveThrottles = rs.getInt("consecutive_throttles");
        row.attempts = rs.getLong("attempts");
        row.lastReply = rs.getString("last_reply");
        row.lastAttemptAt = instant(rs, "last_attempt_ms");
        row.probeStarted = instant(rs, "probe_started_ms");
        row.lastActivity = instant(rs, "last_activity_ms");
        row.rateWindowEnd = instant(rs, "rate_window_end_ms");
    }

    private static void write(Connection c, String name, Row row) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + STATE + " SET held_until_ms = ?, current_hold_ms = ?, "
                + "consecutive_throttles = ?, attempts = ?, last_reply = ?, last_attempt_ms = ?, probe_started_ms = ?, "
                + "last_activity_ms = ?, rate_window_end_ms = ? WHERE name = ?")) {
            setInstant(ps, 1, row.heldUntil);
            ps.setLong(2, row.currentHold.toMillis());
            ps.setInt(3, row.consecutiveThrottles);
            ps.setLong(4, row.attempts);
            ps.setString(5, row.lastReply);
            setInstant(ps, 6, row.lastAttemptAt);
            setInstant(ps, 7, row.probeStarted);
            setInstant(ps, 8, row.lastActivity);
            setInstant(ps, 9, row.rateWindowEnd);
            ps.setString(10, name);
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

    @Override
    public Admission admit(DestinationKey key, DestinationPolicy policy, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        String name = key.asString();
        return inTransaction(key, now, (c, row) -> {
            boolean probe = false;
            if (row.heldUntil != null) {
                if (now.isBefore(row.heldUntil)) {
                    return Admission.waitUntil(row.heldUntil, "destination " + name + " held until " + row.heldUntil
                            + " after throttling" + (row.lastReply == null ? "" : ": " + row.lastReply));
                }
                if (row.probing(now, leaseTimeout)) {
                    return Admission.waitUntil(now.plus(busyWait), "destination " + name + ": probe after hold in flight");
                }
                probe = true;
            }
            if (liveSlots(c, name, now) >= policy.concurrency()) {
                return Admission.waitUntil(now.plus(busyWait), "destination " + name + ": concurrency limit "
                        + policy.concurrency() + " reached");
            }
            Optional<RateLimit> rate = policy.rateLimit();
            if (rate.isPresent()) {
                Instant windowStart = now.minus(rate.get().per());
                try (PreparedStatement purge = c.prepareStatement("DELETE FROM " + STARTS + " WHERE name = ? AND started_ms <= ?")) {
                    purge.setString(1, name);
                    purge.setLong(2, windowStart.toEpochMilli());
                    purge.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), MIN(started_ms) FROM " + STARTS
                        + " WHERE name = ?")) {
                    ps.setString(1, name);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getInt(1) >= rate.get().count()) {
                            // The oldest start in the window leaves it exactly one period later.
                            return Admission.waitUntil(Instant.ofEpochMilli(rs.getLong(2)).plus(rate.get().per()),
                                    "destination " + name + ": rate limit " + rate.get() + " reached");
                        }
                    }
                }
                insert(c, "INSERT INTO " + STARTS + " (id, name, started_ms) VALUES (?, ?, ?)", name, now);
                Instant windowEnd = now.plus(rate.get().per());
                if (row.rateWindowEnd == null || windowEnd.isAfter(row.rateWindowEnd)) {
                    row.rateWindowEnd = windowEnd;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + SLOTS
                    + " (id, name, node, started_ms) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, UUID.randomUUID().toString());
                ps.setString(2, name);
                ps.setString(3, nodeId);
                ps.setLong(4, now.toEpochMilli());
                ps.executeUpdate();
            }
            row.probeStarted = probe ? now : null;
            return probe ? Admission.probe() : Admission.granted();
        });
    }

    private static void insert(Connection c, String sql, String name, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, UUID.randomUUID().toString());
            ps.setString(2, name);
            ps.setLong(3, now.toEpochMilli());
            ps.executeUpdate();
        }
    }

    @Override
    public void finished(DestinationKey key, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(now, "now");
        String name = key.asString();
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                Optional<Row> locked = lock(c, name);
                if (!locked.isPresent()) {
                    // Nothing to give back: never admitted here, or forgotten (then with no slot).
                    c.rollback();
                    return;
                }
                Row row = locked.get();
                // This node's oldest lease: which of its attempts ends does not matter, the count does.
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + SLOTS + " WHERE id = (SELECT id FROM "
                        + SLOTS + " WHERE name = ? AND node = ? ORDER BY started_ms, id FETCH FIRST 1 ROWS ONLY)")) {
                    ps.setString(1, name);
                    ps.setString(2, nodeId);
                    ps.executeUpdate();
                }
                // A probe that finishes without a recorded outcome is inconclusive: the next admit probes again.
                row.probeStarted = null;
                if (row.lastActivity == null || now.isAfter(row.lastActivity)) {
                    row.lastActivity = now;
                }
                write(c, name, row);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw failure("cannot update destination " + name, e);
        }
    }

    @Override
    public DestinationState recordThrottle(DestinationKey key, DestinationPolicy policy, String reply,
                                           Optional<Duration> hint, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(hint, "hint");
        Preconditions.checkNotNull(now, "now");
        return inTransaction(key, now, (c, row) -> {
            counted(row, reply, now);
            row.probeStarted = null;
            Duration hintLength = policy.throttleHold().boundedHint(hint);
            if (row.isHeldAt(now)) {
                // A connection that started before the hold (on any node) was answered late: only
                // a longer hint may lengthen the hold.
                Instant byHint = now.plus(hintLength);
                if (byHint.isAfter(row.heldUntil)) {
                    row.heldUntil = byHint;
                }
            } else {
                Duration hold = policy.throttleHold().next(row.currentHold, hint);
                row.currentHold = hold;
                row.heldUntil = now.plus(hold);
                row.consecutiveThrottles++;
            }
            return snapshot(c, key.asString(), row, now);
        });
    }

    @Override
    public DestinationState recordSuccess(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        return inTransaction(key, now, (c, row) -> {
            boolean held = row.isHeldAt(now);
            counted(row, reply, now);
            if (!held) {
                row.heldUntil = null;
                row.probeStarted = null;
                row.consecutiveThrottles = 0;
                row.currentHold = policy.throttleHold().shrink(row.currentHold);
            }
            return snapshot(c, key.asString(), row, now);
        });
    }

    @Override
    public DestinationState recordFailure(DestinationKey key, DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        return inTransaction(key, now, (c, row) -> {
            boolean probeAnswered = row.probing(now, leaseTimeout) && !row.isHeldAt(now);
            counted(row, reply, now);
            if (probeAnswered) {
                // The probe was answered, not throttled: the destination talks to us again.
                row.heldUntil = null;
                row.probeStarted = null;
                row.consecutiveThrottles = 0;
            }
            return snapshot(c, key.asString(), row, now);
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
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + STATE + where)) {
            if (name != null) {
                ps.setString(1, name);
            }
            ImmutableList.Builder<DestinationState> out = ImmutableList.builder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Row row = new Row();
                    readInto(rs, row);
                    out.add(snapshot(c, rs.getString("name"), row, now));
                }
            }
            return out.build();
        } catch (SQLException e) {
            throw failure("cannot read destination state", e);
        }
    }

    @Override
    public boolean releaseHold(DestinationKey key) {
        Preconditions.checkNotNull(key, "key");
        String name = key.asString();
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                Optional<Row> locked = lock(c, name);
                if (!locked.isPresent() || locked.get().heldUntil == null) {
                    c.rollback();
                    return false;
                }
                Row row = locked.get();
                row.heldUntil = null;
                row.probeStarted = null;
                row.consecutiveThrottles = 0;
                write(c, name, row);
                c.commit();
                return true;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw failure("cannot release the hold of " + name, e);
        }
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
        try (Connection c = dataSource.getConnection()) {
            int forgotten;
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
        } catch (SQLException e) {
            throw failure("cannot forget idle destinations", e);
        }
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

    private DestinationState snapshot(Connection c, String name, Row row, Instant now) throws SQLException {
        int inFlight;
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + SLOTS + " WHERE name = ? AND started_ms > ?")) {
            ps.setString(1, name);
            ps.setLong(2, now.minus(leaseTimeout).toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                inFlight = rs.getInt(1);
            }
        }
        return DestinationState.builder(name)
                .heldUntil(Optional.ofNullable(row.heldUntil))
                .currentHold(row.currentHold)
                .consecutiveThrottles(row.consecutiveThrottles)
                .attempts(row.attempts)
                .inFlight(inFlight)
                .lastReply(Optional.ofNullable(row.lastReply))
                .lastAttemptAt(Optional.ofNullable(row.lastAttemptAt))
                .probing(row.probing(now, leaseTimeout))
                .build();
    }

    private static void counted(Row row, String reply, Instant now) {
        row.attempts++;
        row.lastAttemptAt = now;
        if (reply != null) {
            row.lastReply = sanitise(reply);
        }
    }

    /** Remote text ends up in logs and WebAdmin: no control characters, bounded. */
    static String sanitise(String reply) {
        String t = CharMatcher.javaIsoControl().replaceFrom(reply, ' ').trim();
        return t.length() > MAX_REPLY_CHARS ? t.substring(0, MAX_REPLY_CHARS) + "..." : t;
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    private static void setInstant(PreparedStatement ps, int index, Instant value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, value.toEpochMilli());
        }
    }

    private SharedStoreException failure(String what, SQLException e) {
        return new SharedStoreException(what + " in " + description + ": " + e.getMessage(), e);
    }

    /** Releases the embedded database file when this store opened it ({@link #openH2}); else nothing. */
    @Override
    public void close() {
        if (ownedPool != null) {
            ownedPool.dispose();
        }
    }

    @Override
    public String toString() {
        return "JdbcDestinationStateStore{node " + nodeId + ", " + description + "}";
    }
}
