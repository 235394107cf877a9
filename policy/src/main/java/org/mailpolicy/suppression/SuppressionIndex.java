package org.mailpolicy.suppression;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.mailpolicy.jdbc.Database;

/**
 * The listed addresses in memory, as {@link AddressFingerprints}, in front of the table: the relay
 * asks {@link JdbcSuppressionList#find} once per recipient and about 98% are not listed, so a
 * fingerprint that is absent answers them without the database; a present one costs the indexed
 * read it always did. Every add puts its fingerprint after its row is committed; a removal leaves it.
 *
 * <p><b>On a database this process alone writes</b> ({@link Database#isSingleProcess()}: the
 * embedded H2 file) every added row goes through this index, so "absent" is exact.
 *
 * <p><b>On a shared PostgreSQL</b> ({@link #follow}) other nodes add rows this node never sees. A
 * trigger writes the key of every row inserted into the table to a feed table, in the inserting
 * transaction, with that transaction's id ({@code pg_current_xact_id()}); each node reads the feed
 * every {@code pollEvery} from the oldest transaction still running at its previous read
 * ({@code pg_snapshot_xmin}), so a transaction that commits late is read late, never skipped. A node
 * thus sees another node's add within one read (a second by default) rather than at once. It trusts
 * its index only while its reads succeed: after {@value #TRUST_READS} intervals without one, every
 * look-up reads the table, and after {@link #REBUILD_AFTER} the index is read again from the table
 * (the feed keeps {@value #FEED_KEEP_MINUTES} minutes). A database without {@code xid8} (PostgreSQL
 * before 13) or that refuses the trigger gets no index: every look-up reads the table, as before.
 *
 * <p><b>Start-up.</b> On close the table is written to a file beside the database
 * ({@code <store>.suppression-index}) under a random stamp, and the stamp into the database
 * ({@value #META} row {@value #STAMP}). On open, a file whose stamp matches is read (64 MB for 10
 * million addresses; no scan of the table), and the stamp is deleted at once: a process that then
 * stops without closing leaves no stamp, and the next start reads the table instead, in a
 * background thread, during which every look-up reads the table as it would without an index.
 * Any store that changes the table (James, {@code delivery-policy suppressions import}) opens it
 * through this class, so a file whose stamp matches holds every address that was added.
 */
final class SuppressionIndex {
    static final String META = "delivery_policy_suppression_meta";
    static final String STAMP = "fingerprints_saved";
    /** Rows per round trip while the index is read from the table. */
    private static final int FETCH_SIZE = 10_000;
    private static final System.Logger LOGGER = System.getLogger(SuppressionIndex.class.getName());

    private final Database db;
    private final Optional<Path> file;
    private final AddressFingerprints fingerprints;
    /** False while it is read from the table: until then every address "might be listed". */
    private volatile boolean ready;
    private final CountDownLatch built = new CountDownLatch(1);
    /** How it got its addresses at open: "file", "table" or "feed" (for the benchmark and the log). */
    private final String source;
    /** Whether other processes add rows too, so the index is only as current as its last read of the feed. */
    private final boolean following;
    /** When the last successful read of the feed (or of the table) began, by {@link System#nanoTime()}. */
    private volatile long followedAtNanos;
    /** How long the index answers alone after its last read of the feed; unused when not following. */
    private final long trustNanos;
    private volatile boolean closed;
    private Thread follower;

    static final String FEED = "delivery_policy_suppression_feed";
    static final int TRUST_READS = 5;
    static final int FEED_KEEP_MINUTES = 10;
    static final Duration REBUILD_AFTER = Duration.ofMinutes(FEED_KEEP_MINUTES / 2);

    private SuppressionIndex(Database db, Optional<Path> file, AddressFingerprints fingerprints, String source) {
        this(db, file, fingerprints, source, false, 0);
    }

    private SuppressionIndex(Database db, Optional<Path> file, AddressFingerprints fingerprints, String source,
                             boolean following, long trustNanos) {
        this.db = db;
        this.file = file;
        this.fingerprints = fingerprints;
        this.source = source;
        this.following = following;
        this.trustNanos = trustNanos;
    }

    static void createSchema(Statement st) throws SQLException {
        st.executeUpdate("CREATE TABLE IF NOT EXISTS " + META + " (name VARCHAR(64) NOT NULL PRIMARY KEY, "
                + "num BIGINT NOT NULL)");
    }

    /** The file beside the embedded database where the index is kept between runs. */
    static Optional<Path> fileOf(Database db) {
        return db.fileBase().map(base -> base.resolveSibling(base.getFileName() + ".suppression-index"));
    }

