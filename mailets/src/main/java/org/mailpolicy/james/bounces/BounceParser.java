package org.mailpolicy.james.bounces;

import com.google.common.io.ByteStreams;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.mail.BodyPart;
import javax.mail.MessagingException;
import javax.mail.Multipart;
import javax.mail.Part;
import javax.mail.internet.ContentType;
import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.ParseException;
import org.mailpolicy.suppression.SentMessage;

/**
 * Reads bounces: RFC 3464 delivery status notifications, and the text bounces of AOL, Exim and
 * qmail. Everything in a bounce is untrusted (anyone can send one): sizes are bounded, nothing is
 * believed here, and a message that is not a bounce, or is a broken one, gives
 * {@link Optional#empty()} rather than an exception.
 */
public final class BounceParser {
    /** A delivery-status part larger than this is not a real report. */
    static final int MAX_STATUS_BYTES = 256 * 1024;
    /** Bounded work per message, whatever a sender puts in it. */
    static final int MAX_RECIPIENTS = 200;
    static final int MAX_MESSAGE_IDS = 20;
    static final int MAX_TEXT_CHARS = 64 * 1024;
    private static final int MAX_DEPTH = 4;
    private static final int MAX_PARTS = 50;

    private static final Pattern AOL_RECIPIENT =
            Pattern.compile("The following message to <([^<>\\s]{1,320})> was undeliverable", Pattern.CASE_INSENSITIVE);
    private static final Pattern AOL_REASON =
            Pattern.compile("The reason for the problem:[ \\t]*\\r?\\n[ \\t]*([^\\r\\n]{1,1000})", Pattern.CASE_INSENSITIVE);
    private static final Pattern TEXT_MESSAGE_ID =
            Pattern.compile("^Message-ID:[ \\t]*(<[^<>\\s]{1,998}>)", Pattern.CASE_INSENSITIVE | Pattern.MULTILINE);
    private static final Pattern EXIM_FAILED_HEADING =
            Pattern.compile("The following address\\(es\\) failed:[ \\t]*$", Pattern.CASE_INSENSITIVE | Pattern.MULTILINE);
    /** Exim indents a failed address by two spaces and its reason by four. */
    private static final int EXIM_REASON_INDENT = 3;
    /** "(generated from alias@example.com)": how the address was reached, not why it failed. */
    private static final Pattern EXIM_GENERATED_FROM = Pattern.compile("\\(generated from [^()]*\\)");
    /** "Hi. This is the qmail-send program at host.": QSBMF's opening, which names the program. */
    private static final Pattern QMAIL_INTRO = Pattern.compile("\\s*Hi\\. This is the [^\\r\\n]{0,80}\\bprogram\\b");
    private static final Pattern QMAIL_RECIPIENT = Pattern.compile("<([^<>\\s@]{1,64}@[^<>\\s]{1,255})>:[ \\t]*(\\r?\\n|$)");
    private static final Pattern LINE_BREAK = Pattern.compile("\\r?\\n");
    private static final Pattern PARAGRAPH_BREAK = Pattern.compile("\\r?\\n[ \\t]*\\r?\\n");
    private static final Pattern BRACKETED_ID = Pattern.compile("<([^<>\\s]{1,998})>");

    private BounceParser() {
    }

    /** The bounce this message is, if it is one. Never throws for any message content. */
    public static Optional<Bounce> parse(MimeMessage message) {
        try {
            Found found = new Found();
            walk(message, 0, found);
            List<String> ids = new ArrayList<>(found.returnedIds);
            ids.addAll(referencedIds(message));
            if (found.deliveryStatus != null) {
                List<BouncedRecipient> recipients = parseDeliveryStatus(found.deliveryStatus);
                if (!recipients.isEmpty()) {
                    return Optional.of(Bounce.of(Bounce.Form.DELIVERY_STATUS, recipients, distinct(ids)));
                }
            }
            if (found.firstText != null) {
                return parseText(found.firstText, ids);
            }
            return Optional.empty();
        } catch (MessagingException | IOException | RuntimeException e) {
            // A malformed MIME structure is not a bounce we can act on; the caller logs the message.
            return Optional.empty();
        }
    }

    /** What the MIME walk collected. */
    private static final class Found {
        byte[] deliveryStatus;
        String firstText;
        final List<String> returnedIds = new ArrayList<>();
        int parts;
    }

