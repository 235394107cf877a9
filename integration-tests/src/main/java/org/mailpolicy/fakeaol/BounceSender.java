package org.mailpolicy.fakeaol;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.Optional;
import java.util.Properties;

import javax.activation.DataHandler;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.Transport;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeBodyPart;
import javax.mail.internet.MimeMultipart;
import javax.mail.util.ByteArrayDataSource;

import com.sun.mail.smtp.SMTPMessage;

/**
 * Sends AOL's asynchronous "undeliverable" bounce over SMTP with JavaMail. The human part repeats AOL's documented text
 * and field block word for word (seed 000), and the same fields are also given as a proper RFC 3464
 * {@code message/delivery-status} part, so both a text scanner and a DSN parser find them.
 */
final class BounceSender {
    static final String MAILER_DAEMON = "MAILER-DAEMON@aol.com";
    static final String REASON = "5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND'";
    private static final int TIMEOUT_MILLIS = 10_000;

    private BounceSender() {
    }

    /** Sends the bounce; returns the bounce's Message-ID. */
    static String send(AolBounce bounce, Optional<ReceivedMessage> original) throws MessagingException {
        Properties properties = new Properties();
        properties.setProperty("mail.smtp.host", bounce.smtpHost());
        properties.setProperty("mail.smtp.port", Integer.toString(bounce.smtpPort()));
        properties.setProperty("mail.smtp.localhost", AolReplies.RELAY_HOST);
        properties.setProperty("mail.smtp.connectiontimeout", Integer.toString(TIMEOUT_MILLIS));
        properties.setProperty("mail.smtp.timeout", Integer.toString(TIMEOUT_MILLIS));
        Session session = Session.getInstance(properties);

        SMTPMessage message = new SMTPMessage(session);
        // JavaMail writes "MAIL FROM:<>" for "<>"; an empty envelope sender would make it fall back to the From header.
        message.setEnvelopeFrom(bounce.envelopeFrom().isEmpty() ? "<>" : bounce.envelopeFrom());
        message.setFrom(new InternetAddress("Mail Delivery Subsystem <" + MAILER_DAEMON + ">", true));
        message.setRecipient(javax.mail.Message.RecipientType.TO, new InternetAddress(bounce.to(), true));
        message.setSubject("Returned mail: User unknown", "UTF-8");
        message.setSentDate(new Date());
        message.setHeader("Auto-Submitted", "auto-replied");
        message.setContent(report(bounce, original));
        message.saveChanges();
        Transport.send(message);
        return message.getMessageID();
    }

    private static MimeMultipart report(AolBounce bounce, Optional<ReceivedMessage> original)
            throws MessagingException {
        MimeMultipart report = new MimeMultipart("report; report-type=delivery-status");

        MimeBodyPart human = new MimeBodyPart();
        human.setText(humanText(bounce), "UTF-8");
        report.addBodyPart(human);

        MimeBodyPart status = new MimeBodyPart();
        status.setDataHandler(bytes(deliveryStatus(bounce), "message/delivery-status"));
        report.addBodyPart(status);

        MimeBodyPart returned = new MimeBodyPart();
        returned.setDataHandler(bytes(returnedHeaders(bounce, original), "text/rfc822-headers"));
        report.addBodyPart(returned);
        return report;
    }

    /** JavaMail has no content handler for these report types; a data source with the bytes needs none. */
    private static DataHandler bytes(String text, String contentType) {
        return new DataHandler(new ByteArrayDataSource(text.getBytes(StandardCharsets.UTF_8), contentType));
    }

    /** Seed 000: "The pertinent part of the bounce will look like this". */
    static String humanText(AolBounce bounce) {
        return "The following message to <" + bounce.finalRecipient() + "> was undeliverable.\r\n"
                + "\r\n"
                + "The reason for the problem:\r\n"
                + REASON + "\r\n"
                + "\r\n"
                + "Reporting-MTA: dns; " + AolReplies.RELAY_HOST + "\r\n"
                + "Final-Recipient: rfc822;" + bounce.finalRecipient() + "\r\n"
                + "Action: failed\r\n"
                + "Status: 5.0.0 (permanent failure)\r\n"
                + "Remote-MTA: dns; [127.0.0.1]\r\n"
                + "\r\n"
                + "Diagnostic-Code: smtp; " + REASON + " (delivery attempts: 0)\r\n";
    }

    private static String deliveryStatus(AolBounce bounce) {
        return "Reporting-MTA: dns; " + AolReplies.RELAY_HOST + "\r\n"
                + "\r\n"
                + "Final-Recipient: rfc822;" + bounce.finalRecipient() + "\r\n"
                + "Action: failed\r\n"
                + "Status: 5.0.0\r\n"
                + "Remote-MTA: dns; [127.0.0.1]\r\n"
                + "Diagnostic-Code: smtp; " + REASON + " (delivery attempts: 0)\r\n";
    }

    private static String returnedHeaders(AolBounce bounce, Optional<ReceivedMessage> original) {
        if (original.isPresent()) {
            return original.get().headerBlock();
        }
        return bounce.originalMessageId().map(id -> "Message-ID: " + id + "\r\n").orElse("")
                + "To: <" + bounce.finalRecipient() + ">\r\n";
    }
}