    /**
     * The index of the table: from its file when that was saved by the last clean close, otherwise
     * read from the table by a background thread; {@code keyOfRow} gives a row's address key from
     * the result set of {@code rowsSql}.
     */
    static SuppressionIndex open(Database db, String rowsSql, ToLongFunction<ResultSet> keyOfRow) {
        Optional<Path> file = fileOf(db);
        Optional<Long> stamp = readStamp(db);
        if (file.isPresent() && stamp.isPresent()) {
            try {
                Optional<AddressFingerprints> saved = AddressFingerprints.load(file.get(), stamp.get());
                if (saved.isPresent()) {
                    deleteStamp(db);
                    SuppressionIndex index = new SuppressionIndex(db, file, saved.get(), "file");
                    index.ready = true;
                    index.built.countDown();
                    return index;
                }
            } catch (IOException e) {
                LOGGER.log(System.Logger.Level.WARNING, "delivery policy: cannot read the suppression index " + file.get()
                        + ", reading the table instead: " + e);
            }
        }
        deleteStamp(db);
        SuppressionIndex index = new SuppressionIndex(db, file, new AddressFingerprints(), "table");
        Thread reader = new Thread(() -> {
            try {
                index.readTable(rowsSql, keyOfRow);
                index.ready = true;
            } catch (RuntimeException e) {
                // Without the index every lookup reads the table: slower, never wrong.
                LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the suppression index could not be built,"
                        + " so every look-up reads the table: " + e.getMessage());
            } finally {
                index.built.countDown();
            }
        }, "delivery-policy-suppression-index");
        reader.setDaemon(true);
        reader.start();
        return index;
    }

    /** Waits for the index to be ready; true if it was within {@code timeout}. For tests and tools. */
    boolean awaitBuilt(Duration timeout) throws InterruptedException {
        return built.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && ready;
    }

    /** Whether every add goes through this index (this process alone writes the table), so "absent" is exact. */
    boolean isExact() {
        return !following;
    }

    boolean isReady() {
        return ready;
    }

    /** "file" or "table": where the addresses came from at open. */
    String source() {
        return source;
    }

    /** False only if the address of {@code key} is certainly not in the table (and the index is ready and current). */
    boolean mightContain(long key) {
        return !ready || (following && System.nanoTime() - followedAtNanos > trustNanos)
                || fingerprints.mightContain(AddressKey.fingerprint(key));
    }

    /** Records an address (by its first key) whose row is now committed. */
    void added(long key) {
        fingerprints.add(AddressKey.fingerprint(key));
    }

    /**
     * The index of a table other processes write too, kept current from the feed (see the class comment);
     * empty, with a log line saying why, when the database cannot keep the feed. The first read of the table
     * runs in the background, as after a crash on H2.
     *
     * @param table the table the trigger watches; its {@code address_key} column is the rows' key
     */
    static Optional<SuppressionIndex> follow(Database db, String table, String rowsSql,
                                             ToLongFunction<ResultSet> keyOfRow, Duration pollEvery) {
        try {
            db.createSchema("create the suppression feed", c -> {
                try (Statement st = c.createStatement()) {
                    createFeed(c, st, table);
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: no in-memory suppression index on " + db
                    + " (it needs PostgreSQL 13 or later and the right to create a trigger), so every look-up reads"
                    + " the table: " + e.getMessage());
            return Optional.empty();
        }
        SuppressionIndex index = new SuppressionIndex(db, Optional.empty(), new AddressFingerprints(), "feed", true,
                pollEvery.multipliedBy(TRUST_READS).toNanos());
        index.follower = new Thread(() -> index.follow(table, rowsSql, keyOfRow, pollEvery),
                "delivery-policy-suppression-feed");
        index.follower.setDaemon(true);
        index.follower.start();
        return Optional.of(index);
    }

    /** The feed table, its index, and the trigger that fills it; created once, by whichever node comes first. */
    private static void createFeed(java.sql.Connection c, Statement st, String table) throws SQLException {
        st.executeUpdate("CREATE TABLE IF NOT EXISTS " + FEED + " (xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
                + "address_key BIGINT NOT NULL, added_at TIMESTAMPTZ NOT NULL DEFAULT now())");
        st.executeUpdate("CREATE INDEX IF NOT EXISTS " + FEED + "_xid ON " + FEED + " (xid)");
        if (!exists(c, "SELECT 1 FROM pg_proc WHERE proname = ?", FEED + "_add")) {
            try {
                st.executeUpdate("CREATE FUNCTION " + FEED + "_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO " + FEED + " (address_key) VALUES (NEW.address_key); RETURN NULL; END $$");
            } catch (SQLException e) {
                if (!exists(c, "SELECT 1 FROM pg_proc WHERE proname = ?", FEED + "_add")) {
                    throw e;
                }
                // Another node created it meanwhile.
            }
        }
        // Never dropped and made again: rows inserted in between would be missing from the feed.
        if (!exists(c, "SELECT 1 FROM pg_trigger WHERE tgname = ?", FEED)) {
            try {
                st.executeUpdate("CREATE TRIGGER " + FEED + " AFTER INSERT ON " + table + " FOR EACH ROW EXECUTE FUNCTION "
                        + FEED + "_add()");
            } catch (SQLException e) {
                if (!exists(c, "SELECT 1 FROM pg_trigger WHERE tgname = ?", FEED)) {
                    throw e;
                }
            }
        }
    }

    private static boolean exists(java.sql.Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The follower thread: reads the table once, then the feed every {@code pollEvery}, until {@link #close}. */
    private void follow(String table, String rowsSql, ToLongFunction<ResultSet> keyOfRow, Duration pollEvery) {
        String from = null;
        int failures = 0;
        long lastPrune = System.nanoTime();
        while (!closed) {
            try {
                long startedAt = System.nanoTime();
                // Transactions older than this have ended: their rows are in what is read next; later ones in the
                // next read of the feed.
                String oldestRunning = oldestRunning();
                if (from == null || startedAt - followedAtNanos > REBUILD_AFTER.toNanos()) {
                    readTable(rowsSql, keyOfRow);
                } else {
                    readFeed(table, from, keyOfRow);
                }
                from = oldestRunning;
                followedAtNanos = startedAt;
                ready = true;
                built.countDown();
                if (failures > 0) {
                    LOGGER.log(System.Logger.Level.INFO, "delivery policy: reading the suppression feed works again");
                }
                failures = 0;
                if (System.nanoTime() - lastPrune > Duration.ofMinutes(1).toNanos()) {
                    prune();
                    lastPrune = System.nanoTime();
                }
            } catch (RuntimeException e) {
                failures++;
                if (failures == 1) {
                    LOGGER.log(System.Logger.Level.WARNING, "delivery policy: reading the suppression feed failed; "
                            + "look-ups read the table until it works again: " + e.getMessage());
                }
            }
            try {
                Thread.sleep(pollEvery.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The oldest transaction id still running, as text: every one before it has committed or rolled back. */
    private String oldestRunning() {
        return db.withConnection("read the oldest running transaction", c -> {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    /** Every row the feed names from {@code from} on, committed by now (a row re-read is harmless). */
    private void readFeed(String table, String from, ToLongFunction<ResultSet> keyOfRow) {
        addRows("read the suppression feed", "SELECT t.local_part, t.domain_id FROM " + FEED + " f JOIN " + table
                + " t ON t.address_key = f.address_key WHERE f.xid >= ?::xid8", Optional.of(from), keyOfRow);
    }

    private void prune() {
        db.withConnection("prune the suppression feed", c -> {
            try (Statement st = c.createStatement()) {
                return st.executeUpdate("DELETE FROM " + FEED + " WHERE added_at < now() - interval '"
                        + FEED_KEEP_MINUTES + " minutes'");
            }
        });
    }

    /** Stops following the feed. */
    void close() {
        closed = true;
        if (follower != null) {
            follower.interrupt();
        }
    }

    /** Saves the index to its file for the next start, if it is complete and has a file. */
    void save() {
        if (!ready || !file.isPresent()) {
            return;
        }
        long stamp = new SecureRandom().nextLong();
        try {
            fingerprints.save(file.get(), stamp);
        } catch (IOException e) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: cannot save the suppression index to "
                    + file.get() + "; the next start reads the table instead: " + e);
            return;
        }
        db.withConnection("record the suppression index's stamp", c -> {
            deleteStamp(c);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + META + " (name, num) VALUES (?, ?)")) {
                ps.setString(1, STAMP);
                ps.setLong(2, stamp);
                return ps.executeUpdate();
            }
        });
    }

    /** Removes the file (a store that is dropped). */
    static void deleteFile(Database db) throws IOException {
        Optional<Path> file = fileOf(db);
        if (file.isPresent()) {
            Files.deleteIfExists(file.get());
        }
    }

    private void readTable(String rowsSql, ToLongFunction<ResultSet> keyOfRow) {
        addRows("read the suppressed addresses into memory", rowsSql, Optional.empty(), keyOfRow);
    }

    /** Adds the addresses {@code sql} (with its one parameter, if any) returns, by {@code keyOfRow}. */
    private void addRows(String what, String sql, Optional<String> parameter, ToLongFunction<ResultSet> keyOfRow) {
        // In a transaction: PostgreSQL's driver fetches rows by the fetch size only inside one (else all at once).
        db.inTransaction(what, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (parameter.isPresent()) {
                    ps.setString(1, parameter.get());
                }
                ps.setFetchSize(FETCH_SIZE);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        fingerprints.add(AddressKey.fingerprint(keyOfRow.applyAsLong(rs)));
                    }
                }
            }
            return null;
        });
    }

    private static Optional<Long> readStamp(Database db) {
        return db.withConnection("read the suppression index's stamp", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT num FROM " + META + " WHERE name = ?")) {
                ps.setString(1, STAMP);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getLong(1)) : Optional.<Long>empty();
                }
            }
        });
    }

    private static void deleteStamp(Database db) {
        db.withConnection("clear the suppression index's stamp", c -> {
            deleteStamp(c);
            return null;
        });
    }

    private static void deleteStamp(java.sql.Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + META + " WHERE name = ?")) {
            ps.setString(1, STAMP);
            ps.executeUpdate();
        }
    }
}
