package org.mailpolicy.suppression;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The messages this server sent, by Message-ID, kept for a while. An asynchronous bounce may only
 * suppress a recipient when it names a message recorded here and that message went to the
 * recipient: anyone can forge a bounce, nobody outside can forge our ledger. Thread-safe.
 */
public interface SentMessageLedger extends AutoCloseable {

    /**
     * Remembers that {@code message} was accepted by a remote server. Recording the same id again
     * adds the new recipients (a message split by outcome is delivered in several transactions) and
     * keeps the latest time.
     */
    void record(SentMessage message);

    /** {@link #record} for each, in one transaction where the store has them. */
    default void recordAll(List<SentMessage> messages) {
        messages.forEach(this::record);
    }

    /**
     * The message with this id (with or without angle brackets) as far as it went to {@code recipients}:
     * those of them it was recorded for, and the latest time; empty when it went to none of them (a
     * malformed id or address is one it did not go to). A bounce names both, and the ledger answers
     * only that question, which is why it can keep a hash of each pair instead of the texts.
     */
    Optional<SentMessage> find(String messageId, Collection<String> recipients);

    /** Forgets messages sent before {@code cutoff}; returns how many recipient records went. */
    int pruneSentBefore(Instant cutoff);

    @Override
    void close();
}
