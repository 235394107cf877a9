package org.mailpolicy.suppression;

import com.google.common.hash.BloomFilter;
import com.google.common.hash.Funnels;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.StoreException;

/**
 * The suppressed addresses in memory, as a Bloom filter in front of the table: the relay asks
 * {@link JdbcSuppressionList#find} once per recipient and about 98% of them are not listed, so a
 * filter that says "certainly absent" answers them without the database; the rest (listed, or one
 * of about 1% false positives) cost the indexed read they always did. An address is put in after
 * its row is written, and a removal leaves its bits: a stale bit costs one read, never a wrong answer.
 *
 * <p><b>Only for a database this process alone writes</b> ({@link Database#isSingleProcess()}: the
 * embedded H2 file). A "certainly absent" is only true if every added row went through this filter,
 * and in a cluster other nodes add rows to the shared PostgreSQL table that this node never sees: a
 * false negative there would send mail to a suppressed address. Keeping a node's filter current
 * would mean polling for rows added since the last poll, and the table has no column that says when
 * a row was written ({@code since_ms} is when the address was found suppressible, which a bounce or
 * an import dates in the past), so a cluster keeps reading the table, as it did.
 *
 * <p>Sized for twice the rows it holds (at least {@value #MIN_EXPECTED_INSERTIONS}) at
 * {@value #FALSE_POSITIVE_RATE} false positives: about 1.2 bytes per expected address, 24 MB for
 * 10 million entries. Built after open by reading the address column once (in the background,
 * see {@link #buildInBackground}); rebuilt twice as large,
 * by the add that takes it past its size, while lookups go on with the old filter, which stays
 * correct, its false positives only growing. Thread-safe: Guava's filter takes puts and reads concurrently.
 */
final class SuppressionIndex {
    static final long MIN_EXPECTED_INSERTIONS = 1_000_000;
    static final double FALSE_POSITIVE_RATE = 0.01;
    /** Rows per round trip while the filter is built; the addresses are not kept, only their bits. */
    private static final int FETCH_SIZE = 10_000;
    private static final System.Logger LOGGER = System.getLogger(SuppressionIndex.class.getName());

    private final Database db;
    private final String table;
    private final long minExpectedInsertions;
    /** The filter lookups trust; null until the first build is done, when every address might be listed. */
    private volatile BloomFilter<CharSequence> filter;
    /** How many addresses {@link #filter} was sized for; past them its false positives grow. */
    private volatile long expectedInsertions;
    /** Non-null while a rebuild reads the table: puts go here as well, so the new filter misses no add. */
    private volatile BloomFilter<CharSequence> rebuilding;
    private final AtomicBoolean rebuildRunning = new AtomicBoolean();
    /** Rows when last built plus the new addresses added since: what the filter holds, about. */
    private final AtomicLong addresses = new AtomicLong();

    /** Counted down when the first build is over, done or failed. */
    private final java.util.concurrent.CountDownLatch firstBuild = new java.util.concurrent.CountDownLatch(1);

    private SuppressionIndex(Database db, String table, long minExpectedInsertions) {
        this.db = db;
        this.table = table;
        this.minExpectedInsertions = minExpectedInsertions;
    }

    /** The index of {@code table}, read now. */
    static SuppressionIndex build(Database db, String table) {
        return build(db, table, MIN_EXPECTED_INSERTIONS);
    }

    /** As {@link #build(Database, String)}, never sized for fewer than {@code minExpectedInsertions}: tests grow it. */
    static SuppressionIndex build(Database db, String table, long minExpectedInsertions) {
        SuppressionIndex index = new SuppressionIndex(db, table, minExpectedInsertions);
        index.rebuild(index.rowCount());
        index.firstBuild.countDown();
        return index;
    }

    /**
     * The index of {@code table}, read by a background thread: until it is done every address "might
     * be listed" and lookups read the table, as without an index. James's start then does not wait for
     * millions of rows (a million took 3.6 s to read here).
     */
    static SuppressionIndex buildInBackground(Database db, String table) {
        SuppressionIndex index = new SuppressionIndex(db, table, MIN_EXPECTED_INSERTIONS);
        Thread reader = new Thread(() -> {
            try {
                index.rebuild(index.rowCount());
            } catch (StoreException e) {
                // Without a filter every lookup reads the table: slower, never wrong. The next new address tries again.
                LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the suppression index could not be built,"
                        + " so every look-up reads the table: " + e.getMessage());
            } finally {
                index.firstBuild.countDown();
            }
        }, "delivery-policy-suppression-index");
        reader.setDaemon(true);
        reader.start();
        return index;
    }

    /** Waits for the first build; true if it finished within {@code timeout}. For tests and tools. */
    boolean awaitBuilt(java.time.Duration timeout) throws InterruptedException {
        return firstBuild.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** How many addresses the filter in use was sized for. */
    long expectedInsertions() {
        return expectedInsertions;
    }

    /** False only if {@code normalisedAddress} is certainly not in the table. */
    boolean mightContain(String normalisedAddress) {
        BloomFilter<CharSequence> f = filter;
        return f == null || f.mightContain(normalisedAddress);
    }

    /**
     * Records an address whose row is now in the table (written and committed); {@code isNew} when
     * the row was not there before, which counts towards the size that triggers a rebuild.
     */
    void added(String normalisedAddress, boolean isNew) {
        put(normalisedAddress);
        if (isNew) {
            grewBy(1);
        }
    }

    /** Records addresses whose rows are now in the table, {@code newRows} of them new. */
    void addedAll(Iterable<String> normalisedAddresses, long newRows) {
        for (String address : normalisedAddresses) {
            put(address);
        }
        grewBy(newRows);
    }

    private void put(String address) {
        // Rebuilding first: a rebuild publishes its filter, reads the table, then swaps it in before
        // clearing this field. Read in this order, a put that misses the new filter here (null) finds it
        // as the filter below; one that comes before the rebuild started was committed before the read.
        BloomFilter<CharSequence> next = rebuilding;
        if (next != null) {
            next.put(address);
        }
        BloomFilter<CharSequence> current = filter;
        if (current != null) {
            current.put(address);
        }
    }

    private void grewBy(long newRows) {
        if (newRows > 0 && addresses.addAndGet(newRows) > expectedInsertions) {
            try {
                rebuild(addresses.get());
            } catch (StoreException e) {
                // The add itself succeeded and the old filter is still complete, only less sharp: lookups
                // stay right, and the next new address tries again.
            }
        }
    }

    /** A filter sized for {@code rows}, filled from the table; one rebuild at a time, the others return. */
    private void rebuild(long rows) {
        if (!rebuildRunning.compareAndSet(false, true)) {
            return;
        }
        try {
            long expected = Math.max(2 * rows, minExpectedInsertions);
            BloomFilter<CharSequence> next = BloomFilter.create(Funnels.unencodedCharsFunnel(), expected,
                    FALSE_POSITIVE_RATE);
            rebuilding = next;
            long read = readAddressesInto(next);
            expectedInsertions = expected;
            filter = next;
            addresses.set(read);
        } finally {
            rebuilding = null;
            rebuildRunning.set(false);
        }
    }

    private long readAddressesInto(BloomFilter<CharSequence> next) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("SELECT address FROM " + table)) {
            ps.setFetchSize(FETCH_SIZE);
            long read = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    next.put(rs.getString(1));
                    read++;
                }
            }
            return read;
        } catch (SQLException e) {
            throw db.failure("read the suppressed addresses into memory", e);
        }
    }

    private long rowCount() {
        return db.withConnection("count the suppressed addresses", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }
}
