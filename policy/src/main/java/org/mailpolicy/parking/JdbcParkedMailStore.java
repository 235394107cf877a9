package org.mailpolicy.parking;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.state.DestinationKey;

/**
 * {@link ParkedMailStore} in the plugin's SQL database (the embedded H2 file of one node, or the
 * PostgreSQL of a cluster): one row per parked mail. Times are epoch milliseconds in BIGINT columns,
 * as in the destination tables.
 *
 * <p>Claims lock the rows they take ({@code SELECT ... FOR UPDATE}) and, on PostgreSQL, skip the rows
 * another node has locked ({@code SKIP LOCKED}), so two releasers never release one row and neither
 * waits for the other. The embedded file belongs to one process with one releaser, so H2 needs no skip.
 *
 * <p>On the embedded file (one process), opening parks again whatever the previous process had released
 * and not finished: its copies died with a memory queue, and a persistent queue's copies are stale now.
 *
 * <p>A row's columns say where it is: {@code release_token} null: parked, due at {@code due_ms};
 * set: released at {@code released_ms}, and {@code taken_ms} set once a delivery thread took the copy.
 */
public final class JdbcParkedMailStore implements ParkedMailStore {
    public static final String TABLE = "delivery_policy_parked";
    /**
     * A released copy not taken within this is presumed lost (its node died before queuing it, or a
     * memory queue lost it on a restart) and released again; the late copy, if it comes, is stale. Long
     * enough for a busy queue to bring the copy round; a spurious re-release costs a dropped copy, not a
     * second delivery.
     */
    public static final Duration DEFAULT_RELEASE_TIMEOUT = Duration.ofMinutes(30);
    /** A taken copy not finished within this belongs to a dead node: longer than any SMTP attempt (James's timeouts are minutes). */
    public static final Duration DEFAULT_TAKE_TIMEOUT = Duration.ofMinutes(30);
    private static final int ID_COLUMN = 64;
    private static final String RELEASABLE = "((release_token IS NULL AND due_ms <= ?) "
            + "OR (release_token IS NOT NULL AND taken_ms IS NULL AND released_ms <= ?) "
            + "OR (taken_ms IS NOT NULL AND taken_ms <= ?))";

    private final Database db;
    private final Duration releaseTimeout;
    private final Duration takeTimeout;
    private final String lockClause;

    private JdbcParkedMailStore(Database db, Duration releaseTimeout, Duration takeTimeout, String lockClause) {
        this.db = db;
        this.releaseTimeout = releaseTimeout;
        this.takeTimeout = takeTimeout;
        this.lockClause = lockClause;
    }

    /** Opens the store on {@code db} with the default timeouts, creating the table if missing. */
    public static JdbcParkedMailStore open(Database db) {
        return open(db, DEFAULT_RELEASE_TIMEOUT, DEFAULT_TAKE_TIMEOUT);
    }

    /**
     * A store in a private in-memory H2 database of this process: for runtimes assembled from parts
     * (tests), whose policy keeps waits in the queue or that test the schedule alone.
     */
    public static JdbcParkedMailStore inMemory() {
        org.h2.jdbcx.JdbcDataSource h2 = new org.h2.jdbcx.JdbcDataSource();
        String name = "parked-" + UUID.randomUUID();
        h2.setURL("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1");
        h2.setUser("sa");
        h2.setPassword("");
        return open(Database.on(h2, "in-memory H2 " + name, true));
    }

