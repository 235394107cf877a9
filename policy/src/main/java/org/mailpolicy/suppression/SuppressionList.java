package org.mailpolicy.suppression;

import java.util.List;
import java.util.Optional;

/**
 * Addresses the engine will not send to. Lookups are case-insensitive; addresses that are not mail
 * addresses are rejected with {@link IllegalArgumentException}. Implementations are thread-safe.
 */
public interface SuppressionList extends AutoCloseable {

    Optional<SuppressionEntry> find(String address);

    /** Adds the entry; true if the address was new. An address already present keeps its first entry (and {@code since}). */
    boolean add(SuppressionEntry entry);

    /** True if the address was present. */
    boolean remove(String address);

    /** Entries ordered by address, optionally of one domain (case-insensitive), a page at a time. */
    List<SuppressionEntry> list(Optional<String> domain, int offset, int limit);

    long count(Optional<String> domain);

    /** Releases the store; no exception for a store that holds nothing to release. */
    @Override
    void close();
}
