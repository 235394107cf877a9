package org.mailpolicy.james.dsn;

import com.google.common.collect.ImmutableList;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.mail.MessagingException;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.Mail;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;

/**
 * A report for a mail that reached the bounce processor without the policy's report: a bounce from
 * James's own {@code RemoteDelivery} (for example while both run side by side). It is built from the
 * attributes James's {@code Bouncer} sets, so the sender still gets a proper RFC 3464 report with a
 * real x.y.z status rather than nothing. Every recipient failed: stock James only sends a mail
 * there when it gives up.
 */
final class StockBounceReport {
    static final AttributeName DELIVERY_ERROR = AttributeName.of("delivery-error");
    static final AttributeName DELIVERY_ERROR_CODE = AttributeName.of("delivery-error-code");
    static final AttributeName IS_DELIVERY_PERMANENT_ERROR = AttributeName.of("is-delivery-permanent-error");

    /** "550 5.1.1 text" or "550-5.1.1 text": an SMTP reply, whose enhanced code we can reuse. */
    private static final Pattern SMTP_REPLY = Pattern.compile("^\\s*([245])\\d\\d[ -]((?:[245])\\.\\d{1,3}\\.\\d{1,3})?.*",
            Pattern.DOTALL);
    /** RFC 3463 4.4.7: the message stayed in the queue too long (stock "Too many retries failure"). */
    private static final EnhancedStatus EXPIRED = EnhancedStatus.of(4, 4, 7);

    private StockBounceReport() {
    }

    static DeliveryReport from(Mail mail, String reportingMta, Instant now) throws MessagingException {
        Optional<String> error = stringAttribute(mail, DELIVERY_ERROR);
        if (!error.isPresent() && mail.getErrorMessage() != null) {
            error = Optional.of(mail.getErrorMessage());
        }
        Optional<Integer> code = attribute(mail, DELIVERY_ERROR_CODE, Integer.class);
        Optional<Boolean> permanent = attribute(mail, IS_DELIVERY_PERMANENT_ERROR, Boolean.class);

        Optional<Matcher> reply = error.map(SMTP_REPLY::matcher).filter(Matcher::matches);
        EnhancedStatus status = status(reply, code, permanent);
        ImmutableList.Builder<RecipientReport> recipients = ImmutableList.builder();
        for (MailAddress rcpt : mail.getRecipients()) {
            RecipientReport.Builder r = RecipientReport.builder(rcpt.asString(), DsnAction.FAILED, status)
                    .lastAttempt(mail.getLastUpdated() == null ? now : mail.getLastUpdated().toInstant());
            if (reply.isPresent()) {
                r.diagnostic(error.get());
            } else if (error.isPresent()) {
                // Not a remote reply (a local exception text): it is no Diagnostic-Code, but the
                // sender should still read it.
                r.explanation("The mail server reported: " + error.get());
            }
            recipients.add(r.build());
        }
        return DeliveryReport.of(reportingMta, Optional.empty(), Optional.empty(),
                Optional.ofNullable(mail.getMessage().getMessageID()), recipients.build());
    }

    private static EnhancedStatus status(Optional<Matcher> reply, Optional<Integer> code, Optional<Boolean> permanent) {
        if (reply.isPresent() && reply.get().group(2) != null) {
            EnhancedStatus parsed = EnhancedStatus.parse(reply.get().group(2)).orElse(null);
            if (parsed != null) {
                return parsed;
            }
        }
        Optional<Integer> replyClass = reply.map(m -> Integer.parseInt(m.group(1)));
        if (!replyClass.isPresent()) {
            replyClass = code.map(c -> c / 100).filter(c -> c == 4 || c == 5);
        }
        if (replyClass.isPresent() && replyClass.get() == 5) {
            return EnhancedStatus.of(5, 0, 0);
        }
        if (replyClass.isPresent() || permanent.map(p -> !p).orElse(false)) {
            // A temporary failure James stopped retrying.
            return EXPIRED;
        }
        return EnhancedStatus.of(5, 0, 0);
    }

    private static Optional<String> stringAttribute(Mail mail, AttributeName name) {
        return attribute(mail, name, String.class);
    }

    private static <T> Optional<T> attribute(Mail mail, AttributeName name, Class<T> type) {
        return mail.getAttribute(name)
                .map(Attribute::getValue)
                .map(v -> (Object) v.value())
                .filter(type::isInstance)
                .map(type::cast);
    }
}

