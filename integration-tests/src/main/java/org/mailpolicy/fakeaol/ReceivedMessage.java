package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.UnsupportedEncodingException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import javax.mail.MessagingException;
import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeUtility;

/**
 * A message the fake accepted with {@code 250 OK} (or, in {@link Mode#CHAOS}, kept before closing without a reply): its
 * envelope and its bytes exactly as received (dot-unstuffed).
 */
public final class ReceivedMessage {
    private final Instant receivedAt;
    private final String client;
    private final String mailFrom;
    private final List<String> recipients;
    private final byte[] raw;
    /** Parsed when first asked for: most messages (a benchmark's thousands) are only counted, never read. */
    private volatile InternetHeaders headers;

    private ReceivedMessage(Instant receivedAt, String client, String mailFrom, List<String> recipients, byte[] raw) {
        this.receivedAt = receivedAt;
        this.client = client;
        this.mailFrom = mailFrom;
        this.recipients = recipients;
        this.raw = raw;
    }

    static ReceivedMessage of(Instant receivedAt, String client, String mailFrom, List<String> recipients, byte[] raw) {
        requireNonNull(receivedAt, "receivedAt");
        requireNonNull(client, "client");
        requireNonNull(mailFrom, "mailFrom");
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("a received message has at least one recipient");
        }
        return new ReceivedMessage(receivedAt, client, mailFrom, List.copyOf(recipients), raw);
    }

    private InternetHeaders headers() {
        InternetHeaders parsed = headers;
        if (parsed == null) {
            parsed = parseHeaders(raw);
            headers = parsed;
        }
        return parsed;
    }

    private static InternetHeaders parseHeaders(byte[] raw) {
        try {
            return new InternetHeaders(new ByteArrayInputStream(raw));
        } catch (MessagingException e) {
            // The sender's bytes are untrusted; a message whose header block cannot be parsed is still kept as received.
            return new InternetHeaders();
        }
    }

    public Instant receivedAt() {
        return receivedAt;
    }

    public String client() {
        return client;
    }

    /** The reverse path; empty for the null sender. */
    public String mailFrom() {
        return mailFrom;
    }

    /** The accepted recipients. */
    public List<String> recipients() {
        return recipients;
    }

    public int size() {
        return raw.length;
    }

    /** A copy of the bytes as received. */
    public byte[] raw() {
        return Arrays.copyOf(raw, raw.length);
    }

    /** The first value of a header, unfolded and with RFC 2047 encoded words decoded. */
    public Optional<String> header(String name) {
        String value = headers().getHeader(name, null);
        if (value == null) {
            return Optional.empty();
        }
        String unfolded = MimeUtility.unfold(value).trim();
        try {
            return Optional.of(MimeUtility.decodeText(unfolded));
        } catch (UnsupportedEncodingException e) {
            return Optional.of(unfolded);
        }
    }

    /** The header block as sent, for returning in a bounce. */
    String headerBlock() {
        StringBuilder block = new StringBuilder();
        java.util.Enumeration<String> lines = headers().getAllHeaderLines();
        while (lines.hasMoreElements()) {
            block.append(lines.nextElement()).append("\r\n");
        }
        return block.toString();
    }

    public Optional<String> subject() {
        return header("Subject");
    }

    public Optional<String> messageId() {
        return header("Message-ID");
    }

    @Override
    public String toString() {
        return "ReceivedMessage{from=<" + mailFrom + ">, to=" + recipients + ", size=" + raw.length + "}";
    }
}
