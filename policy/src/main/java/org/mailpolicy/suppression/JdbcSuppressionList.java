package org.mailpolicy.suppression;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.Lists;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.SqlErrors;

/**
 * {@link SuppressionList} over JDBC. The default is an embedded H2 database in file mode: a real
 * database with crash-safe storage (MVStore) that survives a James restart without a server to run,
 * and the same plain, portable SQL serves PostgreSQL through {@link #open(DataSource)} when several
 * James nodes must share one list.
 *
 * <p>The plugin jar relocates {@code org.h2}, so the H2 data source is created directly, never
 * through {@code DriverManager} or {@code ServiceLoader}.
 *
 * <p>On a database this process alone writes (the embedded file), {@link #find} first asks a
 * {@link SuppressionIndex} held in memory, which answers most unlisted addresses without the
 * database; in a cluster every lookup reads the table (the index says why).
 */
public final class JdbcSuppressionList implements SuppressionList {
    static final String TABLE = "delivery_policy_suppression";
    private static final int ADDRESS_COLUMN = SuppressionEntry.MAX_ADDRESS_LENGTH;
    private static final int TEXT_COLUMN = SuppressionEntry.MAX_TEXT_LENGTH;
    /** Confirmations and the last one were added after the first release: NULL in older rows (one, at since). */
    private static final String COLUMNS = "address, domain, since_ms, reason, reply, rule_id, source, message_id, "
            + "confirmations, last_confirmed_ms";
    private static final String VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
    private static final int MAX_PAGE = 10_000;
    /** Entries {@link #addAll} sorts together: the more, the fewer index pages each save rewrites; kept in memory. */
    static final int BULK_SORT = 50_000;
    /** Entries per transaction of {@link #addAll}. */
    static final int BULK_CHUNK = 5_000;

    private final Database db;
    /** Whether {@link #close()} closes the database: only when {@link #openH2} opened it for this store alone. */
    private final boolean ownsDatabase;
    private final SuppressionExpiry expiry;
    private final Clock clock;
    /** The addresses in memory; null on a database other processes write too, where it could miss their adds. */
    private final SuppressionIndex index;

    private JdbcSuppressionList(Database db, boolean ownsDatabase, SuppressionExpiry expiry, Clock clock,
                                SuppressionIndex index) {
        this.db = db;
        this.ownsDatabase = ownsDatabase;
        this.expiry = Preconditions.checkNotNull(expiry, "expiry");
        this.clock = Preconditions.checkNotNull(clock, "clock");
        this.index = index;
    }

    /**
     * Opens (creating if needed) the H2 database at {@code fileBase} (H2 adds {@code .mv.db}) and
     * the table. Close it to release the file.
     *
     * @throws StoreException if the file cannot be opened (locked by another process, unreadable)
     */
    public static JdbcSuppressionList openH2(Path fileBase) {
        return openH2(fileBase, SuppressionExpiry.NONE, Clock.systemUTC());
    }

    /** As {@link #openH2(Path)}, with entries that expire, judged by {@code clock}. */
    public static JdbcSuppressionList openH2(Path fileBase, SuppressionExpiry expiry, Clock clock) {
        return Database.openH2For(fileBase, db -> open(db, true, expiry, clock));
    }

    /** Uses a database the caller owns (and closes); creates the table if it is missing. Entries never expire. */
    public static JdbcSuppressionList open(Database db) {
        return open(db, SuppressionExpiry.NONE, Clock.systemUTC());
    }

    /**
     * Uses a database the caller owns (and closes), with entries that expire: {@link #find} treats an entry past
     * its expiry, judged by {@code clock}, as absent. Creates the table if missing, or adds the columns it lacks.
     */
    public static JdbcSuppressionList open(Database db, SuppressionExpiry expiry, Clock clock) {
        return open(Preconditions.checkNotNull(db, "db"), false, expiry, clock);
    }

    private static JdbcSuppressionList open(Database db, boolean ownsDatabase, SuppressionExpiry expiry, Clock clock) {
        createSchema(db);
        SuppressionIndex index = db.isSingleProcess() ? SuppressionIndex.buildInBackground(db, TABLE) : null;
        return new JdbcSuppressionList(db, ownsDatabase, expiry, clock, index);
    }

    /** Waits until the in-memory index is built (true at once without one); for tests and benchmarks. */
    public boolean awaitIndex(java.time.Duration timeout) throws InterruptedException {
        return index == null || index.awaitBuilt(timeout);
    }

