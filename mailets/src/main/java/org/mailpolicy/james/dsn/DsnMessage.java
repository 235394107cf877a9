package org.mailpolicy.james.dsn;

import com.google.common.base.Preconditions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Function;
import javax.activation.DataHandler;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.internet.ContentType;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeBodyPart;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.MimeMultipart;
import javax.mail.util.ByteArrayDataSource;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.DsnText;
import org.mailpolicy.report.RecipientReport;

/**
 * Writes an RFC 3464 delivery status notification with JavaMail's MIME classes:
 * {@code multipart/report; report-type=delivery-status} holding (1) the human text from
 * {@link DsnText}, (2) the {@code message/delivery-status} fields, (3) the original message or its
 * headers.
 */
final class DsnMessage {
    static final String DELIVERY_STATUS = "message/delivery-status";
    static final String RFC822_HEADERS = "text/rfc822-headers";
    private static final int MAX_SUBJECT_CHARS = 200;
    private static final Session SESSION = Session.getInstance(new Properties());

    private DsnMessage() {
    }

    /** Everything one DSN is made of; {@code recipients} are those the sender asked to hear about. */
    static final class Content {
        final DeliveryReport report;
        final List<RecipientReport> recipients;
        final Optional<String> envelopeId;
        final Function<RecipientReport, Optional<String>> originalRecipient;
        final MimeMessage original;
        final ReturnContent returnContent;
        final InternetAddress from;
        final InternetAddress to;
        final Instant now;

        Content(DeliveryReport report, List<RecipientReport> recipients, Optional<String> envelopeId,
                Function<RecipientReport, Optional<String>> originalRecipient, MimeMessage original,
                ReturnContent returnContent, InternetAddress from, InternetAddress to, Instant now) {
            Preconditions.checkArgument(!recipients.isEmpty(), "a DSN needs at least one recipient");
            this.report = Preconditions.checkNotNull(report, "report");
            this.recipients = recipients;
            this.envelopeId = Preconditions.checkNotNull(envelopeId, "envelopeId");
            this.originalRecipient = Preconditions.checkNotNull(originalRecipient, "originalRecipient");
            this.original = Preconditions.checkNotNull(original, "original");
            this.returnContent = Preconditions.checkNotNull(returnContent, "returnContent");
            this.from = Preconditions.checkNotNull(from, "from");
            this.to = Preconditions.checkNotNull(to, "to");
            this.now = Preconditions.checkNotNull(now, "now");
        }
    }

    static MimeMessage compose(Content c) throws MessagingException {
        String originalSubject = subjectOf(c.original);
        DeliveryReport shown = DeliveryReport.of(c.report.reportingMta(), c.report.arrivalDate(), c.report.envelopeId(),
                c.report.originalMessageId(), c.recipients);

        ReportMultipart multipart = new ReportMultipart();
        MimeBodyPart text = new MimeBodyPart();
        // CRLF, as RFC 5322 wants every line: JavaMail writes a 7bit text part's lines as given, and a
        // mail store or client that meets a bare LF may show the part as one line or refuse it.
        text.setText(DsnText.render(shown, originalSubject).replace("\n", "\r\n"), StandardCharsets.UTF_8.name());
        multipart.addBodyPart(text);

        MimeBodyPart status = new MimeBodyPart();
        byte[] fields = DeliveryStatusFields.write(c.report, c.envelopeId, c.recipients, c.originalRecipient);
        status.setDataHandler(new DataHandler(new ByteArrayDataSource(fields, DELIVERY_STATUS)));
        status.setHeader("Content-Type", DELIVERY_STATUS);
        status.setDescription("Delivery report");
        multipart.addBodyPart(status);

        multipart.addBodyPart(returnedPart(c.original, c.returnContent));

        String messageId = "<" + UUID.randomUUID() + "@" + FieldText.ascii(c.report.reportingMta(), 200)
                .replaceAll("[^A-Za-z0-9.-]", "") + ">";
        MimeMessage dsn = new FixedIdMessage(messageId);
        dsn.setFrom(c.from);
        dsn.setRecipient(MimeMessage.RecipientType.TO, c.to);
        dsn.setSubject(subject(c.recipients, originalSubject), StandardCharsets.UTF_8.name());
        dsn.setSentDate(Date.from(c.now));
        // RFC 3834: an automatic reply; well-behaved responders do not answer it.
        dsn.setHeader("Auto-Submitted", "auto-replied");
        Optional<String> inReplyTo = c.report.originalMessageId().flatMap(FieldText::messageId);
        if (!inReplyTo.isPresent()) {
            inReplyTo = FieldText.messageId(c.original.getMessageID());
        }
        if (inReplyTo.isPresent()) {
            dsn.setHeader("In-Reply-To", inReplyTo.get());
            dsn.setHeader("References", inReplyTo.get());
        }
        dsn.setContent(multipart);
        dsn.saveChanges();
        return dsn;
    }

