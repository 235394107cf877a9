package org.mailpolicy.suppression;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One address the engine will not send to again, with when and why: enough to tell the next sender
 * what happened, and for an operator to judge whether to remove it. It also keeps how many times the
 * address was found suppressible ({@link #confirmations()}) and when last ({@link #lastConfirmed()}):
 * an expiry ({@link SuppressionExpiry}) counts from the last confirmation.
 */
public final class SuppressionEntry {
    /** How the address came to be suppressed. */
    public enum Source {
        /** A remote server said the recipient does not exist, during delivery. */
        LIVE_REPLY,
        /** An asynchronous bounce (a DSN received later) said so. */
        BOUNCE,
        /** An operator added it. */
        MANUAL
    }

    /** The reason of an entry an operator added without giving one. */
    public static final String MANUAL_REASON = "manual";
    /** Longest address SMTP allows (RFC 5321 4.5.3.1: 64 + 1 + 255, bounded in practice by 254 in paths). */
    public static final int MAX_ADDRESS_LENGTH = 320;
    /** Untrusted text is kept, but bounded: enough for any real reply. */
    public static final int MAX_TEXT_LENGTH = 1000;

    private static final CharMatcher FORBIDDEN_IN_ADDRESS =
            CharMatcher.javaIsoControl().or(CharMatcher.whitespace()).or(CharMatcher.anyOf("<>,;\"\\()[]"));

    private final String address;
    private final Instant since;
    private final String reason;
    private final String reply;
    private final String ruleId;
    private final Source source;
    private final String messageId;
    private final int confirmations;
    private final Instant lastConfirmed;

    private SuppressionEntry(String address, Instant since, String reason, String reply, String ruleId,
                             Source source, String messageId, int confirmations, Instant lastConfirmed) {
        this.address = address;
        this.since = since;
        this.reason = reason;
        this.reply = reply;
        this.ruleId = ruleId;
        this.source = source;
        this.messageId = messageId;
        this.confirmations = confirmations;
        this.lastConfirmed = lastConfirmed;
    }

    /**
     * @param address   the recipient, any case; stored in lower case
     * @param reason    the classification's reason, such as {@code userunknown}
     * @param reply     the remote reply as received (untrusted: control characters are replaced, length bounded)
     * @param ruleId    the rule that decided, such as {@code aol.mailbox-not-found}
     * @param messageId the message whose delivery taught us, if known
     * @throws IllegalArgumentException if the address is not a plausible mail address
     */
    public static SuppressionEntry of(String address, Instant since, String reason, String reply, String ruleId,
                                      Source source, Optional<String> messageId) {
        Preconditions.checkNotNull(since, "since");
        Preconditions.checkNotNull(source, "source");
        Preconditions.checkNotNull(messageId, "messageId");
        return new SuppressionEntry(normaliseAddress(address), since, clean(reason, "reason"), clean(reply, "reply"),
                clean(ruleId, "ruleId"), source, messageId.map(m -> clean(m, "messageId")).orElse(null), 1, since);
    }

    /**
     * An entry as a store reads it back: its values were normalised and cleaned by {@link #of} when it
     * was added, so they are taken as they are (the relay reads one per listed recipient).
     */
    static SuppressionEntry stored(String normalisedAddress, Instant since, String reason, String reply, String ruleId,
                                   Source source, String messageId, int confirmations, Instant lastConfirmed) {
        return new SuppressionEntry(normalisedAddress, since, reason, reply, ruleId, source, messageId,
                Math.max(1, confirmations), lastConfirmed.isBefore(since) ? since : lastConfirmed);
    }

    /**
     * This entry as a store keeps it after later confirmations.
     *
     * @param confirmations how many times the address was found suppressible, the first time included (at least 1)
     * @param lastConfirmed the last of them, not before {@link #since()}
     */
    public SuppressionEntry confirmed(int confirmations, Instant lastConfirmed) {
        Preconditions.checkArgument(confirmations >= 1, "confirmations must be at least 1: %s", confirmations);
        Preconditions.checkArgument(lastConfirmed != null && !lastConfirmed.isBefore(since),
                "lastConfirmed must not be before since (%s): %s", since, lastConfirmed);
        return new SuppressionEntry(address, since, reason, reply, ruleId, source, messageId, confirmations,
                lastConfirmed);
    }

    /**
     * The canonical form of an address: trimmed, without angle brackets, lower case.
     *
     * @throws IllegalArgumentException saying why the address is not acceptable
     */
    public static String normaliseAddress(String address) {
        if (address == null) {
            throw new IllegalArgumentException("address must not be null");
        }
        String a = address.trim();
        if (a.startsWith("<") && a.endsWith(">")) {
            a = a.substring(1, a.length() - 1).trim();
        }
        if (a.isEmpty()) {
            throw new IllegalArgumentException("address must not be empty");
        }
        if (a.length() > MAX_ADDRESS_LENGTH) {
            throw new IllegalArgumentException("address longer than " + MAX_ADDRESS_LENGTH + " characters: '"
                    + clean(address, "address").substring(0, 40) + "...'");
        }
        // One pass, allocating nothing for an address already in lower case: the relay normalises every recipient.
        int at = -1;
        int ats = 0;
        boolean forbidden = false;
        boolean lower = true;
        for (int i = 0; i < a.length(); i++) {
            char c = a.charAt(i);
            if (c == '@') {
                at = i;
                ats++;
            } else if (c < 128) {
                forbidden |= FORBIDDEN_ASCII[c];
                lower &= c < 'A' || c > 'Z';
            } else {
                forbidden |= FORBIDDEN_IN_ADDRESS.matches(c);
                lower = false;
            }
        }
        if (at <= 0 || at == a.length() - 1 || ats != 1) {
            throw new IllegalArgumentException("not a mail address (expected local@domain): '" + clean(address, "address")
                    + "'");
        }
        if (forbidden) {
            throw new IllegalArgumentException("mail address holds a space, control or special character: '"
                    + clean(address, "address") + "'");
        }
        if (a.charAt(at + 1) == '.' || a.charAt(a.length() - 1) == '.' || a.indexOf("..", at + 1) >= 0) {
            throw new IllegalArgumentException("mail address has a malformed domain: '" + clean(address, "address") + "'");
        }
        return lower ? a : a.toLowerCase(Locale.ROOT);
    }

    /** {@link #FORBIDDEN_IN_ADDRESS} for the ASCII characters, looked up rather than matched. */
    private static final boolean[] FORBIDDEN_ASCII = new boolean[128];

    static {
        for (char c = 0; c < 128; c++) {
            FORBIDDEN_ASCII[c] = FORBIDDEN_IN_ADDRESS.matches(c);
        }
    }

    /** Whether an ASCII character may not appear in an address (as {@link #normaliseAddress} judges). */
    static boolean isForbiddenAscii(char c) {
        return FORBIDDEN_ASCII[c];
    }

    /** The domain part of a normalised address. */
    public static String domainOf(String normalisedAddress) {
        return normalisedAddress.substring(normalisedAddress.lastIndexOf('@') + 1);
    }

    private static String clean(String text, String field) {
        Preconditions.checkNotNull(text, field);
        String t = CharMatcher.javaIsoControl().replaceFrom(text, ' ');
        return t.length() > MAX_TEXT_LENGTH ? t.substring(0, MAX_TEXT_LENGTH) : t;
    }

    /** Lower case. */
    public String address() {
        return address;
    }

    public String domain() {
        return domainOf(address);
    }

    public Instant since() {
        return since;
    }

    public String reason() {
        return reason;
    }

    public String reply() {
        return reply;
    }

    public String ruleId() {
        return ruleId;
    }

    public Source source() {
        return source;
    }

    public Optional<String> messageId() {
        return Optional.ofNullable(messageId);
    }

    /** How many times the address was found suppressible: 1 when added, one more for each later reply or bounce. */
    public int confirmations() {
        return confirmations;
    }

    /** When the address was last found suppressible; {@link #since()} until it is again. */
    public Instant lastConfirmed() {
        return lastConfirmed;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SuppressionEntry)) {
            return false;
        }
        SuppressionEntry that = (SuppressionEntry) o;
        return address.equals(that.address) && since.equals(that.since) && reason.equals(that.reason)
                && reply.equals(that.reply) && ruleId.equals(that.ruleId) && source == that.source
                && Objects.equals(messageId, that.messageId) && confirmations == that.confirmations
                && lastConfirmed.equals(that.lastConfirmed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(address, since, reason, reply, ruleId, source, messageId, confirmations, lastConfirmed);
    }

    @Override
    public String toString() {
        return address + " since " + since + " (" + reason + ", " + ruleId + ", " + source
                + (confirmations > 1 ? ", confirmed " + confirmations + " times, last " + lastConfirmed : "") + "): " + reply;
    }
}
