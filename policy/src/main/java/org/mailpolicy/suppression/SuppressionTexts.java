package org.mailpolicy.suppression;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.SqlErrors;
import org.mailpolicy.jdbc.StoreException;

/**
 * Each distinct text of the suppression list (domain, reason, reply, rule id, source) stored once,
 * under a number the entries refer to: ten million entries share a few tens of thousands of domains
 * and a few hundred replies, so a row carries a few bytes instead of a hundred. A reply that names
 * its recipient is stored with the address replaced by a mark ({@link JdbcSuppressionList}), so it
 * too is shared.
 *
 * <p>A text's number never changes and a text is never deleted, so both directions are cached in
 * memory for as long as the store is open, cluster-wide correct without asking the database again.
 * Uniqueness is the database's: {@code text_hash} is unique, so two nodes storing one new text at
 * once get one number (the loser of the race reads the winner's). Two texts with one 64-bit hash
 * take the next free hash, compared by their text.
 */
final class SuppressionTexts {
    static final String TABLE = "delivery_policy_suppression_text";
    /** Beyond this many cached texts the caches are emptied and refilled as used: a bound, not a working size. */
    private static final int MAX_CACHED = 200_000;
    private static final int MAX_PROBES = 8;

    private final Database db;
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Map<Integer, String> texts = new ConcurrentHashMap<>();

    SuppressionTexts(Database db) {
        this.db = db;
    }

    static void createSchema(Statement st) throws SQLException {
        st.executeUpdate("CREATE TABLE IF NOT EXISTS " + TABLE + " (id INTEGER NOT NULL PRIMARY KEY, "
                + "text_hash BIGINT NOT NULL UNIQUE, text VARCHAR(" + SuppressionEntry.MAX_TEXT_LENGTH + ") NOT NULL)");
    }

    /**
     * Reads the stored texts into the caches, up to their bound: a listed address found by the relay
     * then reads its row and nothing else (at 10 million entries each first use of one of the 50,000
     * domains' numbers was a query of its own).
     */
    void preload() {
        db.withConnection("read the suppression texts", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, text FROM " + TABLE + " ORDER BY id FETCH FIRST "
                    + MAX_CACHED + " ROWS ONLY")) {
                ps.setFetchSize(10_000);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        remember(rs.getString(2), rs.getInt(1));
                    }
                }
            }
            return null;
        });
    }

    /** The number of {@code text}, stored now if it is new. */
    int id(String text) {
        Integer cached = ids.get(text);
        if (cached != null) {
            return cached;
        }
        return db.withConnection("store the text '" + text + "'", c -> {
            for (int attempt = 0; attempt < 10; attempt++) {
                Lookup found = find(c, text);
                if (found.id != null) {
                    return remember(text, found.id);
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " (id, text_hash, text) "
                        + "SELECT COALESCE(MAX(id), 0) + 1, ?, ? FROM " + TABLE)) {
                    ps.setLong(1, found.freeHash);
                    ps.setString(2, text);
                    ps.executeUpdate();
                } catch (SQLException e) {
                    if (!SqlErrors.isDuplicateKey(e)) {
                        throw e;
                    }
                    // Another writer stored a text at once (this one, or another taking the same number): read again.
                }
            }
            throw new SQLException("the text kept losing races to other writers");
        });
    }

    /**
     * Stores those of {@code all} that are new, in one transaction on one connection (an import
     * meets tens of thousands of new domains; one connection and statement each took milliseconds).
     * When another writer stores one of them meanwhile, they are stored one at a time instead.
     */
    void storeAll(Collection<String> all) {
        Set<String> missing = new LinkedHashSet<>();
        for (String t : all) {
            if (!ids.containsKey(t)) {
                missing.add(t);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        Map<String, Integer> stored = new HashMap<>();
        try {
            db.inTransaction("store " + missing.size() + " texts", c -> {
                stored.clear();
                try (PreparedStatement max = c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM " + TABLE);
                     PreparedStatement insert = c.prepareStatement("INSERT INTO " + TABLE
                             + " (id, text_hash, text) VALUES (?, ?, ?)");
                     PreparedStatement select = c.prepareStatement(FIND_SQL)) {
                    int next;
                    try (ResultSet rs = max.executeQuery()) {
                        rs.next();
                        next = rs.getInt(1) + 1;
                    }
                    for (String text : missing) {
                        Lookup found = find(select, text);
                        if (found.id != null) {
                            stored.put(text, found.id);
                            continue;
                        }
                        insert.setInt(1, next);
                        insert.setLong(2, found.freeHash);
                        insert.setString(3, text);
                        insert.executeUpdate();
                        stored.put(text, next++);
                    }
                }
                return null;
            });
        } catch (StoreException e) {
            if (!(e.getCause() instanceof SQLException) || !SqlErrors.isDuplicateKey((SQLException) e.getCause())) {
                throw e;
            }
            missing.forEach(this::id); // lost a race: one at a time, each reads the winner's number
            return;
        }
        stored.forEach(this::remember);
    }

    /** The number of {@code text} if it is stored. */
    OptionalInt idIfStored(String text) {
        Integer cached = ids.get(text);
        if (cached != null) {
            return OptionalInt.of(cached);
        }
        Integer id = db.withConnection("look up the text '" + text + "'", c -> find(c, text).id);
        return id == null ? OptionalInt.empty() : OptionalInt.of(remember(text, id));
    }

    /** The text of number {@code id}, which an entry refers to. */
    String text(int id) {
        String cached = texts.get(id);
        if (cached != null) {
            return cached;
        }
        String text = db.withConnection("read text " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT text FROM " + TABLE + " WHERE id = ?")) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
        if (text == null) {
            throw db.failure("read text " + id, new java.sql.SQLException("the suppression list refers to text " + id
                    + ", which is not stored"));
        }
        remember(text, id);
        return text;
    }

    private int remember(String text, int id) {
        if (ids.size() > MAX_CACHED) {
            ids.clear();
            texts.clear();
        }
        ids.put(text, id);
        texts.put(id, text);
        return id;
    }

    private static final class Lookup {
        Integer id;
        long freeHash;
    }

    private static final String FIND_SQL = "SELECT text_hash, id, text FROM " + TABLE
            + " WHERE text_hash >= ? AND text_hash < ? ORDER BY text_hash";

    private static Lookup find(Connection c, String text) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(FIND_SQL)) {
            return find(ps, text);
        }
    }

    /** The stored number of {@code text}, or the first free hash to store it under. */
    private static Lookup find(PreparedStatement ps, String text) throws SQLException {
        long hash = hash(text);
        Lookup out = new Lookup();
        {
            ps.setLong(1, hash);
            ps.setLong(2, hash + MAX_PROBES);
            long expected = hash;
            boolean free = false;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (text.equals(rs.getString(3))) {
                        out.id = rs.getInt(2);
                        return out;
                    }
                    if (!free && rs.getLong(1) == expected) {
                        expected++;
                    } else {
                        free = true;
                    }
                }
            }
            if (expected >= hash + MAX_PROBES) {
                throw new SQLException(MAX_PROBES + " texts share the hash of '" + text + "'");
            }
            out.freeHash = expected;
            return out;
        }
    }

    /** 64-bit FNV-1a over the characters, then mixed; below {@code Long.MAX_VALUE - MAX_PROBES}, so probes never wrap. */
    private static long hash(String text) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < text.length(); i++) {
            h = (h ^ text.charAt(i)) * 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        h ^= h >>> 31;
        return Math.min(h, Long.MAX_VALUE - MAX_PROBES);
    }
}
