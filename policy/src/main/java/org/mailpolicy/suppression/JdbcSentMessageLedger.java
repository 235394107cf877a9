package org.mailpolicy.suppression;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * {@link SentMessageLedger} over JDBC, one row per (message, recipient), in the same database as the
 * suppression list: {@link #openH2} on the same file base shares the embedded H2 database within
 * one James process; {@link #open(DataSource)} serves a shared SQL database. Plain portable SQL
 * (no MERGE or ON CONFLICT), as in {@link JdbcSuppressionList}.
 */
public final class JdbcSentMessageLedger implements SentMessageLedger {
    static final String TABLE = "delivery_policy_sent";

    private final DataSource dataSource;
    private final JdbcConnectionPool ownedPool;
    private final String description;

    private JdbcSentMessageLedger(DataSource dataSource, JdbcConnectionPool ownedPool, String description) {
        this.dataSource = dataSource;
        this.ownedPool = ownedPool;
        this.description = description;
    }

    /**
     * Opens (creating if needed) the H2 database at {@code fileBase}, normally the suppression list's
     * own file base, and the ledger table. Close it to release its connections.
     */
    public static JdbcSentMessageLedger openH2(Path fileBase) {
        JdbcConnectionPool pool = EmbeddedH2.pool(fileBase, 8);
        JdbcSentMessageLedger ledger = new JdbcSentMessageLedger(pool, pool, "H2 " + fileBase.toAbsolutePath());
        try {
            ledger.createSchema();
        } catch (RuntimeException e) {
            pool.dispose();
            throw e;
        }
        return ledger;
    }

    /** Uses a DataSource the caller owns (and closes); creates the table if it is missing. */
    public static JdbcSentMessageLedger open(DataSource dataSource) {
        Preconditions.checkNotNull(dataSource, "dataSource");
        JdbcSentMessageLedger ledger = new JdbcSentMessageLedger(dataSource, null, dataSource.getClass().getName());
        ledger.createSchema();
        return ledger;
    }

    private void createSchema() {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                    + "message_id VARCHAR(" + SentMessage.MAX_MESSAGE_ID_LENGTH + ") NOT NULL, "
                    + "recipient VARCHAR(" + SuppressionEntry.MAX_ADDRESS_LENGTH + ") NOT NULL, "
                    + "sent_ms BIGINT NOT NULL, "
                    + "PRIMARY KEY (message_id, recipient))");
            // Pruning by age scans by time.
            st.executeUpdate("CREATE INDEX IF NOT EXISTS " + TABLE + "_sent ON " + TABLE + " (sent_ms)");
        } catch (SQLException e) {
            throw failure("cannot create the sent-message table", e);
        }
    }

    @Override
    public void record(SentMessage message) {
        Preconditions.checkNotNull(message, "message");
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                for (String recipient : message.recipients()) {
                    upsert(c, message.messageId(), recipient, message.sentAt().toEpochMilli());
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw failure("cannot record " + message, e);
        }
    }

    private static void upsert(Connection c, String messageId, String recipient, long sentMs) throws SQLException {
        if (update(c, messageId, recipient, sentMs) > 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE
                + " (message_id, recipient, sent_ms) VALUES (?, ?, ?)")) {
            ps.setString(1, messageId);
            ps.setString(2, recipient);
            ps.setLong(3, sentMs);
            ps.executeUpdate();
        } catch (SQLException e) {
            // Another node inserted the same row between our UPDATE and INSERT: it exists now.
            if (!SqlErrors.isDuplicateKey(e)) {
                throw e;
            }
            update(c, messageId, recipient, sentMs);
        }
    }

    private static int update(Connection c, String messageId, String recipient, long sentMs) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE
                + " SET sent_ms = ? WHERE message_id = ? AND recipient = ? AND sent_ms < ?")) {
            ps.setLong(1, sentMs);
            ps.setString(2, messageId);
            ps.setString(3, recipient);
            ps.setLong(4, sentMs);
            if (ps.executeUpdate() > 0) {
                return 1;
            }
        }
        // A row with a later time also counts as present.
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + TABLE
                + " WHERE message_id = ? AND recipient = ?")) {
            ps.setString(1, messageId);
            ps.setString(2, recipient);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? 1 : 0;
            }
        }
    }

    @Override
    public Optional<SentMessage> find(String messageId) {
        Optional<String> id = SentMessage.tryNormaliseMessageId(messageId);
        if (!id.isPresent()) {
            return Optional.empty();
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT recipient, sent_ms FROM " + TABLE
                     + " WHERE message_id = ? ORDER BY recipient")) {
            ps.setString(1, id.get());
            List<String> recipients = new ArrayList<>();
            long latest = Long.MIN_VALUE;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    recipients.add(rs.getString(1));
                    latest = Math.max(latest, rs.getLong(2));
                }
            }
            if (recipients.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(SentMessage.of(id.get(), recipients, Instant.ofEpochMilli(latest)));
        } catch (SQLException e) {
            throw failure("cannot look up message " + id.get(), e);
        }
    }

    @Override
    public int pruneSentBefore(Instant cutoff) {
        Preconditions.checkNotNull(cutoff, "cutoff");
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE + " WHERE sent_ms < ?")) {
            ps.setLong(1, cutoff.toEpochMilli());
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw failure("cannot prune sent messages", e);
        }
    }

    @Override
    public void close() {
        if (ownedPool != null) {
            ownedPool.dispose();
        }
    }

    private SuppressionStoreException failure(String what, SQLException e) {
        return new SuppressionStoreException(what + " in " + description + ": " + e.getMessage(), e);
    }

    @Override
    public String toString() {
        return "JdbcSentMessageLedger{" + description + "}";
    }
}