    public static JdbcParkedMailStore open(Database db, Duration releaseTimeout, Duration takeTimeout) {
        Preconditions.checkNotNull(db, "db");
        Preconditions.checkArgument(releaseTimeout != null && !releaseTimeout.isNegative() && !releaseTimeout.isZero(),
                "releaseTimeout must be positive");
        Preconditions.checkArgument(takeTimeout != null && !takeTimeout.isNegative() && !takeTimeout.isZero(),
                "takeTimeout must be positive");
        String lock = db.createSchema("create the parked-mail table", c -> {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                        + "id VARCHAR(" + ID_COLUMN + ") NOT NULL PRIMARY KEY, "
                        + "destination VARCHAR(" + DestinationKey.MAX_LENGTH + ") NOT NULL, "
                        + "due_ms BIGINT NOT NULL, "
                        + "parked_ms BIGINT NOT NULL, "
                        + "reason VARCHAR(" + ParkedMail.MAX_REASON_CHARS + "), "
                        + "release_token VARCHAR(" + ID_COLUMN + "), "
                        + "released_ms BIGINT, "
                        + "taken_ms BIGINT, "
                        + "releases INTEGER NOT NULL)");
                st.executeUpdate("CREATE INDEX IF NOT EXISTS " + TABLE + "_due ON " + TABLE + " (destination, due_ms)");
            }
            if (db.isSingleProcess()) {
                // The embedded file: every release of the previous process is presumed lost with its queue (the
                // memory queue is), and parked again at once. Where the queue kept the copy (ActiveMQ), that copy
                // is stale now and dropped unattempted (take); the new release delivers the mail once.
                st(c, "UPDATE " + TABLE + " SET release_token = NULL, released_ms = NULL, taken_ms = NULL "
                        + "WHERE release_token IS NOT NULL");
            }
            boolean postgres = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres");
            return postgres ? " FOR UPDATE SKIP LOCKED" : " FOR UPDATE";
        });
        return new JdbcParkedMailStore(db, releaseTimeout, takeTimeout, lock);
    }

    @Override
    public void park(ParkedMail mail) {
        Preconditions.checkNotNull(mail, "mail");
        db.withConnection("park mail " + mail.id(), c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE
                    + " (id, destination, due_ms, parked_ms, reason, releases) VALUES (?, ?, ?, ?, ?, 0)")) {
                ps.setString(1, mail.id());
                ps.setString(2, mail.destination());
                ps.setLong(3, mail.due().toEpochMilli());
                ps.setLong(4, mail.parkedAt().toEpochMilli());
                ps.setString(5, mail.reason());
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public List<String> destinationsDue(Instant now) {
        return db.withConnection("list destinations with parked mail due", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT destination FROM " + TABLE + " WHERE "
                    + RELEASABLE + " ORDER BY destination")) {
                releasable(ps, 1, now);
                List<String> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public int outstanding(String destination, Instant now) {
        return db.withConnection("count released parked mail of " + destination, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + TABLE + " WHERE destination = ? "
                    + "AND release_token IS NOT NULL AND ((taken_ms IS NULL AND released_ms > ?) OR taken_ms > ?)")) {
                ps.setString(1, destination);
                ps.setLong(2, now.minus(releaseTimeout).toEpochMilli());
                ps.setLong(3, now.minus(takeTimeout).toEpochMilli());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }

    @Override
    public List<Release> claim(String destination, int max, Instant now) {
        Preconditions.checkArgument(max >= 0, "max must not be negative: %s", max);
        if (max == 0) {
            return ImmutableList.of();
        }
        return db.inTransaction("claim parked mail of " + destination, c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + TABLE + " WHERE destination = ? AND "
                    + RELEASABLE + " ORDER BY due_ms, id FETCH FIRST " + max + " ROWS ONLY" + lockClause)) {
                ps.setString(1, destination);
                releasable(ps, 2, now);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
            }
            ImmutableList.Builder<Release> out = ImmutableList.builder();
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE + " SET release_token = ?, released_ms = ?, "
                    + "taken_ms = NULL, releases = releases + 1 WHERE id = ?")) {
                for (String id : ids) {
                    String token = UUID.randomUUID().toString();
                    ps.setString(1, token);
                    ps.setLong(2, now.toEpochMilli());
                    ps.setString(3, id);
                    ps.executeUpdate();
                    out.add(Release.of(id, destination, token));
                }
            }
            return out.build();
        });
    }

    @Override
    public boolean unclaim(Release release, Instant now) {
        return db.withConnection("put back parked mail " + release.id(), c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE + " SET release_token = NULL, released_ms = NULL, "
                    + "taken_ms = NULL, due_ms = ? WHERE id = ? AND release_token = ?")) {
                ps.setLong(1, now.toEpochMilli());
                ps.setString(2, release.id());
                ps.setString(3, release.token());
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public Take take(String id, String token, Instant now) {
        return db.withConnection("take released mail " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE + " SET taken_ms = ? WHERE id = ? "
                    + "AND release_token = ?")) {
                ps.setLong(1, now.toEpochMilli());
                ps.setString(2, id);
                ps.setString(3, token);
                return ps.executeUpdate() == 1 ? Take.DELIVER : Take.STALE;
            }
        });
    }

    @Override
    public boolean finish(String id) {
        return db.withConnection("forget delivered parked mail " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE + " WHERE id = ?")) {
                ps.setString(1, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public int makeDue(String destination, Instant now) {
        return db.withConnection("make parked mail of " + destination + " due", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE + " SET due_ms = ? WHERE destination = ? "
                    + "AND release_token IS NULL AND due_ms > ?")) {
                ps.setLong(1, now.toEpochMilli());
                ps.setString(2, destination);
                ps.setLong(3, now.toEpochMilli());
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public List<ParkedSummary> summaries(Instant now) {
        return db.withConnection("summarise parked mail", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT destination, "
                    + "SUM(CASE WHEN release_token IS NULL THEN 1 ELSE 0 END), "
                    + "SUM(CASE WHEN release_token IS NULL THEN 0 ELSE 1 END), "
                    + "MIN(parked_ms), MIN(CASE WHEN release_token IS NULL THEN due_ms END) "
                    + "FROM " + TABLE + " GROUP BY destination ORDER BY destination");
                 ResultSet rs = ps.executeQuery()) {
                List<ParkedSummary> out = new ArrayList<>();
                while (rs.next()) {
                    long nextDue = rs.getLong(5);
                    Optional<Instant> next = rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(nextDue));
                    out.add(new ParkedSummary(rs.getString(1), rs.getLong(2), rs.getLong(3),
                            Optional.of(Instant.ofEpochMilli(rs.getLong(4))), next));
                }
                return out;
            }
        });
    }

    @Override
    public Optional<ParkedMail> get(String id) {
        return db.withConnection("read parked mail " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, destination, due_ms, parked_ms, reason FROM "
                    + TABLE + " WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(ParkedMail.of(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                            Instant.ofEpochMilli(rs.getLong(4)), rs.getString(5)));
                }
            }
        });
    }

    private static void st(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate(sql);
        }
    }

    private void releasable(PreparedStatement ps, int first, Instant now) throws SQLException {
        ps.setLong(first, now.toEpochMilli());
        ps.setLong(first + 1, now.minus(releaseTimeout).toEpochMilli());
        ps.setLong(first + 2, now.minus(takeTimeout).toEpochMilli());
    }

    @Override
    public String toString() {
        return "JdbcParkedMailStore{" + db + "}";
    }
}