    private static void walk(Part part, int depth, Found found) throws MessagingException, IOException {
        if (depth > MAX_DEPTH || ++found.parts > MAX_PARTS) {
            return;
        }
        String type = baseType(part);
        if (type.startsWith("multipart/")) {
            Object content = part.getContent();
            if (content instanceof Multipart) {
                Multipart multipart = (Multipart) content;
                for (int i = 0; i < multipart.getCount() && found.parts < MAX_PARTS; i++) {
                    BodyPart child = multipart.getBodyPart(i);
                    walk(child, depth + 1, found);
                }
            }
        } else if (type.equals("message/delivery-status") || type.equals("message/global-delivery-status")) {
            if (found.deliveryStatus == null) {
                found.deliveryStatus = readBounded(part.getInputStream(), MAX_STATUS_BYTES);
            }
        } else if (type.equals("message/rfc822") || type.equals("message/global")) {
            // The returned message: its id names what we sent. Never descend into it: a forwarded
            // bounce inside a message is not a report about our mail.
            InternetHeaders headers = new InternetHeaders(new ByteArrayInputStream(
                    readBounded(part.getInputStream(), MAX_STATUS_BYTES)));
            addIds(headers.getHeader("Message-ID"), found.returnedIds);
        } else if (type.equals("text/rfc822-headers") || type.equals("message/global-headers")) {
            InternetHeaders headers = new InternetHeaders(new ByteArrayInputStream(
                    readBounded(part.getInputStream(), MAX_STATUS_BYTES)));
            addIds(headers.getHeader("Message-ID"), found.returnedIds);
        } else if (type.equals("text/plain") && found.firstText == null) {
            byte[] bytes = readBounded(part.getInputStream(), MAX_TEXT_CHARS);
            found.firstText = new String(bytes, charset(part));
        }
    }

    private static String baseType(Part part) throws MessagingException {
        String raw = part.getContentType();
        if (raw == null) {
            return "text/plain";
        }
        try {
            return new ContentType(raw).getBaseType().toLowerCase(Locale.ROOT);
        } catch (ParseException e) {
            return "application/octet-stream";
        }
    }

    private static java.nio.charset.Charset charset(Part part) {
        try {
            String name = new ContentType(part.getContentType()).getParameter("charset");
            return name == null ? StandardCharsets.US_ASCII : java.nio.charset.Charset.forName(name);
        } catch (MessagingException | RuntimeException e) {
            return StandardCharsets.ISO_8859_1;
        }
    }

    private static byte[] readBounded(InputStream in, int max) throws IOException {
        try (InputStream stream = in) {
            return ByteStreams.toByteArray(ByteStreams.limit(stream, max));
        }
    }

    private static List<String> referencedIds(MimeMessage message) throws MessagingException {
        List<String> ids = new ArrayList<>();
        addIds(message.getHeader("In-Reply-To"), ids);
        addIds(message.getHeader("References"), ids);
        return ids;
    }

    private static void addIds(String[] headerValues, List<String> into) {
        if (headerValues == null) {
            return;
        }
        for (String value : headerValues) {
            Matcher m = BRACKETED_ID.matcher(value);
            while (m.find() && into.size() < MAX_MESSAGE_IDS * 2) {
                into.add(m.group());
            }
        }
    }

    private static List<String> distinct(List<String> rawIds) {
        Set<String> ids = new LinkedHashSet<>();
        for (String raw : rawIds) {
            SentMessage.tryNormaliseMessageId(raw).ifPresent(ids::add);
            if (ids.size() >= MAX_MESSAGE_IDS) {
                break;
            }
        }
        return new ArrayList<>(ids);
    }

    /**
     * RFC 3464 section 2: a per-message group, then one group per recipient, groups separated by
     * blank lines, fields in header syntax (folding allowed).
     */
    static List<BouncedRecipient> parseDeliveryStatus(byte[] body) throws MessagingException {
        List<BouncedRecipient> recipients = new ArrayList<>();
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        boolean perMessage = true;
        while (in.available() > 0 && recipients.size() < MAX_RECIPIENTS) {
            InternetHeaders group = new InternetHeaders(in);
            if (!group.getAllHeaders().hasMoreElements()) {
                continue;
            }
            String finalRecipient = group.getHeader("Final-Recipient", null);
            if (perMessage && finalRecipient == null) {
                perMessage = false;
                continue;
            }
            perMessage = false;
            if (finalRecipient == null) {
                continue;
            }
            String action = group.getHeader("Action", null);
            recipients.add(BouncedRecipient.of(typedValue(finalRecipient),
                    action == null ? "failed" : unfold(action),
                    Optional.ofNullable(group.getHeader("Status", null)).map(BounceParser::statusCode),
                    Optional.ofNullable(group.getHeader("Diagnostic-Code", null)).map(BounceParser::typedValue).orElse("")));
        }
        return recipients;
    }

