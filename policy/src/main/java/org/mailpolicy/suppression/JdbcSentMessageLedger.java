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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.SqlErrors;

/**
 * {@link SentMessageLedger} over JDBC, one row per (message, recipient), in the same database as the
 * suppression list: {@link #openH2} on the same file base shares the embedded H2 database within
 * one James process; {@link #open(DataSource)} serves a shared SQL database. Plain portable SQL
 * (no MERGE or ON CONFLICT), as in {@link JdbcSuppressionList}.
 */
public final class JdbcSentMessageLedger implements SentMessageLedger {
    static final String TABLE = "delivery_policy_sent";

    private final Database db;
    /** Whether {@link #close()} closes the database: only when {@link #openH2} opened it for this store alone. */
    private final boolean ownsDatabase;

    private JdbcSentMessageLedger(Database db, boolean ownsDatabase) {
        this.db = db;
        this.ownsDatabase = ownsDatabase;
    }

    /**
     * Opens (creating if needed) the H2 database at {@code fileBase}, normally the suppression list's
     * own file base, and the ledger table. Close it to release its connections.
     */
    public static JdbcSentMessageLedger openH2(Path fileBase) {
        return Database.openH2For(fileBase, db -> open(db, true));
    }

    /** Uses a database the caller owns (and closes); creates the table if it is missing. */
    public static JdbcSentMessageLedger open(Database db) {
        return open(Preconditions.checkNotNull(db, "db"), false);
    }

    private static JdbcSentMessageLedger open(Database db, boolean ownsDatabase) {
        JdbcSentMessageLedger store = new JdbcSentMessageLedger(db, ownsDatabase);
        store.createSchema();
        return store;
    }

    private void createSchema() {
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                    + "message_id VARCHAR(" + SentMessage.MAX_MESSAGE_ID_LENGTH + ") NOT NULL, "
                    + "recipient VARCHAR(" + SuppressionEntry.MAX_ADDRESS_LENGTH + ") NOT NULL, "
                    + "sent_ms BIGINT NOT NULL, "
                    + "PRIMARY KEY (message_id, recipient))");
            // Pruning by age scans by time.
            st.executeUpdate("CREATE INDEX IF NOT EXISTS " + TABLE + "_sent ON " + TABLE + " (sent_ms)");
        } catch (SQLException e) {
            throw db.failure("create the sent-message table", e);
        }
    }

    @Override
    public void record(SentMessage message) {
        Preconditions.checkNotNull(message, "message");
        recordAll(List.of(message), "record " + message);
    }

    @Override
    public void recordAll(List<SentMessage> messages) {
        Preconditions.checkNotNull(messages, "messages");
        recordAll(messages, "record " + messages.size() + " sent message(s)");
    }

    /**
     * One transaction of inserts sent as one JDBC batch (one round trip to a shared database), since
     * a (message, recipient) pair is nearly always new: a mail is recorded once per recipient it
     * reached. When one was there already (the same message sent again, or another node's record), the
     * batch is rolled back and written again row by row, each updated or inserted.
     */
    private void recordAll(List<SentMessage> messages, String what) {
        Map<Row, Long> rows = rows(messages);
        db.withConnection(what, c -> {
            try {
                return Database.inTransaction(c, x -> insertAll(x, rows));
            } catch (SQLException e) {
                if (!SqlErrors.isDuplicateKey(e)) {
                    throw e;
                }
                return Database.inTransaction(c, x -> {
                    for (Map.Entry<Row, Long> row : rows.entrySet()) {
                        upsert(x, row.getKey().messageId, row.getKey().recipient, row.getValue());
                    }
                    return null;
                });
            }
        });
    }

    /** The distinct (message, recipient) pairs, each with its latest time: a pair twice in one batch would fail it. */
    private static Map<Row, Long> rows(List<SentMessage> messages) {
        Map<Row, Long> rows = new LinkedHashMap<>();
        for (SentMessage message : messages) {
            long sentMs = message.sentAt().toEpochMilli();
            for (String recipient : message.recipients()) {
                rows.merge(new Row(message.messageId(), recipient), sentMs, Math::max);
            }
        }
        return rows;
    }

    private static Void insertAll(Connection c, Map<Row, Long> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_SQL)) {
            for (Map.Entry<Row, Long> row : rows.entrySet()) {
                ps.setString(1, row.getKey().messageId);
                ps.setString(2, row.getKey().recipient);
                ps.setLong(3, row.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return null;
    }

    private static final String INSERT_SQL = "INSERT INTO " + TABLE + " (message_id, recipient, sent_ms) VALUES (?, ?, ?)";

    /** One row's key. */
    private static final class Row {
        final String messageId;
        final String recipient;

        Row(String messageId, String recipient) {
            this.messageId = messageId;
            this.recipient = recipient;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Row && ((Row) o).messageId.equals(messageId) && ((Row) o).recipient.equals(recipient);
        }

        @Override
        public int hashCode() {
            return 31 * messageId.hashCode() + recipient.hashCode();
        }
    }

    private static void upsert(Connection c, String messageId, String recipient, long sentMs) throws SQLException {
        if (update(c, messageId, recipient, sentMs) > 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_SQL)) {
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
        try (Connection c = db.connection();
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
            throw db.failure("look up message " + id.get(), e);
        }
    }

    @Override
    public int pruneSentBefore(Instant cutoff) {
        Preconditions.checkNotNull(cutoff, "cutoff");
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE + " WHERE sent_ms < ?")) {
            ps.setLong(1, cutoff.toEpochMilli());
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw db.failure("prune sent messages", e);
        }
    }

    @Override
    public void close() {
        if (ownsDatabase) {
            db.close();
        }
    }


    @Override
    public String toString() {
        return "JdbcSentMessageLedger{" + db + "}";
    }
}
