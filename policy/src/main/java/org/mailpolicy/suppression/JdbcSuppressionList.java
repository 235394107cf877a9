package org.mailpolicy.suppression;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.SqlErrors;
import org.mailpolicy.jdbc.StoreException;

/**
 * {@link SuppressionList} over JDBC. The default is an embedded H2 database in file mode: a real
 * database with crash-safe storage (MVStore) that survives a James restart without a server to run,
 * and the same plain, portable SQL serves PostgreSQL through {@link #open(Database)} when several
 * James nodes must share one list.
 *
 * <p>Rows are kept small, for lists of tens of millions: the primary key is the address's
 * {@link AddressKey} (no second index), the row holds the local part only, and the domain, the
 * outcome (reason, reply and rule id together), the source and the message id's host are numbers
 * into {@link SuppressionTexts}, each distinct text stored once (a reply that names its recipient
 * is stored with the address replaced by a mark). Confirmations are NULL while there was only one.
 * Times are epoch milliseconds.
 *
 * <p>On H2 the key is the table's row id ({@code _ROWID_}), not a column: H2 stores a BIGINT
 * primary key column twice, as the B-tree's key and again in the row, 9 to 10 bytes of a row of
 * about 55. The SQL below says {@code address_key} throughout and {@link #sql} names the row id on
 * H2. A table restored from an SQL script ({@code SCRIPT}, then {@code RUNSCRIPT}) gets new row
 * ids; {@link #open} sees that and puts each row back at its key.
 *
 * <p>{@link #find} first asks a {@link SuppressionIndex} held in memory, which answers unlisted
 * addresses without the database: exact on a database this process alone writes (the embedded
 * file); on a shared PostgreSQL kept current from a feed of the other nodes' adds, so a node sees
 * another's add within a second (the index says how).
 */
public final class JdbcSuppressionList implements SuppressionList {
    static final String TABLE = "delivery_policy_suppressions";
    /** The table of versions before the compact rows; its entries are moved into {@link #TABLE} at open. */
    static final String OLD_TABLE = "delivery_policy_suppression";
    /**
     * The second version's table (the key a column on H2 too, and the reason, reply and rule id a number
     * each); its entries are moved into {@link #TABLE} at open.
     */
    static final String V2_TABLE = "delivery_policy_suppressed";
    /** Where {@link #TABLE} goes while its rows are put back at their keys (a restore from a script renumbered them). */
    static final String REKEY_TABLE = "delivery_policy_suppressions_rekey";
    private static final String COLUMNS = "address_key, local_part, domain_id, since_ms, outcome_id, source_id, "
            + "message_local, message_domain_id, confirmations, last_confirmed_ms";
    private static final String VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
    private static final int COLUMN_COUNT = 10;
    /** Starts the text of an outcome: its reason's, reply's and rule id's numbers. No other text holds it. */
    private static final String OUTCOME_MARK = "\u0002";
    /** Stands for the entry's own address in a stored reply: a control character, which entries never hold. */
    static final String ADDRESS_MARK = "\u0001";
    private static final int MAX_PAGE = 10_000;
    /** Rows {@link #addAll} sorts in memory before it writes them to a temporary file and sorts the next ones. */
    static final int SORT_RUN = 200_000;
    /**
     * Rows per transaction of {@link #addAll}. 500 left the file as large before compaction (138 against
     * 143 MB at a million entries) and cost 10 % more CPU.
     */
    static final int BULK_CHUNK = 5_000;
    /** Rows per INSERT statement of {@link #addAll}: H2 runs a batch as one statement per row, and pays for each. */
    static final int ROWS_PER_INSERT = 100;

    private final Database db;
    /** Whether {@link #close()} closes the database: only when {@link #openH2} opened it for this store alone. */
    private final boolean ownsDatabase;
    private final SuppressionExpiry expiry;
    private final Clock clock;
    private final SuppressionTexts texts;
    /** Whether the key is H2's row id rather than the {@code address_key} column ({@link #sql}). */
    private final boolean keyIsRowId;
    private final String lookUpSql;
    /** Outcomes read, by number: a number's texts never change. Bounded as {@link SuppressionTexts} bounds its caches. */
    private final java.util.concurrent.ConcurrentHashMap<Integer, String[]> outcomes =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_OUTCOMES_KEPT = 100_000;
    private static final System.Logger LOGGER = System.getLogger(JdbcSuppressionList.class.getName());
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** The addresses in memory; null on a database other processes write too, where it could miss their adds. */
    private SuppressionIndex index;

    private JdbcSuppressionList(Database db, boolean ownsDatabase, SuppressionExpiry expiry, Clock clock,
                                boolean keyIsRowId) {
        this.db = db;
        this.ownsDatabase = ownsDatabase;
        this.expiry = Preconditions.checkNotNull(expiry, "expiry");
        this.clock = Preconditions.checkNotNull(clock, "clock");
        this.texts = new SuppressionTexts(db);
        this.keyIsRowId = keyIsRowId;
        this.lookUpSql = sql(LOOK_UP_SQL);
    }

    /** {@code statement} on this database: on H2 the key is the row id, elsewhere the {@code address_key} column. */
    private String sql(String statement) {
        return keyIsRowId ? statement.replace("address_key", "_ROWID_") : statement;
    }

    /** Which database holds the list ("H2", "PostgreSQL"): H2's tables have a row id to key them by. */
    private static String product(Database db) {
        return db.withConnection("open the suppression list", c -> c.getMetaData().getDatabaseProductName());
    }

    /** How often a node of a cluster reads the other nodes' adds into its index. */
    static final java.time.Duration FEED_POLL = java.time.Duration.ofSeconds(1);

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
     * its expiry, judged by {@code clock}, as absent. Creates the tables if missing, and moves the entries of an
     * earlier version's table into them.
     */
    public static JdbcSuppressionList open(Database db, SuppressionExpiry expiry, Clock clock) {
        return open(Preconditions.checkNotNull(db, "db"), false, expiry, clock);
    }

