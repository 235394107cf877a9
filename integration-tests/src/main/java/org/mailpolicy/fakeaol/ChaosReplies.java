package org.mailpolicy.fakeaol;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The random replies of {@link Mode#CHAOS}. Each draw comes from a generator seeded with the mode's seed, what is being
 * answered (the recipient at RCPT; the accepted recipients, in any order, at the end of DATA) and how many times that
 * same thing has been answered since the mode was set. The replies therefore do not depend on how concurrent clients'
 * commands interleave: the same seed and the same conversations give the same replies, and a retried recipient or
 * message draws afresh (it is not refused forever).
 *
 * <p>The replies are real servers' wording, each ending in {@code (chaos)} so that a log shows where they came from.
 */
final class ChaosReplies {
    /** Percentage of RCPTs refused with one of {@link #RCPT_REPLIES}. */
    static final int RCPT_FAILURE_PERCENT = 20;
    /** Percentage of ends of DATA refused with one of {@link #END_OF_DATA_REPLIES}. */
    static final int END_OF_DATA_FAILURE_PERCENT = 20;
    /** Percentage of ends of DATA where the message is kept and the connection closed before the reply. */
    static final int END_OF_DATA_HANG_UP_PERCENT = 5;

    static final List<String> RCPT_REPLIES = List.of(
            "421 4.7.0 Temporary System Problem. Try again later (chaos)",
            "450 4.2.1 Mailbox temporarily unavailable (chaos)",
            "451 4.3.0 Local error in processing (chaos)",
            "452 4.2.2 Mailbox over quota (chaos)",
            "550 5.1.1 Recipient unknown (chaos)",
            "552 5.2.2 Mailbox full (chaos)",
            "554 5.7.1 Rejected by policy (chaos)");

    static final List<String> END_OF_DATA_REPLIES = List.of(
            "421 4.7.0 Temporary System Problem. Try again later (chaos)",
            "451 4.3.0 Local error in processing (chaos)",
            "452 4.3.1 Insufficient system storage (chaos)",
            "552 5.3.4 Message size exceeds fixed limit (chaos)",
            "554 5.7.1 Rejected by policy (chaos)");

    private final long seed;
    private final Map<String, AtomicInteger> occurrences = new ConcurrentHashMap<>();

    ChaosReplies(long seed) {
        this.seed = seed;
    }

    /** A refusal for this recipient, or empty to answer as {@link Mode#NORMAL} does. */
    Optional<ServerAction> atRecipient(String address) {
        SplittableRandom random = draw("RCPT " + address.toLowerCase(Locale.ROOT));
        if (random.nextInt(100) >= RCPT_FAILURE_PERCENT) {
            return Optional.empty();
        }
        return Optional.of(ServerAction.reply(RCPT_REPLIES.get(random.nextInt(RCPT_REPLIES.size()))));
    }

    /**
     * A refusal of the message, the message kept and the connection closed without a reply
     * ({@link ServerAction#acceptThenHangUp()}), or empty to answer as {@link Mode#NORMAL} does.
     */
    Optional<ServerAction> atEndOfData(List<String> acceptedRecipients) {
        List<String> sorted = new ArrayList<>();
        for (String recipient : acceptedRecipients) {
            sorted.add(recipient.toLowerCase(Locale.ROOT));
        }
        sorted.sort(null);
        SplittableRandom random = draw("DATA " + String.join(" ", sorted));
        int roll = random.nextInt(100);
        if (roll < END_OF_DATA_HANG_UP_PERCENT) {
            return Optional.of(ServerAction.acceptThenHangUp());
        }
        if (roll < END_OF_DATA_HANG_UP_PERCENT + END_OF_DATA_FAILURE_PERCENT) {
            return Optional.of(ServerAction.reply(END_OF_DATA_REPLIES.get(random.nextInt(END_OF_DATA_REPLIES.size()))));
        }
        return Optional.empty();
    }

    long seed() {
        return seed;
    }

    private SplittableRandom draw(String key) {
        int occurrence = occurrences.computeIfAbsent(key, k -> new AtomicInteger()).getAndIncrement();
        // FNV-1a over the key's characters (String.hashCode is 32 bits), then the seed and the occurrence; SplittableRandom
        // mixes its seed, so neighbouring values give unrelated sequences.
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < key.length(); i++) {
            hash ^= key.charAt(i);
            hash *= 0x100000001b3L;
        }
        return new SplittableRandom(hash ^ (seed * 0x9E3779B97F4A7C15L) ^ ((long) occurrence << 32));
    }
}
