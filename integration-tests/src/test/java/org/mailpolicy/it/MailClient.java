package org.mailpolicy.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import javax.mail.Address;
import javax.mail.Folder;
import javax.mail.Message;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.Store;
import javax.mail.Transport;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;

import com.sun.mail.smtp.SMTPMessage;

/** A user of the James under test: sends through its SMTP port, reads a mailbox over IMAP. */
final class MailClient {
    private final int smtpPort;
    private final int imapPort;

    MailClient(int smtpPort, int imapPort) {
        this.smtpPort = smtpPort;
        this.imapPort = imapPort;
    }

    /** Sends a small text mail from {@code from} (the envelope sender too) to {@code recipients}; returns its Message-ID. */
    String send(String from, String subject, String body, String... recipients) throws MessagingException {
        MimeMessage message = compose(from, subject, body, recipients);
        send(message, from);
        return message.getMessageID();
    }

    /** Sends with the null reverse path {@code MAIL FROM:<>}, as James does for a DSN. */
    String sendWithNullSender(String headerFrom, String subject, String body, String... recipients) throws MessagingException {
        MimeMessage message = compose(headerFrom, subject, body, recipients);
        send(message, "<>");
        return message.getMessageID();
    }

    MimeMessage compose(String from, String subject, String body, String... recipients) throws MessagingException {
        MimeMessage message = new MimeMessage(session());
        message.setFrom(new InternetAddress(from));
        for (String recipient : recipients) {
            message.addRecipient(Message.RecipientType.TO, new InternetAddress(recipient));
        }
        message.setSubject(subject);
        message.setText(body, "UTF-8");
        message.saveChanges();
        return message;
    }

    void send(MimeMessage message, String envelopeFrom) throws MessagingException {
        SMTPMessage envelope = new SMTPMessage(message);
        envelope.setEnvelopeFrom(envelopeFrom);
        Address[] recipients = message.getAllRecipients();
        try (Transport transport = session().getTransport("smtp")) {
            transport.connect("127.0.0.1", smtpPort, null, null);
            transport.sendMessage(envelope, recipients);
        }
    }

    /** Every message in the user's INBOX, fully read (detached from the IMAP connection). */
    List<MimeMessage> inbox(String user, String password) throws MessagingException {
        Store store = session().getStore("imap");
        store.connect("127.0.0.1", imapPort, user, password);
        try {
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                List<MimeMessage> copies = new ArrayList<>();
                for (Message message : inbox.getMessages()) {
                    copies.add(new MimeMessage((MimeMessage) message));
                }
                return copies;
            } finally {
                inbox.close(false);
            }
        } finally {
            store.close();
        }
    }

    private static Session session() {
        Properties properties = new Properties();
        properties.setProperty("mail.smtp.connectiontimeout", "10000");
        properties.setProperty("mail.smtp.timeout", "30000");
        properties.setProperty("mail.smtp.localhost", "client.sandbox.test");
        properties.setProperty("mail.imap.connectiontimeout", "10000");
        properties.setProperty("mail.imap.timeout", "30000");
        return Session.getInstance(properties);
    }
}