    private static JdbcSuppressionList open(Database db, boolean ownsDatabase, SuppressionExpiry expiry, Clock clock) {
        String product = product(db);
        boolean keyIsRowId = "H2".equalsIgnoreCase(product);
        createSchema(db, keyIsRowId);
        JdbcSuppressionList list = new JdbcSuppressionList(db, ownsDatabase, expiry, clock, keyIsRowId);
        list.moveEarlierTables();
        list.preloadTexts();
        if (db.isSingleProcess()) {
            list.index = SuppressionIndex.open(db, "SELECT local_part, domain_id FROM " + TABLE, list::keyOfRow);
        } else if ("PostgreSQL".equalsIgnoreCase(product)) {
            list.index = SuppressionIndex.follow(db, TABLE, "SELECT local_part, domain_id FROM " + TABLE, list::keyOfRow,
                    FEED_POLL).orElse(null);
        }
        return list;
    }

    /**
     * Reads the texts into memory in a background thread, so that opening does not wait for it (a cold
     * start at 10 million entries read them before its first look-up); until then a text is read when
     * first needed, as it always could be.
     */
    private void preloadTexts() {
        Thread reader = new Thread(() -> {
            try {
                texts.preload();
            } catch (RuntimeException e) {
                // Only slower: each text is read from the table when first needed.
                LOGGER.log(System.Logger.Level.DEBUG, "delivery policy: suppression texts not read ahead: "
                        + e.getMessage());
            }
        }, "delivery-policy-suppression-texts");
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits until the in-memory index is ready (true at once without one); for tests and benchmarks. */
    public boolean awaitIndex(java.time.Duration timeout) throws InterruptedException {
        return index == null || index.awaitBuilt(timeout);
    }

    /** Whether the in-memory index answers "not listed" for {@code address} without the database; for tests. */
    boolean indexSaysAbsent(String address) {
        return index != null && !index.mightContain(AddressKey.ofAddress(address));
    }

    /** Stops the index following the other nodes' adds, as a feed that cannot be read; for tests. */
    void stopFollowingForTesting() {
        if (index != null) {
            index.close();
        }
    }

    /** Where the in-memory index came from at open ("file", "table", "feed" on PostgreSQL), or "none". */
    public String indexSource() {
        return index == null ? "none" : index.source();
    }

    private static void createSchema(Database db, boolean keyIsRowId) {
        db.createSchema("create the suppression tables", c -> {
            try (Statement st = c.createStatement()) {
                createTable(st, TABLE, keyIsRowId);
                SuppressionTexts.createSchema(st);
                SuppressionIndex.createSchema(st);
            }
            return null;
        });
    }

    private static void createTable(Statement st, String table, boolean keyIsRowId) throws SQLException {
        st.executeUpdate("CREATE TABLE IF NOT EXISTS " + table + " ("
                + (keyIsRowId ? "" : "address_key BIGINT NOT NULL PRIMARY KEY, ")
                + "local_part VARCHAR(" + SuppressionEntry.MAX_ADDRESS_LENGTH + ") NOT NULL, "
                + "domain_id INTEGER NOT NULL, "
                + "since_ms BIGINT NOT NULL, "
                // The reason, reply and rule id as one text: they come together, and one number costs a row 2.5
                // bytes where three cost 7.5.
                + "outcome_id INTEGER NOT NULL, "
                + "source_id INTEGER NOT NULL, "
                // The message id up to its last @, and the rest as a text: "@host>" is shared by every message of a
                // sending host, and was half of the id.
                + "message_local VARCHAR(" + SuppressionEntry.MAX_TEXT_LENGTH + "), "
                + "message_domain_id INTEGER, "
                // NULL while the entry was found once (at since): most entries, one byte each.
                + "confirmations INTEGER, "
                + "last_confirmed_ms BIGINT)");
    }

    /** The address key of a row of {@code SELECT local_part, domain_id}: its first key, as a look-up computes it. */
    private long keyOfRow(ResultSet rs) {
        try {
            return AddressKey.of(rs.getString(1) + "@" + texts.text(rs.getInt(2)));
        } catch (SQLException e) {
            throw db.failure("read a suppressed address", e);
        }
    }

    /**
     * The entry while it suppresses: one past its expiry is absent, as if lifted. An address the
     * index knows is not listed is answered without the database.
     */
    @Override
    public Optional<SuppressionEntry> find(String address) {
        // The key first, without a normalised copy: an unlisted address then costs no allocation.
        long key = AddressKey.ofAddress(address);
        if (index != null && !index.mightContain(key)) {
            return Optional.empty();
        }
        String a = SuppressionEntry.normaliseAddress(address);
        return lookUp(a, key).filter(e -> !expiry.isExpired(e, clock.instant()));
    }

    /** Always the table: an operator's question, not the relay's. */
    @Override
    public Optional<SuppressionEntry> findStored(String address) {
        String a = SuppressionEntry.normaliseAddress(address);
        return lookUp(a, AddressKey.of(a));
    }

    private static final String LOOK_UP_SQL = "SELECT " + COLUMNS + " FROM " + TABLE
            + " WHERE address_key BETWEEN ? AND ? AND local_part = ? ORDER BY address_key";
    /** Connections kept with the look-up prepared, for the relay's finds; more finds at once take pooled ones. */
    static final int KEPT_LOOK_UPS = 4;
    private final java.util.concurrent.ConcurrentLinkedQueue<KeptLookUp> keptLookUps =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger keptLookUpCount = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * A connection and its look-up statement, kept: the relay finds a listed address once per
     * recipient, and taking a pooled connection (H2 rolls it back) and preparing the statement
     * (H2 parsed and planned it again each time) cost more than the read itself.
     */
    private static final class KeptLookUp {
        final Connection connection;
        final PreparedStatement statement;

        KeptLookUp(Connection connection, String lookUpSql) throws SQLException {
            this.connection = connection;
            this.statement = connection.prepareStatement(lookUpSql);
        }

        void close() {
            try {
                connection.close();
            } catch (SQLException e) {
                // Dropped: it failed already.
            }
        }
    }

    /** The address's row among the keys it may take: compared by its text, never by key alone. */
    private Optional<SuppressionEntry> lookUp(String a, long key) {
        KeptLookUp kept = keptLookUps.poll();
        if (kept == null && keptLookUpCount.incrementAndGet() > KEPT_LOOK_UPS) {
            keptLookUpCount.decrementAndGet();
            try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(lookUpSql)) {
                return lookUp(ps, a, key);
            } catch (SQLException e) {
                throw db.failure("look up " + a, e);
            }
        }
        try {
            if (kept == null) {
                kept = new KeptLookUp(db.connection(), lookUpSql);
            }
            Optional<SuppressionEntry> found = lookUp(kept.statement, a, key);
            if (closed.get()) {
                kept.close();
                keptLookUpCount.decrementAndGet();
            } else {
                keptLookUps.add(kept);
            }
            return found;
        } catch (SQLException | RuntimeException e) {
            if (kept != null) {
                kept.close();
            }
            keptLookUpCount.decrementAndGet();
            if (e instanceof SQLException) {
                throw db.failure("look up " + a, (SQLException) e);
            }
            throw (RuntimeException) e;
        }
    }

