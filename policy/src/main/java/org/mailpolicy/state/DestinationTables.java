package org.mailpolicy.state;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.mailpolicy.destination.Egress;
import org.mailpolicy.destination.RateLimit;

/**
 * The tables of {@link JdbcDestinationStateStore} and the mapping between a row and a
 * {@link DestinationState}: one row per key and egress, a lease row per attempt in flight, a row per
 * start within the rate period, each with its egress. Times are epoch milliseconds in BIGINT columns.
 */
final class DestinationTables {
    static final String STATE = "delivery_policy_destination";
    static final String SLOTS = "delivery_policy_destination_slot";
    static final String STARTS = "delivery_policy_destination_start";
    /**
     * A node's lease of concurrency slots ({@link ClusterDestinationStateStore}): how many it may use
     * without asking, whether it wants more, and until when the lease stands unless renewed.
     */
    static final String LEASES = "delivery_policy_destination_lease";
    /** A key: a destination name (at most 64) or a domain name (at most 253). */
    private static final int NAME_COLUMN = DestinationKey.MAX_LENGTH;
    /** Which egress a row counts for ({@link org.mailpolicy.destination.Egress}); earlier versions' rows are the default's. */
    private static final String EGRESS_COLUMN = "VARCHAR(" + Egress.MAX_LENGTH + ") DEFAULT '" + Egress.DEFAULT.name()
            + "' NOT NULL";
    static final String COLUMNS = "name, held_until_ms, current_hold_ms, consecutive_throttles, attempts, "
            + "last_reply, last_attempt_ms, probe_started_ms, last_activity_ms, rate_window_end_ms, next_start_ms, hold_started_ms, "
            + "pace_rate, pace_concurrency, pace_changed_ms, pace_signal_ms, pace_signals, pace_rate_signal_ms, pace_rate_signals";

    private DestinationTables() {
    }

