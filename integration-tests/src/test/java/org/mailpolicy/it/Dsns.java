package org.mailpolicy.it;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import javax.mail.BodyPart;
import javax.mail.MessagingException;
import javax.mail.Part;
import javax.mail.internet.ContentType;
import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.MimeMultipart;

/** Reads DSNs back with JavaMail, the way a mail client sees them. */
final class Dsns {
    private Dsns() {
    }

    /** The {@code message/delivery-status} part: the per-message fields, then one field block per recipient. */
    record DeliveryStatus(InternetHeaders perMessage, List<InternetHeaders> perRecipient) {
        InternetHeaders recipient(String address) {
            return perRecipient.stream()
                    .filter(fields -> Optional.ofNullable(fields.getHeader("Final-Recipient", null))
                            .map(value -> value.toLowerCase().contains(address.toLowerCase())).orElse(false))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no Final-Recipient " + address + " in the DSN; recipients: "
                            + finalRecipients()));
        }

        List<String> finalRecipients() {
            List<String> all = new ArrayList<>();
            for (InternetHeaders fields : perRecipient) {
                all.add(fields.getHeader("Final-Recipient", null));
            }
            return all;
        }
    }

    static boolean isReport(MimeMessage message) {
        try {
            ContentType type = new ContentType(message.getContentType());
            return type.match("multipart/report");
        } catch (MessagingException e) {
            return false;
        }
    }

    static MimeMultipart report(MimeMessage message) throws MessagingException, IOException {
        ContentType type = new ContentType(message.getContentType());
        if (!type.match("multipart/report") || !"delivery-status".equalsIgnoreCase(type.getParameter("report-type"))) {
            throw new AssertionError("not a DSN (multipart/report; report-type=delivery-status): " + message.getContentType());
        }
        return (MimeMultipart) message.getContent();
    }

    /** The first part of a report: the text for a person. */
    static String humanText(MimeMessage message) throws MessagingException, IOException {
        BodyPart first = report(message).getBodyPart(0);
        if (!first.isMimeType("text/plain")) {
            throw new AssertionError("the first part of the report is " + first.getContentType() + ", not text/plain");
        }
        return (String) first.getContent();
    }

    static DeliveryStatus status(MimeMessage message) throws MessagingException, IOException {
        MimeMultipart report = report(message);
        for (int i = 0; i < report.getCount(); i++) {
            BodyPart part = report.getBodyPart(i);
            if (part.isMimeType("message/delivery-status")) {
                return parse(rawContent(part));
            }
        }
        throw new AssertionError("no message/delivery-status part in the report");
    }

    /** The returned original (message/rfc822) or its headers (text/rfc822-headers), the report's third part. */
    static BodyPart returnedContent(MimeMessage message) throws MessagingException, IOException {
        MimeMultipart report = report(message);
        if (report.getCount() < 3) {
            throw new AssertionError("the report has " + report.getCount() + " parts, no returned content");
        }
        return report.getBodyPart(2);
    }

    /** All text of a message, whatever its structure: for asserting what a DSN does or does not say. */
    static String text(Part part) throws MessagingException, IOException {
        if (part.isMimeType("multipart/*")) {
            MimeMultipart multipart = (MimeMultipart) part.getContent();
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < multipart.getCount(); i++) {
                all.append(text(multipart.getBodyPart(i))).append('\n');
            }
            return all.toString();
        }
        if (part.isMimeType("text/*")) {
            Object content = part.getContent();
            // text/rfc822-headers (a DSN's returned headers) has no content handler: JavaMail gives a stream.
            return content instanceof String ? (String) content : new String(rawContent(part), StandardCharsets.UTF_8);
        }
        return new String(rawContent(part), StandardCharsets.UTF_8);
    }

    private static byte[] rawContent(Part part) throws MessagingException, IOException {
        try (InputStream in = part.getInputStream(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            in.transferTo(out);
            return out.toByteArray();
        }
    }

    static DeliveryStatus parse(byte[] content) throws MessagingException {
        ByteArrayInputStream in = new ByteArrayInputStream(content);
        InternetHeaders perMessage = new InternetHeaders(in);
        List<InternetHeaders> recipients = new ArrayList<>();
        while (in.available() > 0) {
            InternetHeaders fields = new InternetHeaders(in);
            if (Collections.list(fields.getAllHeaders()).isEmpty()) {
                continue;
            }
            recipients.add(fields);
        }
        return new DeliveryStatus(perMessage, recipients);
    }
}