    private Optional<SuppressionEntry> lookUp(PreparedStatement ps, String a, long key) throws SQLException {
        int at = a.lastIndexOf('@');
        String domain = a.substring(at + 1);
        ps.setLong(1, key);
        ps.setLong(2, key + AddressKey.SLOTS - 1);
        ps.setString(3, a.substring(0, at));
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                if (domain.equals(texts.text(rs.getInt(3)))) {
                    return Optional.of(read(rs));
                }
            }
            return Optional.empty();
        }
    }

    private void closeKeptLookUps() {
        for (KeptLookUp kept; (kept = keptLookUps.poll()) != null; ) {
            kept.close();
            keptLookUpCount.decrementAndGet();
        }
    }

    /** A new address is added; one already there is confirmed: counted once more, at the entry's {@code since}. */
    @Override
    public boolean add(SuppressionEntry entry) {
        Preconditions.checkNotNull(entry, "entry");
        Row row = encode(entry, 0);
        if (insert(row)) {
            return true;
        }
        confirm(row);
        return false;
    }

    /** One entry as a row of {@link #TABLE}, its texts numbered; {@code order} is its place in an import. */
    private Row encode(SuppressionEntry entry, long order) {
        return encode(entry, entry.domain(),
                outcomeText(entry, entry.reply().replace(entry.address(), ADDRESS_MARK)), order);
    }

    /** As {@link #encode(SuppressionEntry, long)}, with the entry's domain and outcome text already made. */
    private Row encode(SuppressionEntry entry, String domain, String outcomeText, long order) {
        String address = entry.address();
        int at = address.lastIndexOf('@');
        Row row = new Row();
        row.key = AddressKey.of(address);
        row.order = order;
        row.local = address.substring(0, at);
        row.domainId = texts.id(domain);
        row.since = entry.since().toEpochMilli();
        row.outcomeId = texts.id(outcomeText);
        row.sourceId = texts.id(entry.source().name());
        entry.messageId().ifPresent(m -> {
            int mat = m.lastIndexOf('@');
            row.messageLocal = mat < 0 ? m : m.substring(0, mat);
            row.messageDomainId = mat < 0 ? null : texts.id(m.substring(mat));
        });
        if (entry.confirmations() > 1 || !entry.lastConfirmed().equals(entry.since())) {
            row.confirmations = entry.confirmations();
            row.lastConfirmed = entry.lastConfirmed().toEpochMilli();
        }
        return row;
    }

    /**
     * The text standing for the entry's reason, reply (as {@code markedReply}) and rule id together: their
     * numbers, after {@link #OUTCOME_MARK}. Stores those three texts if they are new.
     */
    private String outcomeText(SuppressionEntry entry, String markedReply) {
        return OUTCOME_MARK + texts.id(entry.reason()) + "," + texts.id(markedReply) + "," + texts.id(entry.ruleId());
    }

    /** The reason, the marked reply and the rule id of the outcome numbered {@code outcomeId}. */
    private String[] outcome(int outcomeId) throws SQLException {
        String[] known = outcomes.get(outcomeId);
        if (known != null) {
            return known;
        }
        String[] parts = parseOutcome(outcomeId);
        if (outcomes.size() >= MAX_OUTCOMES_KEPT) {
            outcomes.clear();
        }
        outcomes.put(outcomeId, parts);
        return parts;
    }

    private String[] parseOutcome(int outcomeId) throws SQLException {
        String text = texts.text(outcomeId);
        int first = text.indexOf(',');
        int second = text.indexOf(',', first + 1);
        if (!text.startsWith(OUTCOME_MARK) || first < 0 || second < 0) {
            throw new SQLException("suppression text " + outcomeId + " is not an outcome: '" + text + "'");
        }
        try {
            return new String[] {
                texts.text(Integer.parseInt(text.substring(OUTCOME_MARK.length(), first))),
                texts.text(Integer.parseInt(text.substring(first + 1, second))),
                texts.text(Integer.parseInt(text.substring(second + 1)))};
        } catch (NumberFormatException e) {
            throw new SQLException("suppression text " + outcomeId + " is not an outcome: '" + text + "'", e);
        }
    }

    /**
     * Adds the row at the first free key of its address; false, changing nothing, when the address
     * is already there. Either way the address has its row, and the index is told so. Two writers
     * taking one key at once: the second fails on the primary key and reads again.
     */
    private boolean insert(Row row) {
        String what = "add " + row.local + " (domain " + row.domainId + ")";
        Boolean inserted = db.withConnection(what, c -> {
            for (int attempt = 0; attempt < 10; attempt++) {
                long free = Long.MIN_VALUE;
                boolean[] taken = new boolean[AddressKey.SLOTS];
                try (PreparedStatement ps = c.prepareStatement(sql("SELECT address_key, local_part, domain_id FROM "
                        + TABLE + " WHERE address_key BETWEEN ? AND ?"))) {
                    ps.setLong(1, row.key);
                    ps.setLong(2, row.key + AddressKey.SLOTS - 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            if (row.local.equals(rs.getString(2)) && sameText(row.domainId, rs.getInt(3))) {
                                return false;
                            }
                            taken[(int) (rs.getLong(1) - row.key)] = true;
                        }
                    }
                }
                for (int i = 0; i < taken.length && free == Long.MIN_VALUE; i++) {
                    if (!taken[i]) {
                        free = row.key + i;
                    }
                }
                if (free == Long.MIN_VALUE) {
                    throw new SQLException(AddressKey.SLOTS + " addresses share the key of " + row.local);
                }
                try (PreparedStatement ps = c.prepareStatement(sql("INSERT INTO " + TABLE + " (" + COLUMNS
                        + ") VALUES (" + VALUES + ")"))) {
                    bind(ps, row, free);
                    ps.executeUpdate();
                    return true;
                } catch (SQLException e) {
                    if (!SqlErrors.isDuplicateKey(e)) {
                        throw e;
                    }
                    // Another writer took that key first: read the slots again.
                }
            }
            throw new SQLException("kept losing races for the key of " + row.local);
        });
        if (index != null) {
            index.added(row.key);
        }
        return inserted;
    }

    /** Whether two text numbers stand for one text (two nodes can number one new text twice only in a lost race). */
    private boolean sameText(int a, int b) {
        return a == b || texts.text(a).equals(texts.text(b));
    }

    /**
     * One more confirmation of an address already there, at the row's {@code since}; the first entry's reason and
     * reply stay. In one statement, so confirmations from several threads or nodes are all counted.
     */
    private void confirm(Row row) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement(sql("UPDATE " + TABLE
                     + " SET confirmations = COALESCE(confirmations, 1) + 1, "
                     + "last_confirmed_ms = GREATEST(COALESCE(last_confirmed_ms, since_ms), ?) "
                     + "WHERE address_key BETWEEN ? AND ? AND local_part = ? AND domain_id = ?"))) {
            ps.setLong(1, row.since);
            ps.setLong(2, row.key);
            ps.setLong(3, row.key + AddressKey.SLOTS - 1);
            ps.setString(4, row.local);
            ps.setInt(5, row.domainId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db.failure("confirm " + row.local, e);
        }
    }

    /**
     * An import adds what is missing and confirms nothing: running it again is not new evidence.
     *
     * <p>The rows are written in key order, sorted {@value #SORT_RUN} at a time in memory and, when
     * there are more, merged from temporary files: in key order every B-tree page of the table is
     * changed once per batch and written once, where rows in the order they come change a page each
     * (an import of 10 million took 25 minutes that way). Then {@value #BULK_CHUNK} rows per
     * transaction: an address the in-memory index says is absent is inserted as it is, any other
     * only if its address is not there yet; a transaction that meets a key taken by another address
     * is redone one entry at a time, each probing for a free key as {@link #add} does.
     */
    @Override
    public long addAll(Iterable<SuppressionEntry> entries) {
        Preconditions.checkNotNull(entries, "entries");
        try (SortedRows sorted = new SortedRows()) {
            long order = 0;
            List<SuppressionEntry> batch = new ArrayList<>(TEXT_BATCH);
            for (SuppressionEntry entry : entries) {
                batch.add(Preconditions.checkNotNull(entry, "entry"));
                if (batch.size() == TEXT_BATCH) {
                    order = encodeInto(sorted, batch, order);
                }
            }
            encodeInto(sorted, batch, order);
            return insertSorted(sorted.iterator());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot sort the entries of an import in temporary files", e);
        }
    }

    /** Entries read before their new texts are stored, all in one transaction. */
    private static final int TEXT_BATCH = 20_000;

    private long encodeInto(SortedRows sorted, List<SuppressionEntry> batch, long order) throws IOException {
        // Each text is made once: the domain and the marked reply are new strings, and hashing them costs. New texts
        // are numbered in this order: reasons, replies and rule ids (which rows do not name), then outcomes, sources
        // and message hosts, then domains. The few texts most rows name get the smallest numbers, which H2 stores in
        // one or two bytes.
        java.util.Set<String> parts = new java.util.LinkedHashSet<>();
        java.util.Set<String> named = new java.util.LinkedHashSet<>();
        java.util.Set<String> newDomains = new java.util.LinkedHashSet<>();
        String[] domains = new String[batch.size()];
        String[] replies = new String[batch.size()];
        String[] outcomes = new String[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            SuppressionEntry e = batch.get(i);
            domains[i] = e.domain();
            replies[i] = e.reply().replace(e.address(), ADDRESS_MARK);
            newDomains.add(domains[i]);
            parts.add(e.reason());
            parts.add(replies[i]);
            parts.add(e.ruleId());
        }
        texts.storeAll(parts);
        for (int i = 0; i < batch.size(); i++) {
            SuppressionEntry e = batch.get(i);
            outcomes[i] = outcomeText(e, replies[i]);
            named.add(outcomes[i]);
            named.add(e.source().name());
            e.messageId().filter(m -> m.indexOf('@') >= 0).ifPresent(m -> named.add(m.substring(m.lastIndexOf('@'))));
        }
        named.addAll(newDomains);
        texts.storeAll(named);
        long next = order;
        for (int i = 0; i < batch.size(); i++) {
            sorted.add(encode(batch.get(i), domains[i], outcomes[i], next++));
        }
        batch.clear();
        return next;
    }

    private long insertSorted(Iterator<Row> rows) {
        // One connection and its statements for the whole import: H2 parses a statement of a hundred rows anew
        // for each prepare, which cost as much as the rows' insert when it was done per chunk.
        try (Connection c = db.connection();
             PreparedStatement plain = c.prepareStatement(sql("INSERT INTO " + TABLE + " (" + COLUMNS + ") VALUES ("
                     + VALUES + ")"));
             PreparedStatement plainMany = c.prepareStatement(sql(multiRowInsert(ROWS_PER_INSERT)));
             PreparedStatement guarded = c.prepareStatement(sql("INSERT INTO " + TABLE + " (" + COLUMNS + ") SELECT "
                     + VALUES + " WHERE NOT EXISTS (SELECT 1 FROM " + TABLE
                     + " WHERE address_key BETWEEN ? AND ? AND local_part = ? AND domain_id = ?)"))) {
            BulkStatements statements = new BulkStatements(c, plain, plainMany, guarded);
            long added = 0;
            List<Row> chunk = new ArrayList<>(BULK_CHUNK);
            Row previous = null;
            int slot = 0;
            while (rows.hasNext()) {
                Row row = rows.next();
                if (previous != null && previous.key == row.key) {
                    if (previous.local.equals(row.local) && previous.domainId == row.domainId) {
                        continue; // the same address again: the first (lowest order) wins, as with add
                    }
                    slot++; // another address with the same key: the next key, as add would probe
                } else {
                    slot = 0;
                }
                previous = row;
                row.slot = slot;
                chunk.add(row);
                if (chunk.size() == BULK_CHUNK) {
                    added += addChunk(chunk, statements);
                    chunk.clear();
                }
            }
            return added + (chunk.isEmpty() ? 0 : addChunk(chunk, statements));
        } catch (SQLException e) {
            throw db.failure("add the entries of an import", e);
        }
    }

    /** The connection of an import and its statements, prepared once. */
    private static final class BulkStatements {
        final Connection connection;
        final PreparedStatement plain;
        final PreparedStatement plainMany;
        final PreparedStatement guarded;

        BulkStatements(Connection connection, PreparedStatement plain, PreparedStatement plainMany,
                       PreparedStatement guarded) {
            this.connection = connection;
            this.plain = plain;
            this.plainMany = plainMany;
            this.guarded = guarded;
        }
    }

    /** Adds the chunk in one transaction; when that loses a race or meets a taken key, one entry at a time. */
    private int addChunk(List<Row> chunk, BulkStatements statements) {
        PreparedStatement plain = statements.plain;
        PreparedStatement plainMany = statements.plainMany;
        PreparedStatement guarded = statements.guarded;
        try {
            plain.clearBatch();
            guarded.clearBatch();
            int inserted = Database.inTransaction(statements.connection, tx -> {
                int added = 0;
                {
                    int plainRows = 0;
                    int guardedRows = 0;
                    List<Row> pending = new ArrayList<>(ROWS_PER_INSERT);
                    for (Row row : chunk) {
                        if (row.slot >= AddressKey.SLOTS) {
                            throw new SQLException(AddressKey.SLOTS + " addresses share the key of " + row.local);
                        }
                        // Only an exact index: one following other nodes may not have read their last second of adds yet.
                        if (index != null && index.isExact() && !index.mightContain(row.key)) {
                            pending.add(row);
                            plainRows++;
                            if (pending.size() == ROWS_PER_INSERT) {
                                for (int i = 0; i < ROWS_PER_INSERT; i++) {
                                    Row r = pending.get(i);
                                    bind(plainMany, r, r.key + r.slot, i * COLUMN_COUNT);
                                }
                                plainMany.executeUpdate();
                                pending.clear();
                            }
                        } else {
                            bind(guarded, row, row.key + row.slot);
                            guarded.setLong(COLUMN_COUNT + 1, row.key);
                            guarded.setLong(COLUMN_COUNT + 2, row.key + AddressKey.SLOTS - 1);
                            guarded.setString(COLUMN_COUNT + 3, row.local);
                            guarded.setInt(COLUMN_COUNT + 4, row.domainId);
                            guarded.addBatch();
                            guardedRows++;
                        }
                    }
                    for (Row r : pending) {
                        bind(plain, r, r.key + r.slot);
                        plain.addBatch();
                    }
                    if (!pending.isEmpty()) {
                        plain.executeBatch();
                    }
                    added += plainRows;
                    if (guardedRows > 0) {
                        for (int count : guarded.executeBatch()) {
                            if (count > 0) {
                                added++;
                            }
                        }
                    }
                }
                return added;
            });
            if (index != null) {
                // Committed: each address of the chunk now has its row, new or kept.
                for (Row row : chunk) {
                    index.added(row.key);
                }
            }
            return inserted;
        } catch (SQLException e) {
            if (!SqlErrors.isDuplicateKey(e)) {
                throw db.failure("add " + chunk.size() + " entries from " + chunk.get(0).local, e);
            }
            // A key was taken: by another writer since, or by another address with the same key. One at a time,
            // each finds its own free key or its address already there.
        }
        int added = 0;
        for (Row row : chunk) {
            if (insert(row)) {
                added++;
            }
        }
        return added;
    }

    /** An INSERT of {@code rows} rows in one statement. */
    private static String multiRowInsert(int rows) {
        StringBuilder sql = new StringBuilder("INSERT INTO " + TABLE + " (" + COLUMNS + ") VALUES ");
        for (int i = 0; i < rows; i++) {
            sql.append(i == 0 ? "(" : ", (").append(VALUES).append(')');
        }
        return sql.toString();
    }

    private static void bind(PreparedStatement ps, Row row, long key) throws SQLException {
        bind(ps, row, key, 0);
    }

    /** Binds the row's {@value #COLUMN_COUNT} values as parameters {@code offset + 1} on. */
    private static void bind(PreparedStatement ps, Row row, long key, int offset) throws SQLException {
        ps.setLong(offset + 1, key);
        ps.setString(offset + 2, row.local);
        ps.setInt(offset + 3, row.domainId);
        ps.setLong(offset + 4, row.since);
        ps.setInt(offset + 5, row.outcomeId);
        ps.setInt(offset + 6, row.sourceId);
        ps.setString(offset + 7, row.messageLocal);
        if (row.messageDomainId == null) {
            ps.setNull(offset + 8, Types.INTEGER);
        } else {
            ps.setInt(offset + 8, row.messageDomainId);
        }
        if (row.confirmations == null) {
            ps.setNull(offset + 9, Types.INTEGER);
            ps.setNull(offset + 10, Types.BIGINT);
        } else {
            ps.setInt(offset + 9, row.confirmations);
            ps.setLong(offset + 10, row.lastConfirmed);
        }
    }

    /** An entry on its way into the table: its texts numbered, its key, and its place in the import. */
    private static final class Row {
        long key;
        long order;
        int slot;
        String local;
        int domainId;
        long since;
        int outcomeId;
        int sourceId;
        String messageLocal;
        Integer messageDomainId;
        Integer confirmations;
        Long lastConfirmed;

        static final Comparator<Row> BY_KEY = (a, b) -> a.key != b.key ? Long.compare(a.key, b.key)
                : Long.compare(a.order, b.order);

        void writeTo(DataOutputStream out) throws IOException {
            out.writeLong(key);
            out.writeLong(order);
            out.writeUTF(local);
            out.writeInt(domainId);
            out.writeLong(since);
            out.writeInt(outcomeId);
            out.writeInt(sourceId);
            out.writeBoolean(messageLocal != null);
            if (messageLocal != null) {
                out.writeUTF(messageLocal);
            }
            out.writeInt(messageDomainId == null ? -1 : messageDomainId);
            out.writeBoolean(confirmations != null);
            if (confirmations != null) {
                out.writeInt(confirmations);
                out.writeLong(lastConfirmed);
            }
        }

        static Row readFrom(DataInputStream in) throws IOException {
            Row r = new Row();
            r.key = in.readLong();
            r.order = in.readLong();
            r.local = in.readUTF();
            r.domainId = in.readInt();
            r.since = in.readLong();
            r.outcomeId = in.readInt();
            r.sourceId = in.readInt();
            r.messageLocal = in.readBoolean() ? in.readUTF() : null;
            int messageDomain = in.readInt();
            r.messageDomainId = messageDomain < 0 ? null : messageDomain;
            if (in.readBoolean()) {
                r.confirmations = in.readInt();
                r.lastConfirmed = in.readLong();
            }
            return r;
        }
    }

    /**
     * The rows of an import in key order: {@value #SORT_RUN} at a time sorted in memory; when there
     * are more, each sorted run goes to a temporary file and the runs are merged. The files are
     * deleted on close.
     */
    private static final class SortedRows implements AutoCloseable {
        private final List<Row> run = new ArrayList<>();
        private final List<Path> files = new ArrayList<>();
        private Path dir;
        private final List<DataInputStream> open = new ArrayList<>();

        void add(Row row) throws IOException {
            run.add(row);
            if (run.size() == SORT_RUN) {
                spill();
            }
        }

        private void spill() throws IOException {
            run.sort(Row.BY_KEY);
            if (dir == null) {
                dir = Files.createTempDirectory("delivery-policy-import");
            }
            Path file = dir.resolve("run-" + files.size());
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file),
                    1 << 16))) {
                for (Row r : run) {
                    r.writeTo(out);
                }
            }
            files.add(file);
            run.clear();
        }

        Iterator<Row> iterator() throws IOException {
            run.sort(Row.BY_KEY);
            if (files.isEmpty()) {
                return run.iterator();
            }
            if (!run.isEmpty()) {
                spill();
            }
            PriorityQueue<Head> heads = new PriorityQueue<>(Comparator.comparing((Head h) -> h.row, Row.BY_KEY));
            for (Path file : files) {
                DataInputStream in = new DataInputStream(new UnsynchronizedInput(Files.newInputStream(file), 1 << 16));
                open.add(in);
                Head h = new Head(in);
                if (h.advance()) {
                    heads.add(h);
                }
            }
            return new Iterator<Row>() {
                @Override
                public boolean hasNext() {
                    return !heads.isEmpty();
                }

                @Override
                public Row next() {
                    Head h = heads.poll();
                    if (h == null) {
                        throw new NoSuchElementException();
                    }
                    Row r = h.row;
                    try {
                        if (h.advance()) {
                            heads.add(h);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot read an import's sorted run", e);
                    }
                    return r;
                }
            };
        }

        /**
         * A buffered stream without {@link BufferedInputStream}'s lock, which the merge took for every byte of
         * every row it read (one thread reads each file).
         */
        private static final class UnsynchronizedInput extends java.io.InputStream {
            private final java.io.InputStream in;
            private final byte[] buffer;
            private int position;
            private int limit;

            UnsynchronizedInput(java.io.InputStream in, int size) {
                this.in = in;
                this.buffer = new byte[size];
            }

            private boolean fill() throws IOException {
                int n = in.read(buffer, 0, buffer.length);
                position = 0;
                limit = Math.max(n, 0);
                return n > 0;
            }

            @Override
            public int read() throws IOException {
                if (position == limit && !fill()) {
                    return -1;
                }
                return buffer[position++] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (position == limit && !fill()) {
                    return -1;
                }
                int n = Math.min(len, limit - position);
                System.arraycopy(buffer, position, b, off, n);
                position += n;
                return n;
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        }

        private static final class Head {
            final DataInputStream in;
            Row row;

            Head(DataInputStream in) {
                this.in = in;
            }

            boolean advance() throws IOException {
                try {
                    row = Row.readFrom(in);
                    return true;
                } catch (EOFException e) {
                    return false;
                }
            }
        }

        @Override
        public void close() throws IOException {
            for (DataInputStream in : open) {
                in.close();
            }
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
            if (dir != null) {
                Files.deleteIfExists(dir);
            }
        }
    }

    /**
     * Moves the entries of earlier versions' tables ({@value #OLD_TABLE}: one row per address with its
     * texts inline; {@value #V2_TABLE}: the key a column on H2 too, a number per text) into {@link #TABLE},
     * and puts the rows of a table whose H2 row ids were renumbered back at their keys. Each table is
     * dropped once its entries are in. Done again after a crash part-way (an entry already moved is kept
     * once); a node that finds a table gone, because another moved it meanwhile, goes on.
     */
    private void moveEarlierTables() {
        if (keyIsRowId && rowIdsLost()) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the suppression table's rows are not at their "
                    + "keys (restored from an SQL script?); putting them back, which reads and writes each once");
            db.withConnection("set the suppression table aside to key its rows again", c -> {
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("ALTER TABLE " + TABLE + " RENAME TO " + REKEY_TABLE);
                    createTable(st, TABLE, true);
                }
                return null;
            });
        }
        if (db.tableExists(OLD_TABLE)) {
            try (Connection c = db.connection(); Statement st = c.createStatement()) {
                // The first release lacked these; read as one confirmation at since.
                st.executeUpdate("ALTER TABLE " + OLD_TABLE + " ADD COLUMN IF NOT EXISTS confirmations INTEGER");
                st.executeUpdate("ALTER TABLE " + OLD_TABLE + " ADD COLUMN IF NOT EXISTS last_confirmed_ms BIGINT");
            } catch (SQLException e) {
                if (db.tableExists(OLD_TABLE)) {
                    throw db.failure("read the suppression table of the earlier version", e);
                }
            }
            move(OLD_TABLE, "address, since_ms, reason, reply, rule_id, source, message_id, confirmations, "
                    + "last_confirmed_ms", JdbcSuppressionList::readOld);
        }
        if (db.tableExists(V2_TABLE)) {
            move(V2_TABLE, "address_key, local_part, domain_id, since_ms, reason_id, reply_id, rule_id, source_id, "
                    + "message_local, message_domain_id, confirmations, last_confirmed_ms", this::readV2);
        }
        if (db.tableExists(REKEY_TABLE)) {
            move(REKEY_TABLE, sql(COLUMNS), this::read);
        }
    }

    /**
     * Whether the first rows of the H2 table are not at their addresses' keys: a table restored from
     * an SQL script gets row ids 1, 2, 3... and its addresses would never be found.
     */
    private boolean rowIdsLost() {
        return db.withConnection("check the suppression table's keys", c -> {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT _ROWID_, local_part, domain_id FROM " + TABLE
                         + " ORDER BY _ROWID_ FETCH FIRST 3 ROWS ONLY")) {
                while (rs.next()) {
                    long first = AddressKey.of(rs.getString(2) + "@" + texts.text(rs.getInt(3)));
                    long key = rs.getLong(1);
                    if (key < first || key >= first + AddressKey.SLOTS) {
                        return true;
                    }
                }
                return false;
            }
        });
    }

    /**
     * Adds the entries of {@code table} (read in the order of {@code columns}' first, its key) through
     * {@link #addAll}, then drops it.
     */
    private void move(String table, String columns, RowReader reader) {
        LOGGER.log(System.Logger.Level.INFO, "delivery policy: moving the suppression entries of " + table
                + " into " + TABLE);
        try {
            long added = addAll(() -> new PagedRows(table, columns, reader));
            LOGGER.log(System.Logger.Level.INFO, "delivery policy: moved " + added + " suppression entries from "
                    + table);
        } catch (StoreException e) {
            if (!db.tableExists(table)) {
                return;
            }
            throw e;
        }
        db.withConnection("drop " + table + " once its suppression entries are moved", c -> {
            try (Statement st = c.createStatement()) {
                return st.executeUpdate("DROP TABLE IF EXISTS " + table);
            }
        });
    }

    private interface RowReader {
        SuppressionEntry read(ResultSet rs) throws SQLException;
    }

    /** A table's rows in the order of its key, the first of {@code columns}, {@value #MAX_PAGE} per read. */
    private final class PagedRows implements Iterator<SuppressionEntry> {
        private final String first;
        private final String next;
        private final RowReader reader;
        private List<SuppressionEntry> page = new ArrayList<>();
        private int at;
        private Object after;
        private boolean done;

        PagedRows(String table, String columns, RowReader reader) {
            String key = columns.substring(0, columns.indexOf(',')).trim();
            String order = " ORDER BY " + key + " FETCH FIRST " + MAX_PAGE + " ROWS ONLY";
            this.first = "SELECT " + columns + " FROM " + table + order;
            this.next = "SELECT " + columns + " FROM " + table + " WHERE " + key + " > ?" + order;
            this.reader = reader;
        }

        @Override
        public boolean hasNext() {
            if (at < page.size()) {
                return true;
            }
            if (done) {
                return false;
            }
            page = db.withConnection("read the suppression entries to move", c -> {
                try (PreparedStatement ps = c.prepareStatement(after == null ? first : next)) {
                    if (after != null) {
                        ps.setObject(1, after);
                    }
                    List<SuppressionEntry> out = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.add(reader.read(rs));
                            after = rs.getObject(1);
                        }
                    }
                    return out;
                }
            });
            at = 0;
            done = page.size() < MAX_PAGE;
            return !page.isEmpty();
        }

        @Override
        public SuppressionEntry next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return page.get(at++);
        }
    }

    private static SuppressionEntry readOld(ResultSet rs) throws SQLException {
        Instant since = Instant.ofEpochMilli(rs.getLong("since_ms"));
        SuppressionEntry entry = SuppressionEntry.of(rs.getString("address"), since, rs.getString("reason"),
                rs.getString("reply"), rs.getString("rule_id"), source(rs.getString("source")),
                Optional.ofNullable(rs.getString("message_id")));
        return confirmed(entry, rs, since);
    }

    private static SuppressionEntry confirmed(SuppressionEntry entry, ResultSet rs, Instant since) throws SQLException {
        int confirmations = rs.getInt("confirmations");
        if (rs.wasNull()) {
            return entry;
        }
        long last = rs.getLong("last_confirmed_ms");
        Instant lastConfirmed = rs.wasNull() ? since : Instant.ofEpochMilli(Math.max(last, since.toEpochMilli()));
        return entry.confirmed(Math.max(1, confirmations), lastConfirmed);
    }

    private static SuppressionEntry.Source source(String raw) {
        try {
            return SuppressionEntry.Source.valueOf(raw);
        } catch (IllegalArgumentException e) {
            // A row written by a newer version: keep it usable rather than fail every lookup.
            return SuppressionEntry.Source.MANUAL;
        }
    }

    @Override
    public boolean remove(String address) {
        String a = SuppressionEntry.normaliseAddress(address);
        return delete(a, "", ps -> { });
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    /** Deletes the address's row(s) that also meet {@code condition} (parameters from 5 on). */
    private boolean delete(String a, String condition, Binder more) {
        int at = a.lastIndexOf('@');
        OptionalInt domainId = texts.idIfStored(a.substring(at + 1));
        if (!domainId.isPresent()) {
            return false;
        }
        long key = AddressKey.of(a);
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement(sql("DELETE FROM " + TABLE
                     + " WHERE address_key BETWEEN ? AND ? AND local_part = ? AND domain_id = ?" + condition))) {
            ps.setLong(1, key);
            ps.setLong(2, key + AddressKey.SLOTS - 1);
            ps.setString(3, a.substring(0, at));
            ps.setInt(4, domainId.getAsInt());
            more.bind(ps);
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw db.failure("remove " + a, e);
        }
    }

    @Override
    public boolean removeReplyEntry(String address, Instant addedSince) {
        String a = SuppressionEntry.normaliseAddress(address);
        Preconditions.checkNotNull(addedSince, "addedSince");
        // Entries a reply or a bounce wrote; an operator's (manual) entries are never lifted this way.
        OptionalInt liveReply = texts.idIfStored(SuppressionEntry.Source.LIVE_REPLY.name());
        OptionalInt bounce = texts.idIfStored(SuppressionEntry.Source.BOUNCE.name());
        if (!liveReply.isPresent() && !bounce.isPresent()) {
            return false;
        }
        int first = liveReply.isPresent() ? liveReply.getAsInt() : bounce.getAsInt();
        int second = bounce.isPresent() ? bounce.getAsInt() : first;
        return delete(a, " AND source_id IN (?, ?) AND since_ms >= ?", ps -> {
            ps.setInt(5, first);
            ps.setInt(6, second);
            ps.setLong(7, addedSince.toEpochMilli());
        });
    }

    /**
     * Entries of one domain, or all, in the table's order: by key, which groups each domain's
     * entries together (in the order of their hashes, not alphabetical). Paged by offset; a domain's
     * page reads only that domain's range of keys.
     */
    @Override
    public List<SuppressionEntry> list(Optional<String> domain, int offset, int limit) {
        Preconditions.checkNotNull(domain, "domain");
        Preconditions.checkArgument(offset >= 0, "offset must not be negative: %s", offset);
        Preconditions.checkArgument(limit >= 0 && limit <= MAX_PAGE, "limit must be in [0, %s]: %s", MAX_PAGE, limit);
        if (limit == 0) {
            return ImmutableList.of();
        }
        Optional<String> d = domain.map(JdbcSuppressionList::normaliseDomain);
        OptionalInt domainId = d.isPresent() ? texts.idIfStored(d.get()) : OptionalInt.empty();
        if (d.isPresent() && !domainId.isPresent()) {
            return ImmutableList.of();
        }
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql(listSql(d.isPresent())))) {
            int i = 1;
            if (d.isPresent()) {
                ps.setLong(i++, AddressKey.domainStart(d.get()));
                ps.setLong(i++, AddressKey.domainEnd(d.get()));
                ps.setInt(i++, domainId.getAsInt());
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
     * Parameters: for one domain its first and last key and its text number; then offset and limit. As
     * written for a keyed column; {@link #sql} makes it H2's.
     */
    static String listSql(boolean oneDomain) {
        return "SELECT " + COLUMNS + " FROM " + TABLE
                + (oneDomain ? " WHERE address_key BETWEEN ? AND ? AND domain_id = ?" : "")
                + " ORDER BY address_key OFFSET ? ROWS FETCH NEXT ? ROWS ONLY";
    }

    @Override
    public long count(Optional<String> domain) {
        Preconditions.checkNotNull(domain, "domain");
        Optional<String> d = domain.map(JdbcSuppressionList::normaliseDomain);
        OptionalInt domainId = d.isPresent() ? texts.idIfStored(d.get()) : OptionalInt.empty();
        if (d.isPresent() && !domainId.isPresent()) {
            return 0;
        }
        String sql = "SELECT COUNT(*) FROM " + TABLE
                + (d.isPresent() ? " WHERE address_key BETWEEN ? AND ? AND domain_id = ?" : "");
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql(sql))) {
            if (d.isPresent()) {
                ps.setLong(1, AddressKey.domainStart(d.get()));
                ps.setLong(2, AddressKey.domainEnd(d.get()));
                ps.setInt(3, domainId.getAsInt());
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw db.failure("count suppressions", e);
        }
    }

    /**
     * Saves the in-memory index beside the embedded file for the next start, then closes the
     * database when {@link #openH2} opened it for this list; a caller's is left alone.
     */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        closeKeptLookUps();
        try {
            if (index != null) {
                index.close();
                index.save();
            }
        } finally {
            if (ownsDatabase) {
                db.close();
            }
        }
    }

    /**
     * Saves the index, closes the H2 database this list opened and rewrites its file without the
     * page copies a large import leaves (H2 keeps old copies of pages for a while after each save).
     * For a list opened alone, by {@code delivery-policy suppressions import}; a caller's database
     * is left alone, as by {@link #close}. Even after an import in key order, which leaves few old
     * copies, the rewrite pays: at 10 million entries it took 25 s and shrank the file from 83 to 68.5
     * bytes an entry, though H2 counted its chunks 94 % live.
     */
    public void compactAndClose() {
        if (closed.getAndSet(true)) {
            return;
        }
        closeKeptLookUps();
        if (index != null) {
            index.close();
            index.save();
        }
        if (ownsDatabase) {
            db.compactAndClose();
        }
    }

    /** The message id of a row whose {@code message_local} is column {@code column} and its host's number the next. */
    private String messageId(ResultSet rs, int column) throws SQLException {
        String local = rs.getString(column);
        int domain = rs.getInt(column + 1);
        return rs.wasNull() ? local : local + texts.text(domain);
    }

    /** The entry of a row of {@code SELECT COLUMNS}, its columns by place: the relay reads one per listed recipient. */
    private SuppressionEntry read(ResultSet rs) throws SQLException {
        Instant since = Instant.ofEpochMilli(rs.getLong(4));
        String address = rs.getString(2) + "@" + texts.text(rs.getInt(3));
        String[] outcome = outcome(rs.getInt(5));
        String messageId = messageId(rs, 7);
        int confirmations = rs.getInt(9);
        Instant lastConfirmed = since;
        if (rs.wasNull()) {
            confirmations = 1;
        } else {
            long last = rs.getLong(10);
            // stored() raises one before since to since
            lastConfirmed = rs.wasNull() ? since : Instant.ofEpochMilli(last);
        }
        // Written from an entry SuppressionEntry.of had checked and cleaned; an earlier version's rows come in
        // through of() when they are moved.
        return SuppressionEntry.stored(address, since, outcome[0], outcome[1].replace(ADDRESS_MARK, address),
                outcome[2], source(texts.text(rs.getInt(6))), messageId, confirmations, lastConfirmed);
    }

    /** The entry of a row of the second version's table ({@value #V2_TABLE}), its columns by name. */
    private SuppressionEntry readV2(ResultSet rs) throws SQLException {
        Instant since = Instant.ofEpochMilli(rs.getLong("since_ms"));
        String address = rs.getString("local_part") + "@" + texts.text(rs.getInt("domain_id"));
        SuppressionEntry entry = SuppressionEntry.of(address, since, texts.text(rs.getInt("reason_id")),
                texts.text(rs.getInt("reply_id")).replace(ADDRESS_MARK, address), texts.text(rs.getInt("rule_id")),
                source(texts.text(rs.getInt("source_id"))), Optional.ofNullable(messageId(rs, 9)));
        return confirmed(entry, rs, since);
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
