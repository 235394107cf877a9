package org.mailpolicy.james.suppression;

import com.google.common.base.Preconditions;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;
import org.mailpolicy.suppression.SuppressionEntry;

/**
 * The per-recipient report for a recipient the server did not even try, because the address is
 * suppressed: when and why it was suppressed, and how an administrator lifts it.
 */
final class SuppressionNotice {
    /** RFC 3463: bad destination mailbox address; the reason the address was suppressed. */
    static final EnhancedStatus STATUS = EnhancedStatus.of(5, 1, 1);
    static final String DEFAULT_REASON = "userunknown";
    /** The WebAdmin route that removes an entry; {@code {address}} is replaced. */
    static final String REMOVAL_ROUTE = "DELETE /delivery-policy/suppressions/{address}";
    private static final DateTimeFormatter WHEN =
            DateTimeFormatter.ofPattern("EEE d MMM yyyy HH:mm 'UTC'", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    private SuppressionNotice() {
    }

    static RecipientReport forEntry(String recipient, SuppressionEntry entry) {
        Preconditions.checkNotNull(entry, "entry");
        String reason = entry.reason().trim().isEmpty() ? DEFAULT_REASON : entry.reason().trim();
        RecipientReport.Builder r = RecipientReport.builder(recipient, DsnAction.FAILED, STATUS)
                .reason(reason)
                .ruleId(entry.ruleId())
                .explanation("This address has been on this server's suppression list since "
                        + WHEN.format(entry.since()) + ", because " + how(entry.source())
                        + " (" + reason + "). The server no longer sends to it, so it did not try to deliver "
                        + "this message; no connection was made.")
                .remedy("Check the address. If it is correct and the mailbox exists again, ask the mail "
                        + "administrator to remove it from the suppression list (WebAdmin: "
                        + REMOVAL_ROUTE.replace("{address}", entry.address()) + "), then send the message again.");
        if (!entry.reply().trim().isEmpty()) {
            r.diagnostic(entry.reply());
        }
        return r.build();
    }

    private static String how(SuppressionEntry.Source source) {
        switch (source) {
            case LIVE_REPLY:
                return "a receiving server said during an earlier delivery that the mailbox does not exist";
            case BOUNCE:
                return "a bounce message received for an earlier message said the mailbox does not exist";
            case MANUAL:
                return "an administrator added it";
            default:
                throw new AssertionError(source);
        }
    }
}
