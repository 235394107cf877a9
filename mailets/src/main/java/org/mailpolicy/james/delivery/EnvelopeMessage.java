package org.mailpolicy.james.delivery;

import com.sun.mail.smtp.SMTPMessage;
import com.sun.mail.smtp.SMTPTransport;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import javax.mail.Address;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.internet.MimeMessage;
import org.apache.james.core.MailAddress;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.Mail;
import org.mailpolicy.james.dsn.NotifyRequests;

/**
 * The message as JavaMail sends it, with this mail's envelope on it: the envelope sender, and the
 * RFC 3461 parameters RET, ENVID (MAIL FROM) and NOTIFY (RCPT TO, per group of recipients). They are
 * set on the message, not on the JavaMail session, because one connection carries mail of many senders.
 *
 * <p>JavaMail reads them only from an {@link SMTPMessage}, and its copy constructor writes the whole
 * message out and parses it again: a fifth of the delivery threads' time in a profile of the overhead
 * benchmark, for each mail. So this is an SMTPMessage that carries only the envelope and writes the
 * mail's own message when JavaMail sends its data. {@link SMTPTransport#sendMessage} reads nothing else
 * of it but the subject and From (for its logging, and for a sender when the envelope has none),
 * which come from the mail's message too. Stock RemoteDelivery sends the mail's message as it is as well.
 */
final class EnvelopeMessage extends SMTPMessage {
    /** The session of the envelope alone; the connection's own session sends it. */
    private static final Session ENVELOPE_ONLY = Session.getInstance(new Properties());

    private final MimeMessage content;

    private EnvelopeMessage(MimeMessage content) {
        super(ENVELOPE_ONLY);
        this.content = content;
    }

    /** The mail's message with its envelope sender ({@code <>} for the null sender) and RET/ENVID, as {@code transport} takes them. */
    static SMTPMessage of(Mail mail, MimeMessage original, SMTPTransport transport) throws MessagingException {
        SMTPMessage message = new EnvelopeMessage(original);
        // "<>" for the null sender: JavaMail replaces an empty envelope sender with the message's From header.
        message.setEnvelopeFrom(mail.getMaybeSender().asOptional().map(MailAddress::asString).orElse("<>"));
        if (mail.dsnParameters().isPresent()) {
            NotifyRequests requests = NotifyRequests.of(mail);
            requests.ret().ifPresent(ret ->
                    message.setReturnOption(ret == DsnParameters.Ret.HDRS ? SMTPMessage.RETURN_HDRS : SMTPMessage.RETURN_FULL));
            if (transport.supportsExtension("DSN")) {
                requests.envelopeId().ifPresent(envId -> message.setMailExtension("ENVID=" + envId));
            }
        }
        return message;
    }

    @Override
    public void writeTo(OutputStream os) throws IOException, MessagingException {
        content.writeTo(os);
    }

    @Override
    public void writeTo(OutputStream os, String[] ignoreList) throws IOException, MessagingException {
        content.writeTo(os, ignoreList);
    }

    @Override
    public String getSubject() throws MessagingException {
        return content.getSubject();
    }

    @Override
    public Address[] getFrom() throws MessagingException {
        return content.getFrom();
    }

    @Override
    public String getMessageID() throws MessagingException {
        return content.getMessageID();
    }

    /** {@code message} for the recipients that asked for {@code notify} (none: no NOTIFY parameter). */
    static SMTPMessage forNotify(SMTPMessage message, Optional<Integer> notify) {
        message.setNotifyOptions(notify.orElse(0));
        return message;
    }

    /** Recipients by the NOTIFY option they asked for (empty: none), in recipient order. */
    static Map<Optional<Integer>, List<MailAddress>> notifyGroups(Mail mail, List<MailAddress> recipients) {
        NotifyRequests requests = NotifyRequests.of(mail);
        Map<Optional<Integer>, List<MailAddress>> groups = new LinkedHashMap<>();
        for (MailAddress r : recipients) {
            Optional<Integer> notify = requests.notify(r.asString()).map(EnvelopeMessage::toJavaxNotify);
            groups.computeIfAbsent(notify, k -> new ArrayList<>()).add(r);
        }
        return groups;
    }

    private static int toJavaxNotify(EnumSet<DsnParameters.Notify> notify) {
        int n = 0;
        for (DsnParameters.Notify each : notify) {
            switch (each) {
                case NEVER:
                    n |= SMTPMessage.NOTIFY_NEVER;
                    break;
                case SUCCESS:
                    n |= SMTPMessage.NOTIFY_SUCCESS;
                    break;
                case FAILURE:
                    n |= SMTPMessage.NOTIFY_FAILURE;
                    break;
                case DELAY:
                    n |= SMTPMessage.NOTIFY_DELAY;
                    break;
                default:
                    break;
            }
        }
        return n;
    }
}