    /**
     * A bounce written as text only, in one of the forms that MTAs send: AOL's, Exim's or qmail's.
     * Each says in its own words that delivery failed for good, so every recipient it lists is
     * {@code failed}. The returned message is quoted in the same text, so its Message-ID is there.
     */
    private static Optional<Bounce> parseText(String text, List<String> ids) {
        Bounce.Form form = Bounce.Form.AOL_TEXT;
        List<BouncedRecipient> recipients = parseAolText(text).map(List::of).orElse(List.of());
        if (recipients.isEmpty()) {
            form = Bounce.Form.EXIM_TEXT;
            recipients = parseEximText(text);
        }
        if (recipients.isEmpty()) {
            form = Bounce.Form.QMAIL_TEXT;
            recipients = parseQmailText(text);
        }
        if (recipients.isEmpty()) {
            return Optional.empty();
        }
        Matcher m = TEXT_MESSAGE_ID.matcher(text);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return Optional.of(Bounce.of(form, recipients, distinct(ids)));
    }

    /**
     * Exim's text bounce (its default bounce_message_text): after "The following address(es)
     * failed:", each failed address indented by two spaces, its reason on the lines below indented
     * further, up to the "------ This is a copy of the message" line. The heading is only ever
     * written for failures (a delay warning lists addresses "not yet delivered").
     */
    static List<BouncedRecipient> parseEximText(String text) {
        Matcher heading = EXIM_FAILED_HEADING.matcher(text);
        if (!heading.find()) {
            return List.of();
        }
        List<BouncedRecipient> recipients = new ArrayList<>();
        String address = null;
        StringBuilder reason = new StringBuilder();
        for (String line : LINE_BREAK.split(text.substring(heading.end()), -1)) {
            if (line.startsWith("------") || recipients.size() >= MAX_RECIPIENTS) {
                break;
            }
            String trimmed = line.trim();
            if (trimmed.isEmpty() || EXIM_GENERATED_FROM.matcher(trimmed).matches()) {
                continue;
            }
            if (indentOf(line) < EXIM_REASON_INDENT) {
                addFailed(recipients, address, reason);
                address = trimmed;
                reason.setLength(0);
            } else if (address != null) {
                reason.append(reason.length() == 0 ? "" : " ").append(trimmed);
            }
        }
        addFailed(recipients, address, reason);
        return recipients;
    }

    /**
     * qmail's bounce, in its documented format (QSBMF, cr.yp.to/proto/qsbmf.txt): an introductory
     * paragraph starting "Hi. This is the", one paragraph per recipient whose first line is
     * "&lt;address&gt;:" and whose other lines say why, and a paragraph starting "---" before the
     * returned message. qmail sends it only when it has given up.
     */
    static List<BouncedRecipient> parseQmailText(String text) {
        if (!QMAIL_INTRO.matcher(text).lookingAt()) {
            return List.of();
        }
        List<BouncedRecipient> recipients = new ArrayList<>();
        for (String paragraph : PARAGRAPH_BREAK.split(text)) {
            String p = paragraph.strip();
            if (p.startsWith("---") || recipients.size() >= MAX_RECIPIENTS) {
                break;
            }
            Matcher recipient = QMAIL_RECIPIENT.matcher(p);
            if (recipient.lookingAt()) {
                recipients.add(BouncedRecipient.of(recipient.group(1), "failed", Optional.empty(),
                        unfold(p.substring(recipient.end()))));
            }
        }
        return recipients;
    }

    private static void addFailed(List<BouncedRecipient> into, String address, StringBuilder reason) {
        if (address != null && into.size() < MAX_RECIPIENTS) {
            into.add(BouncedRecipient.of(address, "failed", Optional.empty(), reason.toString()));
        }
    }

    private static int indentOf(String line) {
        int i = 0;
        while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    /** AOL's text form: the recipient in the first sentence, the reason on the line after "The reason for the problem:". */
    static Optional<BouncedRecipient> parseAolText(String text) {
        Matcher recipient = AOL_RECIPIENT.matcher(text);
        if (!recipient.find()) {
            return Optional.empty();
        }
        Matcher reason = AOL_REASON.matcher(text);
        String diagnostic = reason.find() ? reason.group(1) : "";
        return Optional.of(BouncedRecipient.of(recipient.group(1), "failed", Optional.empty(), diagnostic));
    }

    /** "rfc822; bob@aol.com" to "bob@aol.com"; "smtp; 550 ..." to "550 ...". */
    private static String typedValue(String field) {
        String v = unfold(field);
        int semicolon = v.indexOf(';');
        return (semicolon >= 0 ? v.substring(semicolon + 1) : v).trim();
    }

    /** "5.0.0 (permanent failure)" to "5.0.0". */
    private static String statusCode(String field) {
        String v = unfold(field);
        int space = v.indexOf(' ');
        return space > 0 ? v.substring(0, space) : v;
    }

    private static String unfold(String value) {
        return value.replaceAll("\\r?\\n[ \\t]*", " ").trim();
    }
}
