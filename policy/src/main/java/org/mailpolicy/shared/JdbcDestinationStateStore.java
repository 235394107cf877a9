package org.mailpolicy.shared;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
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
import javax.sql.DataSource;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.state.Admission;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.suppression.SqlErrors;

/**
 * {@link DestinationStateStore} in a SQL database shared by several James nodes (PostgreSQL in
 * production; any database with {@code SELECT ... FOR UPDATE}, such as H2, in tests). Each
 * operation is one transaction that locks the destination's row, so a hold started by one node
 * stops every node's next admission, and concurrency and rate limits count the whole cluster.
 *
 * <p>The rules are those of {@code InMemoryDestinationStateStore}, applied to rows. Two things only
 * a cluster needs: an in-flight attempt is a lease row (node, start time), and a probe has a start
 * time, both ignored after {@code leaseTimeout}, so that a node that dies mid-attempt cannot hold
 * its slots, or the probe after a hold, for ever.
 *
 * <p>Times are epoch milliseconds in BIGINT columns: no time-zone conversion between drivers.
 */
public final class JdbcDestinationStateStore implements DestinationStateStore {
    static final String STATE = "delivery_policy_destination";
    static final String SLOTS = "delivery_policy_destination_slot";
    static final String STARTS = "delivery_policy_destination_start";
    public static final Duration DEFAULT_BUSY_WAIT = Duration.ofSeconds(10);
    /** Longer than any SMTP attempt (James's timeouts are minutes): a lease this old belongs to a dead node. */
    public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofMinutes(30);
    private static final int MAX_REPLY_CHARS = 500;
    private static final int NAME_COLUMN = 255;

    private final DataSource dataSource;
    private final Clock clock;
    private final String nodeId;
    private final Duration busyWait;
    private final Duration leaseTimeout;

    private JdbcDestinationStateStore(DataSource dataSource, Clock clock, String nodeId, Duration busyWait,
                                      Duration leaseTimeout) {
        this.dataSource = dataSource;
        this.clock = clock;
        this.nodeId = nodeId;
        this.busyWait = busyWait;
        this.leaseTimeout = leaseTimeout;
    }

    /** Opens the store on a DataSource the caller owns, creating the tables if they are missing. */
    public static JdbcDestinationStateStore open(DataSource dataSource) {
        return open(dataSource, Clock.systemUTC(), DEFAULT_BUSY_WAIT, DEFAULT_LEASE_TIMEOUT);
    }

