package org.mailpolicy.suppression;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.SqlErrors;

/**
 * {@link SentMessageLedger} over JDBC, in the same database as the suppression list: {@link #openH2}
 * on the same file base shares the embedded H2 database within one James process; {@link #open(Database)}
 * serves a shared SQL database. Plain portable SQL (no MERGE or ON CONFLICT), as in {@link JdbcSuppressionList}.
 *
 * <p>A row is one (message, recipient) pair, and holds only a {@value #KEY_BITS}-bit hash of the pair
 * and the time: every delivered mail is written here, and the ledger is read only to answer "did we
 * send this message to this address?" when a bounce comes back. So H2 keeps the row under that number
 * alone, one B-tree of two numbers, where a key of the Message-ID and address text took a second
 * B-tree of both strings (the earlier table, {@value #TABLE_BEFORE_HASHES}, which {@link #open} copies
 * over and drops). Two pairs with one hash are both pairs we sent, so they answer rightly; a pair we
 * did not send finds a row only if its hash equals one of the stored ones, about one chance in 10^10
 * with 7 million rows, which a forged bounce cannot aim at.
 */
public final class JdbcSentMessageLedger implements SentMessageLedger {
    static final String TABLE = "delivery_policy_sent_pairs";
    /** The table of releases before the hashed pairs: (message_id, recipient, sent_ms). */
    static final String TABLE_BEFORE_HASHES = "delivery_policy_sent";
    /** Below 2^56, a key takes 8 bytes in H2's pages where a full 64-bit one took 9 or 10 (as in {@link AddressKey}). */
    static final int KEY_BITS = 56;
    /** Rows copied from the earlier table per transaction. */
    private static final int COPY_PAGE = 10_000;
    private static final System.Logger LOGGER = System.getLogger(JdbcSentMessageLedger.class.getName());

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

    /**
     * Uses a database the caller owns (and closes); creates the table if it is missing, and copies the
     * rows of the earlier table over, if there is one, before dropping it.
     */
    public static JdbcSentMessageLedger open(Database db) {
        return open(Preconditions.checkNotNull(db, "db"), false);
    }

    private static JdbcSentMessageLedger open(Database db, boolean ownsDatabase) {
        JdbcSentMessageLedger store = new JdbcSentMessageLedger(db, ownsDatabase);
        store.createSchema();
        store.copyTableBeforeHashes();
        return store;
    }

