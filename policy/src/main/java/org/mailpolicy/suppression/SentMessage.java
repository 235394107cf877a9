package org.mailpolicy.suppression;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSet;
import java.time.Instant;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A message this server handed to a remote server, as the {@link SentMessageLedger} remembers it:
 * enough to tell a genuine asynchronous bounce (it names one of these messages and one of their
 * recipients) from a forged one.
 */
public final class SentMessage {
    /** Message-IDs longer than this are not real (RFC 5322 lines are at most 998 characters). */
    public static final int MAX_MESSAGE_ID_LENGTH = 998;

    private static final CharMatcher FORBIDDEN_IN_ID = CharMatcher.javaIsoControl().or(CharMatcher.whitespace());

    private final String messageId;
    private final ImmutableSet<String> recipients;
    private final Instant sentAt;

    private SentMessage(String messageId, ImmutableSet<String> recipients, Instant sentAt) {
        this.messageId = messageId;
        this.recipients = recipients;
        this.sentAt = sentAt;
    }

    /**
     * @param messageId  the Message-ID header value, with or without angle brackets
     * @param recipients the recipients the remote server accepted; normalised like suppression addresses
     * @throws IllegalArgumentException for an empty or malformed id, no recipients, or a malformed address
     */
    public static SentMessage of(String messageId, Collection<String> recipients, Instant sentAt) {
        Preconditions.checkNotNull(recipients, "recipients");
        Preconditions.checkNotNull(sentAt, "sentAt");
        Preconditions.checkArgument(!recipients.isEmpty(), "a sent message has at least one recipient");
        ImmutableSet.Builder<String> normalised = ImmutableSet.builder();
        for (String r : recipients) {
            normalised.add(SuppressionEntry.normaliseAddress(r));
        }
        return new SentMessage(normaliseMessageId(messageId), normalised.build(), sentAt);
    }

    /**
     * The canonical form of a Message-ID: without surrounding angle brackets and spaces. Case is kept:
     * the local part of an id is case-sensitive.
     *
     * @throws IllegalArgumentException saying why the text is not a usable id
     */
    public static String normaliseMessageId(String messageId) {
        Preconditions.checkArgument(messageId != null, "message id must not be null");
        String id = messageId.trim();
        if (id.startsWith("<") && id.endsWith(">")) {
            id = id.substring(1, id.length() - 1).trim();
        }
        Preconditions.checkArgument(!id.isEmpty(), "message id must not be empty");
        Preconditions.checkArgument(id.length() <= MAX_MESSAGE_ID_LENGTH, "message id longer than %s characters",
                MAX_MESSAGE_ID_LENGTH);
        Preconditions.checkArgument(!FORBIDDEN_IN_ID.matchesAnyOf(id) && id.indexOf('<') < 0 && id.indexOf('>') < 0,
                "message id holds a space, control character or angle bracket: '%s'",
                CharMatcher.javaIsoControl().replaceFrom(id, '?'));
        return id;
    }

    /** The canonical id, if {@code text} is one; empty for anything else (untrusted header text). */
    public static Optional<String> tryNormaliseMessageId(String text) {
        try {
            return Optional.of(normaliseMessageId(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public String messageId() {
        return messageId;
    }

    /** Lower-case addresses. */
    public Set<String> recipients() {
        return recipients;
    }

    public Instant sentAt() {
        return sentAt;
    }

    /** Whether {@code address} (any case, with or without brackets) was one of the recipients; false for a malformed address. */
    public boolean wasSentTo(String address) {
        try {
            return recipients.contains(SuppressionEntry.normaliseAddress(address));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SentMessage)) {
            return false;
        }
        SentMessage that = (SentMessage) o;
        return messageId.equals(that.messageId) && recipients.equals(that.recipients) && sentAt.equals(that.sentAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(messageId, recipients, sentAt);
    }

    @Override
    public String toString() {
        return "<" + messageId + "> to " + recipients + " at " + sentAt;
    }
}