    /** The subject says what kind of news this is before the reader opens it. */
    static String subject(List<RecipientReport> recipients, String originalSubject) {
        EnumSet<DsnAction> actions = EnumSet.noneOf(DsnAction.class);
        for (RecipientReport r : recipients) {
            actions.add(r.action());
        }
        String kind;
        if (actions.contains(DsnAction.FAILED) && actions.contains(DsnAction.DELAYED)) {
            kind = "Undelivered and delayed mail";
        } else if (actions.contains(DsnAction.FAILED)) {
            kind = "Undelivered mail returned to sender";
        } else if (actions.contains(DsnAction.DELAYED)) {
            kind = "Delayed mail (still trying)";
        } else {
            kind = "Delivery report";
        }
        return originalSubject.isEmpty() ? kind : kind + ": " + originalSubject;
    }

    private static String subjectOf(MimeMessage original) {
        try {
            String s = original.getSubject();
            return s == null ? "" : FieldText.unicode(s, MAX_SUBJECT_CHARS);
        } catch (MessagingException e) {
            // An undecodable subject must not cost the sender the report.
            return "";
        }
    }

    private static MimeBodyPart returnedPart(MimeMessage original, ReturnContent what) throws MessagingException {
        MimeBodyPart part = new MimeBodyPart();
        if (what == ReturnContent.FULL_MESSAGE) {
            // The original's own bytes, not a re-encoding of them.
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try {
                original.writeTo(bytes);
            } catch (IOException e) {
                throw new MessagingException("cannot read the original message", e);
            }
            byte[] message = bytes.toByteArray();
            part.setDataHandler(new DataHandler(new ByteArrayDataSource(message, "message/rfc822")));
            part.setHeader("Content-Type", "message/rfc822");
            // RFC 2046 5.2.1: message/rfc822 may only be 7bit, 8bit or binary, never re-encoded.
            part.setHeader("Content-Transfer-Encoding", isSevenBit(message) ? "7bit" : "8bit");
            part.setDescription("Undelivered message");
        } else {
            part.setDataHandler(new DataHandler(new ByteArrayDataSource(headerSection(original), RFC822_HEADERS)));
            part.setHeader("Content-Type", RFC822_HEADERS);
            part.setDescription("Headers of the undelivered message");
        }
        part.setDisposition("inline");
        return part;
    }

    private static boolean isSevenBit(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] headerSection(MimeMessage original) throws MessagingException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Enumeration<String> lines = original.getAllHeaderLines();
        while (lines.hasMoreElements()) {
            byte[] line = lines.nextElement().getBytes(StandardCharsets.UTF_8);
            out.write(line, 0, line.length);
            out.write('\r');
            out.write('\n');
        }
        return out.toByteArray();
    }

    /** {@code multipart/report} with its required {@code report-type} parameter (RFC 6522). */
    private static final class ReportMultipart extends MimeMultipart {
        ReportMultipart() throws MessagingException {
            super("report");
            ContentType type = new ContentType(contentType);
            type.setParameter("report-type", "delivery-status");
            contentType = type.toString();
        }
    }

    /** Keeps the Message-ID we chose (named after the reporting MTA) instead of JavaMail's. */
    private static final class FixedIdMessage extends MimeMessage {
        private final String messageId;

        FixedIdMessage(String messageId) {
            super(SESSION);
            this.messageId = messageId;
        }

        @Override
        protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", messageId);
        }
    }
}