    private static void createSchema(Database db) {
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                    + "address VARCHAR(" + ADDRESS_COLUMN + ") NOT NULL PRIMARY KEY, "
                    + "domain VARCHAR(" + ADDRESS_COLUMN + ") NOT NULL, "
                    // Epoch milliseconds: no time-zone conversions between databases and drivers.
                    + "since_ms BIGINT NOT NULL, "
                    + "reason VARCHAR(" + TEXT_COLUMN + ") NOT NULL, "
                    + "reply VARCHAR(" + TEXT_COLUMN + ") NOT NULL, "
                    + "rule_id VARCHAR(" + TEXT_COLUMN + ") NOT NULL, "
                    + "source VARCHAR(32) NOT NULL, "
                    + "message_id VARCHAR(" + TEXT_COLUMN + "))");
            // Added after the first release: tables of earlier versions get them here, their rows kept (NULL: once, at
            // since). Nullable without a default, so adding them rewrites no row of a list of millions.
            st.executeUpdate("ALTER TABLE " + TABLE + " ADD COLUMN IF NOT EXISTS confirmations INTEGER");
            st.executeUpdate("ALTER TABLE " + TABLE + " ADD COLUMN IF NOT EXISTS last_confirmed_ms BIGINT");
            st.executeUpdate("CREATE INDEX IF NOT EXISTS " + TABLE + "_domain ON " + TABLE + " (domain, address)");
        } catch (SQLException e) {
            throw db.failure("create the suppression table", e);
        }
    }

    /**
     * The entry while it suppresses: one past its expiry is absent, as if lifted. An address the
     * index knows is not listed is answered without the database.
     */
    @Override
    public Optional<SuppressionEntry> find(String address) {
        String a = SuppressionEntry.normaliseAddress(address);
        if (index != null && !index.mightContain(a)) {
            return Optional.empty();
        }
        return lookUp(a).filter(e -> !expiry.isExpired(e, clock.instant()));
    }

    /** Always the table: an operator's question, not the relay's. */
    @Override
    public Optional<SuppressionEntry> findStored(String address) {
        return lookUp(SuppressionEntry.normaliseAddress(address));
    }

    private Optional<SuppressionEntry> lookUp(String a) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + TABLE + " WHERE address = ?")) {
            ps.setString(1, a);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw db.failure("look up " + a, e);
        }
    }

    /** A new address is added; one already there is confirmed: counted once more, at the entry's {@code since}. */
    @Override
    public boolean add(SuppressionEntry entry) {
        if (insert(entry)) {
            return true;
        }
        confirm(entry);
        return false;
    }

    /**
     * Adds the entry; false, changing nothing, when the address is already there. Either way the
     * address has its row, and the index is told so (an address already there too, in case another
     * store on this database added it).
     */
    private boolean insert(SuppressionEntry entry) {
        Preconditions.checkNotNull(entry, "entry");
        boolean inserted;
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO " + TABLE + " (" + COLUMNS + ") VALUES (" + VALUES
                     + ")")) {
            bind(ps, entry);
            inserted = ps.executeUpdate() == 1;
        } catch (SQLException e) {
            // Insert-then-detect is atomic where check-then-insert races: the first entry wins.
            if (!SqlErrors.isDuplicateKey(e)) {
                throw db.failure("add " + entry.address(), e);
            }
            inserted = false;
        }
        if (index != null) {
            index.added(entry.address(), inserted);
        }
        return inserted;
    }

    /**
     * One more confirmation of an address already there, at {@code entry.since()}; the first entry's reason and
     * reply stay. In one statement, so confirmations from several threads or nodes are all counted.
     */
    private void confirm(SuppressionEntry entry) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("UPDATE " + TABLE + " SET confirmations = COALESCE(confirmations, 1) + 1, "
                     + "last_confirmed_ms = GREATEST(COALESCE(last_confirmed_ms, since_ms), ?) WHERE address = ?")) {
            ps.setLong(1, entry.since().toEpochMilli());
            ps.setString(2, entry.address());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db.failure("confirm " + entry.address(), e);
        }
    }

    /**
     * An import adds what is missing and confirms nothing: running it again is not new evidence.
     * Batches of {@value #BULK_CHUNK} per transaction, each batch in address order, sorted
     * {@value #BULK_SORT} at a time. On PostgreSQL each {@link #add} is a connection and a commit:
     * batched, an import runs hundreds of times faster. On embedded H2 commits are cheap; there the
     * cost is the two indexes (address; domain and address), B-trees whose changed pages H2 writes
     * out whole at every save: rows in random order dirty a page each, rows in address order share
     * them, and a load takes about half the time. Chunked, a transaction stays short for the
     * writers it may wait on or make wait. Sorting in one order everywhere also means two imports
     * never wait on each other in a cycle.
     */
    @Override
    public long addAll(Iterable<SuppressionEntry> entries) {
        Preconditions.checkNotNull(entries, "entries");
        long added = 0;
        List<SuppressionEntry> sorted = new ArrayList<>(BULK_SORT);
        for (SuppressionEntry entry : entries) {
            sorted.add(Preconditions.checkNotNull(entry, "entry"));
            if (sorted.size() == BULK_SORT) {
                added += addSorted(sorted);
                sorted.clear();
            }
        }
        return added + addSorted(sorted);
    }

    private long addSorted(List<SuppressionEntry> entries) {
        // Stable: of two entries for one address, the first still comes first and wins.
        entries.sort(Comparator.comparing(SuppressionEntry::address));
        long added = 0;
        for (int from = 0; from < entries.size(); from += BULK_CHUNK) {
            added += addChunk(entries.subList(from, Math.min(entries.size(), from + BULK_CHUNK)));
        }
        return added;
    }

    /** Adds the chunk in one transaction; when that loses a race, one entry at a time ({@link #insert}). */
    private int addChunk(List<SuppressionEntry> chunk) {
        try (Connection c = db.connection()) {
            // Plain portable SQL (no MERGE or ON CONFLICT): insert the row only if its address is
            // absent. Each statement of the batch sees the ones before it, so a repeated address
            // inside the chunk keeps its first entry too.
            int inserted = Database.inTransaction(c, tx -> {
                try (PreparedStatement ps = tx.prepareStatement("INSERT INTO " + TABLE + " (" + COLUMNS
                        + ") SELECT " + VALUES + " WHERE NOT EXISTS (SELECT 1 FROM " + TABLE
                        + " WHERE address = ?)")) {
                    for (SuppressionEntry entry : chunk) {
                        bind(ps, entry);
                        ps.setString(11, entry.address());
                        ps.addBatch();
                    }
                    int added = 0;
                    for (int count : ps.executeBatch()) {
                        if (count > 0) {
                            added++;
                        }
                    }
                    return added;
                }
            });
            if (index != null) {
                // Committed: each address of the chunk now has its row, new or kept.
                index.addedAll(Lists.transform(chunk, SuppressionEntry::address), inserted);
            }
            return inserted;
        } catch (SQLException e) {
            if (!SqlErrors.isDuplicateKey(e)) {
                throw db.failure("add " + chunk.size() + " entries from " + chunk.get(0).address(), e);
            }
            // Another writer (a James node, a bounce) inserted one of these addresses between our
            // check and our insert. Redone one entry at a time, each loses its race alone.
        }
        int added = 0;
        for (SuppressionEntry entry : chunk) {
            if (insert(entry)) {
                added++;
            }
        }
        return added;
    }

    private static void bind(PreparedStatement ps, SuppressionEntry entry) throws SQLException {
        ps.setString(1, entry.address());
        ps.setString(2, entry.domain());
        ps.setLong(3, entry.since().toEpochMilli());
        ps.setString(4, entry.reason());
        ps.setString(5, entry.reply());
        ps.setString(6, entry.ruleId());
        ps.setString(7, entry.source().name());
        ps.setString(8, entry.messageId().orElse(null));
        ps.setInt(9, entry.confirmations());
        ps.setLong(10, entry.lastConfirmed().toEpochMilli());
    }

    @Override
    public boolean remove(String address) {
        String a = SuppressionEntry.normaliseAddress(address);
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE + " WHERE address = ?")) {
            ps.setString(1, a);
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw db.failure("remove " + a, e);
        }
    }

    @Override
    public boolean removeReplyEntry(String address, Instant addedSince) {
        String a = SuppressionEntry.normaliseAddress(address);
        Preconditions.checkNotNull(addedSince, "addedSince");
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM " + TABLE
                     + " WHERE address = ? AND source IN (?, ?) AND since_ms >= ?")) {
            ps.setString(1, a);
            ps.setString(2, SuppressionEntry.Source.LIVE_REPLY.name());
            ps.setString(3, SuppressionEntry.Source.BOUNCE.name());
            ps.setLong(4, addedSince.toEpochMilli());
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw db.failure("remove " + a, e);
        }
    }

    @Override
    public List<SuppressionEntry> list(Optional<String> domain, int offset, int limit) {
        Preconditions.checkNotNull(domain, "domain");
        Preconditions.checkArgument(offset >= 0, "offset must not be negative: %s", offset);
        Preconditions.checkArgument(limit >= 0 && limit <= MAX_PAGE, "limit must be in [0, %s]: %s", MAX_PAGE, limit);
        if (limit == 0) {
            return ImmutableList.of();
        }
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement(listSql(domain.isPresent()))) {
            int i = 1;
            if (domain.isPresent()) {
                ps.setString(i++, normaliseDomain(domain.get()));
            }
            ps.setInt(i++, offset);
            ps.setInt(i, limit);
            ImmutableList.Builder<SuppressionEntry> out = ImmutableList.builder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(read(rs));
                }
            }
            return out.build();
        } catch (SQLException e) {
            throw db.failure("list suppressions", e);
        }
    }

    /**
     * For one domain the order is spelled (domain, address), the domain index's own order: it is
     * the same order under {@code domain = ?}, but H2 reads the index in order and stops after the
     * page only when the ORDER BY names the index's columns. Ordered by address alone, it fetched
     * and sorted every row of the domain for each page: millions of rows for gmail.com on a large list.
     */
    static String listSql(boolean oneDomain) {
        return "SELECT " + COLUMNS + " FROM " + TABLE + (oneDomain ? " WHERE domain = ? ORDER BY domain, address"
                : " ORDER BY address") + " OFFSET ? ROWS FETCH NEXT ? ROWS ONLY";
    }

    @Override
    public long count(Optional<String> domain) {
        Preconditions.checkNotNull(domain, "domain");
        String sql = "SELECT COUNT(*) FROM " + TABLE + (domain.isPresent() ? " WHERE domain = ?" : "");
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (domain.isPresent()) {
                ps.setString(1, normaliseDomain(domain.get()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw db.failure("count suppressions", e);
        }
    }

    /** Closes the database when {@link #openH2} opened it for this list; a caller's is left alone. */
    @Override
    public void close() {
        if (ownsDatabase) {
            db.close();
        }
    }

    /**
     * Closes the H2 database this list opened and rewrites its file without the page copies a
     * large import leaves: 12.1 GB for 10 million entries, 1.9 GB once compacted, which took 54 s.
     * For a list opened alone, by {@code delivery-policy suppressions import}; a caller's database
     * is left alone, as by {@link #close}.
     */
    public void compactAndClose() {
        if (ownsDatabase) {
            db.compactAndClose();
        }
    }

    private static SuppressionEntry read(ResultSet rs) throws SQLException {
        SuppressionEntry.Source source;
        String rawSource = rs.getString("source");
        try {
            source = SuppressionEntry.Source.valueOf(rawSource);
        } catch (IllegalArgumentException e) {
            // A row written by a newer version: keep it usable rather than fail every lookup.
            source = SuppressionEntry.Source.MANUAL;
        }
        Instant since = Instant.ofEpochMilli(rs.getLong("since_ms"));
        SuppressionEntry entry = SuppressionEntry.of(rs.getString("address"), since, rs.getString("reason"),
                rs.getString("reply"), rs.getString("rule_id"), source, Optional.ofNullable(rs.getString("message_id")));
        int confirmations = rs.getInt("confirmations");
        if (rs.wasNull()) {
            return entry;
        }
        long last = rs.getLong("last_confirmed_ms");
        Instant lastConfirmed = rs.wasNull() ? since : Instant.ofEpochMilli(Math.max(last, since.toEpochMilli()));
        return entry.confirmed(Math.max(1, confirmations), lastConfirmed);
    }

    private static String normaliseDomain(String domain) {
        String d = domain.trim().toLowerCase(Locale.ROOT);
        if (d.startsWith("@")) {
            d = d.substring(1);
        }
        Preconditions.checkArgument(!d.isEmpty() && d.indexOf('@') < 0, "not a domain: '%s'", domain);
        return d;
    }


    @Override
    public String toString() {
        return "JdbcSuppressionList{" + db + "}";
    }
}