    /**
     * @param clock        the time {@link #get} and {@link #all} judge leases and probes by (the
     *                     recording methods take their instant as a parameter)
     * @param busyWait     how long a caller refused for concurrency or a running probe waits
     * @param leaseTimeout after this, an in-flight slot or a probe of a node that never finished it is ignored
     */
    public static JdbcDestinationStateStore open(DataSource dataSource, Clock clock, Duration busyWait,
                                                 Duration leaseTimeout) {
        Preconditions.checkNotNull(dataSource, "dataSource");
        Preconditions.checkNotNull(clock, "clock");
        Preconditions.checkArgument(busyWait != null && !busyWait.isNegative() && !busyWait.isZero(),
                "busyWait must be positive: %s", busyWait);
        Preconditions.checkArgument(leaseTimeout != null && !leaseTimeout.isNegative() && !leaseTimeout.isZero(),
                "leaseTimeout must be positive: %s", leaseTimeout);
        JdbcDestinationStateStore store = new JdbcDestinationStateStore(dataSource, clock, UUID.randomUUID().toString(),
                busyWait, leaseTimeout);
        store.createSchema();
        return store;
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

    /** One locked row: the state as stored, plus the live lease count. */
    private static final class Row {
        Instant heldUntil;
        Duration currentHold = Duration.ZERO;
        int consecutiveThrottles;
        long attempts;
        String lastReply;
        Instant lastAttemptAt;
        Instant probeStarted;
        int inFlight;

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

    private <T> T inTransaction(String destination, Work<T> work) {
        Preconditions.checkArgument(destination != null && !destination.isEmpty(), "destination must not be empty");
        try (Connection c = dataSource.getConnection()) {
            ensureRow(c, destination);
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                Row row = lock(c, destination);
                T result = work.run(c, row);
                write(c, destination, row);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw failure("cannot update destination " + destination, e);
        }
    }

    /** Insert-if-missing on its own (auto-commit): a duplicate key from another node is fine. */
    private static void ensureRow(Connection c, String destination) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + STATE + " WHERE name = ?")) {
            ps.setString(1, destination);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + STATE
                + " (name, current_hold_ms, consecutive_throttles, attempts) VALUES (?, 0, 0, 0)")) {
            ps.setString(1, destination);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (!SqlErrors.isDuplicateKey(e)) {
                throw e;
            }
        }
    }

    private Row lock(Connection c, String destination) throws SQLException {
        Row row = new Row();
        try (PreparedStatement ps = c.prepareStatement("SELECT held_until_ms, current_hold_ms, consecutive_throttles, "
                + "attempts, last_reply, last_attempt_ms, probe_started_ms FROM " + STATE + " WHERE name = ? FOR UPDATE")) {
            ps.setString(1, destination);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("destination row " + destination + " vanished");
                }
                readInto(rs, row);
            }
        }
        return row;
    }

    private static void readInto(ResultSet rs, Row row) throws SQLException {
        row.heldUntil = instant(rs, "held_until_ms");
        row.currentHold = Duration.ofMillis(rs.getLong("current_hold_ms"));
        row.consecutiveThrottles = rs.getInt("consecutive_throttles");
        row.attempts = rs.getLong("attempts");
        row.lastReply = rs.getString("last_reply");
        row.lastAttemptAt = instant(rs, "last_attempt_ms");
        row.probeStarted = instant(rs, "probe_started_ms");
    }

    private static void write(Connection c, String destination, Row row) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + STATE + " SET held_until_ms = ?, current_hold_ms = ?, "
                + "consecutive_throttles = ?, attempts = ?, last_reply = ?, last_attempt_ms = ?, probe_started_ms = ? "
                + "WHERE name = ?")) {
            setInstant(ps, 1, row.heldUntil);
            ps.setLong(2, row.currentHold.toMillis());
            ps.setInt(3, row.consecutiveThrottles);
            ps.setLong(4, row.attempts);
            ps.setString(5, row.lastReply);
            setInstant(ps, 6, row.lastAttemptAt);
            setInstant(ps, 7, row.probeStarted);
            ps.setString(8, destination);
            ps.executeUpdate();
        }
    }

    private int liveSlots(Connection c, String destination, Instant now) throws SQLException {
        try (PreparedStatement purge = c.prepareStatement("DELETE FROM " + SLOTS + " WHERE name = ? AND started_ms <= ?")) {
            purge.setString(1, destination);
            purge.setLong(2, now.minus(leaseTimeout).toEpochMilli());
            purge.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + SLOTS + " WHERE name = ?")) {
            ps.setString(1, destination);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @Override
    public Admission admit(DestinationPolicy policy, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        String name = policy.name();
        return inTransaction(name, (c, row) -> {
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
    public void finished(String destination, Instant now) {
        Preconditions.checkNotNull(destination, "destination");
        Preconditions.checkNotNull(now, "now");
        inTransaction(destination, (c, row) -> {
            // This node's oldest lease: which of its attempts ends does not matter, the count does.
            String slot = null;
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + SLOTS
                    + " WHERE name = ? AND node = ? ORDER BY started_ms")) {
                ps.setString(1, destination);
                ps.setString(2, nodeId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        slot = rs.getString(1);
                    }
                }
            }
            if (slot != null) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + SLOTS + " WHERE id = ?")) {
                    ps.setString(1, slot);
                    ps.executeUpdate();
                }
            }
            // A probe that finishes without a recorded outcome is inconclusive: the next admit probes again.
            row.probeStarted = null;
            return null;
        });
    }

    @Override
    public DestinationState recordThrottle(DestinationPolicy policy, String reply, Optional<Duration> hint, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(hint, "hint");
        Preconditions.checkNotNull(now, "now");
        return inTransaction(policy.name(), (c, row) -> {
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
            return snapshot(c, policy.name(), row, now);
        });
    }

    @Override
    public DestinationState recordSuccess(DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        return inTransaction(policy.name(), (c, row) -> {
            boolean held = row.isHeldAt(now);
            counted(row, reply, now);
            if (!held) {
                row.heldUntil = null;
                row.probeStarted = null;
                row.consecutiveThrottles = 0;
                row.currentHold = policy.throttleHold().shrink(row.currentHold);
            }
            return snapshot(c, policy.name(), row, now);
        });
    }

    @Override
    public DestinationState recordFailure(DestinationPolicy policy, String reply, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(now, "now");
        return inTransaction(policy.name(), (c, row) -> {
            boolean probeAnswered = row.probing(now, leaseTimeout) && !row.isHeldAt(now);
            counted(row, reply, now);
            if (probeAnswered) {
                // The probe was answered, not throttled: the destination talks to us again.
                row.heldUntil = null;
                row.probeStarted = null;
                row.consecutiveThrottles = 0;
            }
            return snapshot(c, policy.name(), row, now);
        });
    }

    @Override
    public Optional<DestinationState> get(String destination) {
        Preconditions.checkNotNull(destination, "destination");
        return read(" WHERE name = ?", destination).stream().findFirst();
    }

    @Override
    public List<DestinationState> all() {
        return read(" ORDER BY name", null);
    }

    private List<DestinationState> read(String where, String destination) {
        Instant now = clock.instant();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT name, held_until_ms, current_hold_ms, consecutive_throttles, "
                     + "attempts, last_reply, last_attempt_ms, probe_started_ms FROM " + STATE + where)) {
            if (destination != null) {
                ps.setString(1, destination);
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
    public boolean releaseHold(String destination) {
        Preconditions.checkNotNull(destination, "destination");
        if (!get(destination).isPresent()) {
            return false;
        }
        return inTransaction(destination, (c, row) -> {
            if (row.heldUntil == null) {
                return false;
            }
            row.heldUntil = null;
            row.probeStarted = null;
            row.consecutiveThrottles = 0;
            return true;
        });
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
        return new SharedStoreException(what + " in " + dataSource + ": " + e.getMessage(), e);
    }

    @Override
    public String toString() {
        return "JdbcDestinationStateStore{node " + nodeId + ", " + dataSource + "}";
    }
}