    private void createSchema() {
        db.createSchema("create the sent-message table", c -> {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                        + "pair_key BIGINT NOT NULL PRIMARY KEY, "
                        + "sent_ms BIGINT NOT NULL)");
                // Pruning by age scans by time; new rows come at its end, so keeping it costs little.
                st.executeUpdate("CREATE INDEX IF NOT EXISTS " + TABLE + "_sent ON " + TABLE + " (sent_ms)");
            }
            return null;
        });
    }

    /**
     * The key of the pair: {@value #KEY_BITS} bits of a 128-bit MurmurHash3 of the normalised
     * Message-ID and address (Guava's, whose output is fixed across its releases, as stored keys need).
     */
    static long pairKey(String messageId, String recipient) {
        return Hashing.murmur3_128().newHasher()
                .putString(messageId, StandardCharsets.UTF_8)
                .putByte((byte) 0) // no id and address run together the same as another pair's
                .putString(recipient, StandardCharsets.UTF_8)
                .hash().asLong() >>> (64 - KEY_BITS);
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

    private void recordAll(List<SentMessage> messages, String what) {
        Map<Long, Long> rows = new LinkedHashMap<>();
        for (SentMessage message : messages) {
            long sentMs = message.sentAt().toEpochMilli();
            for (String recipient : message.recipients()) {
                rows.merge(pairKey(message.messageId(), recipient), sentMs, Math::max);
            }
        }
        db.withConnection(what, c -> store(c, rows));
    }

    /**
     * One transaction of inserts sent as one JDBC batch (one round trip to a shared database), since a
     * pair is nearly always new: a mail is recorded once per recipient it reached. When one was there
     * already (the same message sent again, or another node's record), the batch is rolled back and
     * written again row by row, each updated or inserted. {@code rows}: the time of each key, one entry
     * per key (the same key twice would fail the batch).
     */
    private static Void store(Connection c, Map<Long, Long> rows) throws SQLException {
        try {
            return Database.inTransaction(c, x -> insertAll(x, rows));
        } catch (SQLException e) {
            if (!SqlErrors.isDuplicateKey(e)) {
                throw e;
            }
            return Database.inTransaction(c, x -> {
                for (Map.Entry<Long, Long> row : rows.entrySet()) {
                    upsert(x, row.getKey(), row.getValue());
                }
                return null;
            });
        }
    }

    private static Void insertAll(Connection c, Map<Long, Long> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_SQL)) {
            for (Map.Entry<Long, Long> row : rows.entrySet()) {
                ps.setLong(1, row.getKey());
                ps.setLong(2, row.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return null;
    }

    private static final String INSERT_SQL = "INSERT INTO " + TABLE + " (pair_key, sent_ms) VALUES (?, ?)";

    private static void upsert(Connection c, long key, long sentMs) throws SQLException {
        if (update(c, key, sentMs) > 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_SQL)) {
            ps.setLong(1, key);
            ps.setLong(2, sentMs);
            ps.executeUpdate();
        } catch (SQLException e) {
            // Another node inserted the same row between our UPDATE and INSERT: it exists now.
            if (!SqlErrors.isDuplicateKey(e)) {
                throw e;
            }
            update(c, key, sentMs);
        }
    }

    /** 1 if the row is there (its time brought forward to {@code sentMs} if that is later), else 0. */
    private static int update(Connection c, long key, long sentMs) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE
                + " SET sent_ms = ? WHERE pair_key = ? AND sent_ms < ?")) {
            ps.setLong(1, sentMs);
            ps.setLong(2, key);
            ps.setLong(3, sentMs);
            if (ps.executeUpdate() > 0) {
                return 1;
            }
        }
        // A row with a later time also counts as present.
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + TABLE + " WHERE pair_key = ?")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? 1 : 0;
            }
        }
    }

    @Override
    public Optional<SentMessage> find(String messageId, Collection<String> recipients) {
        Preconditions.checkNotNull(recipients, "recipients");
        Optional<String> id = SentMessage.tryNormaliseMessageId(messageId);
        if (!id.isPresent()) {
            return Optional.empty();
        }
        Map<Long, String> byKey = new LinkedHashMap<>();
        for (String recipient : recipients) {
            String address;
            try {
                address = SuppressionEntry.normaliseAddress(recipient);
            } catch (IllegalArgumentException e) {
                continue; // a bounce's malformed address was sent nothing
            }
            byKey.put(pairKey(id.get(), address), address);
        }
        if (byKey.isEmpty()) {
            return Optional.empty();
        }
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT sent_ms FROM " + TABLE + " WHERE pair_key = ?")) {
            List<String> sentTo = new ArrayList<>();
            long latest = Long.MIN_VALUE;
            for (Map.Entry<Long, String> pair : byKey.entrySet()) {
                ps.setLong(1, pair.getKey());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        sentTo.add(pair.getValue());
                        latest = Math.max(latest, rs.getLong(1));
                    }
                }
            }
            if (sentTo.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(SentMessage.of(id.get(), sentTo, Instant.ofEpochMilli(latest)));
        } catch (SQLException e) {
            throw db.failure("look up message " + id.get(), e);
        }
    }

    /**
     * Copies the rows of {@value #TABLE_BEFORE_HASHES}, a page at a time in the order of its key, then
     * drops it. Run at every open and does nothing once the table is gone. Idempotent, so a crash
     * half-way or two nodes of a cluster at once copy nothing twice (a pair already copied is updated).
     */
    private void copyTableBeforeHashes() {
        if (!db.tableExists(TABLE_BEFORE_HASHES)) {
            return;
        }
        long copied = 0;
        try (Connection c = db.connection()) {
            String afterId = "";
            String afterRecipient = "";
            while (true) {
                Map<Long, Long> rows = new LinkedHashMap<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT message_id, recipient, sent_ms FROM "
                        + TABLE_BEFORE_HASHES + " WHERE message_id > ? OR (message_id = ? AND recipient > ?)"
                        + " ORDER BY message_id, recipient FETCH FIRST " + COPY_PAGE + " ROWS ONLY")) {
                    ps.setString(1, afterId);
                    ps.setString(2, afterId);
                    ps.setString(3, afterRecipient);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            afterId = rs.getString(1);
                            afterRecipient = rs.getString(2);
                            rows.merge(pairKey(afterId, afterRecipient), rs.getLong(3), Math::max);
                        }
                    }
                }
                if (rows.isEmpty()) {
                    break;
                }
                store(c, rows);
                copied += rows.size();
            }
            try (Statement st = c.createStatement()) {
                st.executeUpdate("DROP TABLE IF EXISTS " + TABLE_BEFORE_HASHES);
            }
        } catch (SQLException e) {
            if (!db.tableExists(TABLE_BEFORE_HASHES)) {
                return; // another node copied it and dropped it while this one was at it
            }
            throw db.failure("copy the sent-message records of " + TABLE_BEFORE_HASHES + " to " + TABLE, e);
        }
        LOGGER.log(System.Logger.Level.INFO, "delivery policy: copied " + copied + " sent-message record(s) from "
                + TABLE_BEFORE_HASHES + " to " + TABLE + " and dropped " + TABLE_BEFORE_HASHES);
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
