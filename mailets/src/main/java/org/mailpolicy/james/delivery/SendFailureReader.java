package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import com.sun.mail.smtp.SMTPAddressFailedException;
import com.sun.mail.smtp.SMTPSendFailedException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.mail.Address;
import javax.mail.MessagingException;
import javax.mail.SendFailedException;
import javax.mail.internet.InternetAddress;
import org.apache.james.core.MailAddress;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;

/**
 * Reads what JavaMail's exceptions say about an SMTP transaction, as James's {@code EnhancedMessagingException} does
 * for its RemoteDelivery: with {@code mail.smtp.sendpartial=true} each refused recipient's RCPT reply is an
 * {@link SMTPAddressFailedException} down the {@link MessagingException#getNextException()} chain, and the reply that
 * ended the transaction is an {@link SMTPSendFailedException} naming its command and return code.
 */
final class SendFailureReader {

    private SendFailureReader() {
    }

    /**
     * Reads a failed send: JavaMail's valid-sent addresses were accepted (the end-of-data reply was
     * positive), each chained SMTPAddressFailedException is one recipient's own refusal, and an
     * SMTPSendFailedException with a non-positive code is the reply that ended the transaction.
     *
     * @param lastRefusal the last negative reply the server sent, standing in for a reply JavaMail lost ({@code [EOF]})
     */
    static AttemptResult read(List<MailAddress> recipients, SendFailedException e, Optional<SmtpReply> lastRefusal,
                              Optional<String> hostName) {
        Preconditions.checkNotNull(e, "e");
        Map<String, MailAddress> byAddress = new HashMap<>();
        for (MailAddress r : recipients) {
            byAddress.put(r.asString().toLowerCase(Locale.ROOT), r);
        }
        List<MailAddress> delivered = new ArrayList<>();
        if (e.getValidSentAddresses() != null) {
            for (Address a : e.getValidSentAddresses()) {
                MailAddress r = byAddress.get(addressKey(a));
                if (r != null) {
                    delivered.add(r);
                }
            }
        }
        Map<MailAddress, SmtpReply> refused = new LinkedHashMap<>();
        for (Exception next = e; next != null;
             next = next instanceof MessagingException ? ((MessagingException) next).getNextException() : null) {
            if (next instanceof SMTPAddressFailedException) {
                SMTPAddressFailedException f = (SMTPAddressFailedException) next;
                MailAddress r = byAddress.get(addressKey(f.getAddress()));
                if (r != null && !delivered.contains(r)) {
                    refused.putIfAbsent(r, orLastRefusal(SmtpReply.parse(f.getMessage(), Stage.RCPT), lastRefusal));
                }
            }
        }
        Optional<SmtpReply> ended = Optional.empty();
        if (e instanceof SMTPSendFailedException) {
            SMTPSendFailedException s = (SMTPSendFailedException) e;
            if (s.getReturnCode() < 200 || s.getReturnCode() >= 400) {
                ended = Optional.of(SmtpReply.parse(s.getMessage(), stageOf(s.getCommand())));
            }
        }
        if (!ended.isPresent() && delivered.size() + refused.size() < recipients.size()) {
            // Recipients JavaMail neither sent nor refused on their own: its message is all there is.
            ended = Optional.of(orLastRefusal(SmtpReply.parse(describe(e), Stage.UNKNOWN), lastRefusal));
        }
        return AttemptResult.of(recipients, delivered, refused, ended, hostName);
    }

    /** A reply without a code ({@code [EOF]}: the server hung up) stands for the refusal the server sent before. */
    static SmtpReply orLastRefusal(SmtpReply reply, Optional<SmtpReply> lastRefusal) {
        return reply.code().isPresent() || !lastRefusal.isPresent() ? reply : lastRefusal.get().atStage(reply.stage());
    }

    /** The stage of the command JavaMail names in an {@link SMTPSendFailedException}. */
    static Stage stageOf(String command) {
        String c = command == null ? "" : command.trim().toUpperCase(Locale.ROOT);
        if (c.startsWith("MAIL")) {
            return Stage.MAIL;
        }
        if (c.equals("DATA")) {
            return Stage.DATA;
        }
        if (c.equals(".") || c.startsWith("BDAT")) {
            return Stage.END_OF_DATA;
        }
        if (c.startsWith("RCPT")) {
            return Stage.RCPT;
        }
        return Stage.UNKNOWN;
    }

    /** The failure's messages down the cause chain, for failures that carry no SMTP reply. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = e; t != null && seen.add(t); t = next(t)) {
            String m = t.getMessage();
            String text = t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(text);
        }
        return sb.toString();
    }

    /** JavaMail chains by {@code getNextException}, everything else by {@code getCause}. */
    private static Throwable next(Throwable t) {
        if (t instanceof MessagingException && ((MessagingException) t).getNextException() != null) {
            return ((MessagingException) t).getNextException();
        }
        return t.getCause();
    }

    private static String addressKey(Address a) {
        String s = a instanceof InternetAddress ? ((InternetAddress) a).getAddress() : String.valueOf(a);
        return s == null ? "" : s.toLowerCase(Locale.ROOT);
    }
}