    /** Creates the tables and their indexes if missing, adding the columns later versions added. */
    static void create(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + STATE + " ("
                    + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL, "
                    + "egress " + EGRESS_COLUMN + ", "
                    + "held_until_ms BIGINT, "
                    + "current_hold_ms BIGINT NOT NULL, "
                    + "consecutive_throttles INTEGER NOT NULL, "
                    + "attempts BIGINT NOT NULL, "
                    + "last_reply VARCHAR(" + (DestinationTransitions.MAX_REPLY_CHARS + 3) + "), "
                    + "last_attempt_ms BIGINT, "
                    + "probe_started_ms BIGINT, "
                    + "PRIMARY KEY (name, egress))");
            // Added after the first release: tables of earlier versions get them here. Their rows get
            // the default egress, the one every node of an earlier version sent from.
            for (String column : new String[] {"egress " + EGRESS_COLUMN, "last_activity_ms BIGINT", "rate_window_end_ms BIGINT",
                    "next_start_ms BIGINT", "hold_started_ms BIGINT", "pace_rate DOUBLE PRECISION", "pace_concurrency INTEGER",
                    "pace_changed_ms BIGINT", "pace_signal_ms BIGINT", "pace_signals INTEGER",
                    "pace_rate_signal_ms BIGINT", "pace_rate_signals INTEGER"}) {
                st.executeUpdate("ALTER TABLE " + STATE + " ADD COLUMN IF NOT EXISTS " + column);
            }
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + SLOTS + " ("
                    + "id VARCHAR(36) NOT NULL PRIMARY KEY, "
                    + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL, "
                    + "egress " + EGRESS_COLUMN + ", "
                    + "node VARCHAR(36) NOT NULL, "
                    + "started_ms BIGINT NOT NULL)");
            st.executeUpdate("ALTER TABLE " + SLOTS + " ADD COLUMN IF NOT EXISTS egress " + EGRESS_COLUMN);
            st.executeUpdate("CREATE INDEX IF NOT EXISTS " + SLOTS + "_name ON " + SLOTS + " (name, started_ms)");
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + STARTS + " ("
                    + "id VARCHAR(36) NOT NULL PRIMARY KEY, "
                    + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL, "
                    + "egress " + EGRESS_COLUMN + ", "
                    + "started_ms BIGINT NOT NULL)");
            st.executeUpdate("ALTER TABLE " + STARTS + " ADD COLUMN IF NOT EXISTS egress " + EGRESS_COLUMN);
            st.executeUpdate("CREATE INDEX IF NOT EXISTS " + STARTS + "_name ON " + STARTS + " (name, started_ms)");
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + LEASES + " ("
                    + "name VARCHAR(" + NAME_COLUMN + ") NOT NULL, "
                    + "egress " + EGRESS_COLUMN + ", "
                    + "node VARCHAR(36) NOT NULL, "
                    + "slots INTEGER NOT NULL, "
                    + "wanted INTEGER NOT NULL, "
                    + "expires_ms BIGINT NOT NULL, "
                    + "PRIMARY KEY (name, egress, node))");
            st.executeUpdate("CREATE INDEX IF NOT EXISTS " + LEASES + "_node ON " + LEASES + " (node)");
        }
        keyByNameAndEgress(c);
    }

    /**
     * A table of an earlier version is keyed by name alone: its primary key becomes (name, egress),
     * its rows kept (they all have the default egress). Two nodes starting at once may both try: the
     * one that finds the work done by the other carries on.
     */
    private static void keyByNameAndEgress(Connection c) throws SQLException {
        Optional<String> oldKey = primaryKeyOnNameAlone(c);
        if (!oldKey.isPresent()) {
            return;
        }
        try (Statement st = c.createStatement()) {
            st.executeUpdate("ALTER TABLE " + STATE + " DROP CONSTRAINT " + oldKey.get());
            st.executeUpdate("ALTER TABLE " + STATE + " ADD PRIMARY KEY (name, egress)");
        } catch (SQLException e) {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
            if (primaryKeyOnNameAlone(c).isPresent()) {
                throw e;
            }
        }
    }

    /** The name of the state table's primary key when it is on {@code name} alone (an earlier version's table). */
    private static Optional<String> primaryKeyOnNameAlone(Connection c) throws SQLException {
        DatabaseMetaData meta = c.getMetaData();
        // PostgreSQL keeps unquoted names in lower case, H2 in upper case.
        for (String table : new String[] {STATE, STATE.toUpperCase(Locale.ROOT)}) {
            List<String> columns = new ArrayList<>();
            String keyName = null;
            try (ResultSet rs = meta.getPrimaryKeys(null, c.getSchema(), table)) {
                while (rs.next()) {
                    columns.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
                    keyName = rs.getString("PK_NAME");
                }
            }
            if (!columns.isEmpty()) {
                return columns.equals(List.of("name")) ? Optional.of(keyName) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Every lease and probe: for a single process on open, whose previous attempts died with it. */
    static void dropLeases(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM " + SLOTS);
            st.executeUpdate("DELETE FROM " + LEASES);
            st.executeUpdate("UPDATE " + STATE + " SET probe_started_ms = NULL WHERE probe_started_ms IS NOT NULL");
        }
    }

    /** The row as a state value, with the in-flight count of live leases and the probe judged by the lease timeout. */
    static DestinationState read(Connection c, ResultSet rs, Egress egress, Instant now, Duration leaseTimeout) throws SQLException {
        DestinationState row = readRow(rs, now, leaseTimeout);
        return row.toBuilder().inFlight(liveSlots(c, row.destination(), egress, now, leaseTimeout)).build();
    }

    /** The row as a state value without counting the slots in flight (0): what a node polls for holds and pace. */
    static DestinationState readRow(ResultSet rs, Instant now, Duration leaseTimeout) throws SQLException {
        String name = rs.getString("name");
        Instant probeStarted = instant(rs, "probe_started_ms");
        Pace pace = null;
        double rate = rs.getDouble("pace_rate");
        if (!rs.wasNull()) {
            Optional<Instant> lastSignal = Optional.ofNullable(instant(rs, "pace_signal_ms"));
            int signals = rs.getInt("pace_signals");
            int rateSignals = rs.getInt("pace_rate_signals");
            // A row written before rate signals were told apart: take every signal for one.
            pace = rs.wasNull()
                    ? Pace.of(rate, Math.max(1, rs.getInt("pace_concurrency")), instant(rs, "pace_changed_ms"), lastSignal,
                            signals)
                    : Pace.of(rate, Math.max(1, rs.getInt("pace_concurrency")), instant(rs, "pace_changed_ms"), lastSignal,
                            signals, Optional.ofNullable(instant(rs, "pace_rate_signal_ms")), rateSignals);
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
                .build();
    }

    /** Writes {@code s} back to its (locked) row; {@code probeStarted} is null unless a probe runs. */
    static void write(Connection c, DestinationState s, Egress egress, Instant probeStarted) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + STATE + " SET held_until_ms = ?, current_hold_ms = ?, "
                + "consecutive_throttles = ?, attempts = ?, last_reply = ?, last_attempt_ms = ?, probe_started_ms = ?, "
                + "last_activity_ms = ?, rate_window_end_ms = ?, next_start_ms = ?, pace_rate = ?, pace_concurrency = ?, "
                + "pace_changed_ms = ?, pace_signal_ms = ?, pace_signals = ?, hold_started_ms = ?, pace_rate_signal_ms = ?, "
                + "pace_rate_signals = ? WHERE name = ? AND egress = ?")) {
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
            setInstant(ps, 17, pace.flatMap(Pace::lastRateSignalAt));
            if (pace.isPresent()) {
                ps.setInt(18, pace.get().rateSignals());
            } else {
                ps.setNull(18, Types.INTEGER);
            }
            ps.setString(19, s.destination());
            ps.setString(20, egress.name());
            ps.executeUpdate();
        }
    }

    /**
     * The slots taken cluster-wide: attempts admitted one by one (slot rows younger than the lease
     * timeout; older ones belong to dead nodes, the sweep deletes them) plus the slots nodes lease in
     * chunks ({@link ClusterDestinationStateStore}), whether in use or not, while their leases stand.
     */
    private static int liveSlots(Connection c, String name, Egress egress, Instant now, Duration leaseTimeout)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT COUNT(*) FROM " + SLOTS
                + " WHERE name = ? AND egress = ? AND started_ms > ?) + (SELECT COALESCE(SUM(slots), 0) FROM " + LEASES
                + " WHERE name = ? AND egress = ? AND expires_ms > ?)")) {
            ps.setString(1, name);
            ps.setString(2, egress.name());
            ps.setLong(3, now.minus(leaseTimeout).toEpochMilli());
            ps.setString(4, name);
            ps.setString(5, egress.name());
            ps.setLong(6, now.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The starts rows of one key within the rate period ending now, read only as far as asked. */
    static final class StartRows implements RecentStarts {
        private final Connection c;
        private final String name;
        private final Egress egress;
        private final Duration per;
        private final long periodStartMs;
        private int count = -1;

        StartRows(Connection c, String name, Egress egress, Optional<RateLimit> rate, Instant now) {
            this.c = c;
            this.name = name;
            this.egress = egress;
            this.per = rate.map(RateLimit::per).orElse(Duration.ZERO);
            this.periodStartMs = now.minus(per).toEpochMilli();
        }

        /** Asked only with a rate: starts that left the period are deleted first, then counted. */
        @Override
        public int count() {
            if (count < 0) {
                try (PreparedStatement purge = c.prepareStatement("DELETE FROM " + STARTS
                        + " WHERE name = ? AND egress = ? AND started_ms <= ?")) {
                    purge.setString(1, name);
                    purge.setString(2, egress.name());
                    purge.setLong(3, periodStartMs);
                    purge.executeUpdate();
                } catch (SQLException e) {
                    throw new UncheckedSql(e);
                }
                count = (int) query("SELECT COUNT(*) FROM " + STARTS + " WHERE name = ? AND egress = ?", -1);
            }
            return count;
        }

        @Override
        public Instant whenFewerThan(int limit) {
            long oldestLeaving = query("SELECT started_ms FROM " + STARTS + " WHERE name = ? AND egress = ? ORDER BY started_ms "
                    + "OFFSET ? ROWS FETCH FIRST 1 ROWS ONLY", count() - limit);
            return Instant.ofEpochMilli(oldestLeaving).plus(per);
        }

        private long query(String sql, int offset) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, name);
                ps.setString(2, egress.name());
                if (offset >= 0) {
                    ps.setInt(3, offset);
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
    static final class UncheckedSql extends RuntimeException {
        UncheckedSql(SQLException e) {
            super(e);
        }
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
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
}
