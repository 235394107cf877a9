package org.mailpolicy.suppression;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Addresses the engine will not send to. Lookups are case-insensitive; addresses that are not mail
 * addresses are rejected with {@link IllegalArgumentException}. Implementations are thread-safe.
 */
public interface SuppressionList extends AutoCloseable {

    /** The address's entry while it suppresses; an entry past its expiry ({@link SuppressionExpiry}) is absent. */
    Optional<SuppressionEntry> find(String address);

    /** The address's entry as stored, expired or not: for an operator's eyes, never to decide a delivery. */
    Optional<SuppressionEntry> findStored(String address);

    /**
     * Adds the entry; true if the address was new. An address already present keeps its first entry (and
     * {@code since}) and is confirmed: one more confirmation, the last at {@code entry.since()}, from which its
     * expiry counts again.
     */
    boolean add(SuppressionEntry entry);

    /**
     * Adds every entry as {@link #add} would, in order (so within {@code entries} too the first
     * entry for an address wins), and returns how many addresses were new: the way to import a
     * list. The entries are read once, as they come, so an import need not fit in memory.
     *
     * <p>Not atomic: an implementation may commit a part at a time, and a failure part-way leaves
     * the parts before it added. Running the same import again is harmless, since an address
     * already present keeps its entry; unlike {@link #add}, an import confirms nothing.
     */
    long addAll(Iterable<SuppressionEntry> entries);

    /** True if the address was present. */
    boolean remove(String address);

    /**
     * Removes the address's entry only if a reply added it at or after {@code addedSince}, one received live
     * or one an ingested bounce reported: lifts what replies no longer believed wrote, and never an
     * operator's entry, an imported one, or an older one. True if removed.
     */
    boolean removeReplyEntry(String address, Instant addedSince);

    /**
     * Entries, optionally of one domain (case-insensitive), a page at a time, in an order the store keeps
     * stable between calls (the embedded and JDBC stores: grouped by domain, not alphabetical).
     */
    List<SuppressionEntry> list(Optional<String> domain, int offset, int limit);

    long count(Optional<String> domain);

    /** Releases the store; no exception for a store that holds nothing to release. */
    @Override
    void close();
}
