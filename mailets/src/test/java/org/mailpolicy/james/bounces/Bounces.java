package org.mailpolicy.james.bounces;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import javax.activation.DataHandler;
import javax.mail.Message;
import javax.mail.Session;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeBodyPart;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.MimeMultipart;
import javax.mail.util.ByteArrayDataSource;

/** Real MIME bounces, built with JavaMail, written out and parsed back as James would receive them. */
final class Bounces {
    static final Session SESSION = Session.getInstance(new Properties());

    private Bounces() {
    }

    /** The message we sent: what a bounce returns (in full or as headers). */
    static MimeMessage original(String messageId, String... recipients) throws Exception {
        MimeMessage m = new MimeMessage(SESSION) {
            @Override
            protected void updateMessageID() throws javax.mail.MessagingException {
                setHeader("Message-ID", messageId);
            }
        };
        m.setFrom(new InternetAddress("alice@example.com"));
        for (String r : recipients) {
            m.addRecipient(Message.RecipientType.TO, new InternetAddress(r));
        }
        m.setSubject("Quarterly figures");
        m.setText("Hello\r\n");
        m.saveChanges();
        return m;
    }

    /** An RFC 3464 report: explanation, delivery-status, returned headers of {@code original}. */
    static MimeMessage standardDsn(MimeMessage original, String deliveryStatus) throws Exception {
        return report(original, "This is the mail system at host mx.aol.com.\r\n\r\nYour message could not be delivered.\r\n",
                deliveryStatus);
    }

    /** An RFC 3464 report with the human-readable text its MTA writes. */
    static MimeMessage report(MimeMessage original, String humanText, String deliveryStatus) throws Exception {
        MimeMultipart report = new MimeMultipart("report; report-type=delivery-status");
        MimeBodyPart text = new MimeBodyPart();
        text.setText(humanText);
        report.addBodyPart(text);
        report.addBodyPart(part(deliveryStatus.getBytes(StandardCharsets.US_ASCII), "message/delivery-status"));
        ByteArrayOutputStream headers = new ByteArrayOutputStream();
        java.util.Enumeration<String> lines = original.getAllHeaderLines();
        while (lines.hasMoreElements()) {
            headers.write((lines.nextElement() + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        report.addBodyPart(part(headers.toByteArray(), "text/rfc822-headers"));
        return received(bounceEnvelope(report));
    }

    /** AOL's mailer-daemon text, as on AOL's postmaster page, with the original attached. */
    static MimeMessage aolTextBounce(MimeMessage original, String recipient) throws Exception {
        String body = "The following message to <" + recipient + "> was undeliverable.\r\n\r\n"
                + "The reason for the problem:\r\n"
                + "5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND'\r\n\r\n"
                + "Reporting-MTA: dns; mail.example.com\r\n"
                + "Final-Recipient: rfc822;" + recipient + "\r\n"
                + "Action: failed\r\n"
                + "Status: 5.0.0 (permanent failure)\r\n"
                + "Remote-MTA: dns; [1.2.3.3]\r\n\r\n"
                + "Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND' (delivery attempts: 0)\r\n";
        MimeMultipart mixed = new MimeMultipart("mixed");
        MimeBodyPart text = new MimeBodyPart();
        text.setText(body, "us-ascii");
        mixed.addBodyPart(text);
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        original.writeTo(raw);
        mixed.addBodyPart(part(raw.toByteArray(), "message/rfc822"));
        return received(bounceEnvelope(mixed));
    }

    /** A bounce that is one text/plain body (Exim's and qmail's own forms), from the MTA's postmaster. */
    static MimeMessage textBounce(String mailerDaemon, String body) throws Exception {
        MimeMessage m = new MimeMessage(SESSION);
        m.setFrom(new InternetAddress(mailerDaemon));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress("alice@example.com"));
        m.setSubject("failure notice");
        m.setText(body, "us-ascii");
        m.saveChanges();
        return received(m);
    }

    /** The message as a text bounce quotes it, headers and body, after its break line. */
    static String quoted(MimeMessage original) throws Exception {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        original.writeTo(raw);
        return raw.toString(StandardCharsets.US_ASCII);
    }

    static MimeMessage plainMail(String text) throws Exception {
        MimeMessage m = new MimeMessage(SESSION);
        m.setFrom(new InternetAddress("friend@aol.com"));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress("alice@example.com"));
        m.setSubject("lunch?");
        m.setText(text);
        m.saveChanges();
        return received(m);
    }

    static String perMessageFields() {
        return "Reporting-MTA: dns; mx.aol.com\r\nArrival-Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n";
    }

    static String recipientFields(String address, String action, String status, String diagnostic) {
        return "Final-Recipient: rfc822; " + address + "\r\n"
                + "Action: " + action + "\r\n"
                + "Status: " + status + "\r\n"
                + "Remote-MTA: dns; mailin-01.mx.aol.com\r\n"
                + (diagnostic == null ? "" : "Diagnostic-Code: smtp; " + diagnostic + "\r\n")
                + "\r\n";
    }

    private static MimeMessage bounceEnvelope(MimeMultipart content) throws Exception {
        MimeMessage m = new MimeMessage(SESSION);
        m.setFrom(new InternetAddress("MAILER-DAEMON@aol.com"));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress("alice@example.com"));
        m.setSubject("Undelivered Mail Returned to Sender");
        m.setContent(content);
        m.saveChanges();
        return m;
    }

    private static MimeBodyPart part(byte[] bytes, String type) throws Exception {
        MimeBodyPart p = new MimeBodyPart();
        p.setDataHandler(new DataHandler(new ByteArrayDataSource(bytes, type)));
        p.setHeader("Content-Type", type);
        return p;
    }

    static MimeMessage received(MimeMessage m) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.writeTo(out);
        return new MimeMessage(SESSION, new ByteArrayInputStream(out.toByteArray()));
    }
}
