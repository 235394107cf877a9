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
 * <p><b>Only for a database this process alone writes</b> ({@link Database#isSingleProcess()}: the
 * embedded H2 file). "Absent" is only true if every added row went through this index; in a cluster
 * other nodes add rows to the shared PostgreSQL table that this node never sees, and a false
 * "absent" there would send mail to a suppressed address. A cluster reads the table every time.
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
    /** How it got its addresses at open: "file" or "table" (for the benchmark and the log). */
    private final String source;

    private SuppressionIndex(Database db, Optional<Path> file, AddressFingerprints fingerprints, String source) {
        this.db = db;
        this.file = file;
        this.fingerprints = fingerprints;
        this.source = source;
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

    boolean isReady() {
        return ready;
    }

    /** "file" or "table": where the addresses came from at open. */
    String source() {
        return source;
    }

    /** False only if the address of {@code key} is certainly not in the table (and the index is ready). */
    boolean mightContain(long key) {
        return !ready || fingerprints.mightContain(AddressKey.fingerprint(key));
    }

    /** Records an address (by its first key) whose row is now committed. */
    void added(long key) {
        fingerprints.add(AddressKey.fingerprint(key));
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
        db.withConnection("read the suppressed addresses into memory", c -> {
            try (PreparedStatement ps = c.prepareStatement(rowsSql)) {
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
