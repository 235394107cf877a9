package org.mailpolicy.james.dsn;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Instant;
import java.util.Optional;
import org.apache.mailet.Attribute;
import org.apache.mailet.Mail;
import org.mailpolicy.decision.RecipientDecision;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;
import org.mailpolicy.rules.Classification;

/**
 * Builds the {@link DeliveryReport} that one delivery attempt's outcomes give the sender (failed, delayed, relayed), with
 * what the sender asked for in RFC 3461 (ORCPT, ENVID) read from the mail, and hands it over as the
 * {@link ReportAttribute} {@link PolicyDsnBounce} writes the DSN from.
 */
public final class DeliveryReportBuilder {
    /** Said to the sender of a suppressing DSN, so the next bounce for the address is no surprise. */
    static final String SUPPRESSED_NOTE = " This server will not try the address again: later mail to it is"
            + " returned at once, without contacting the receiver, until an administrator removes it from the"
            + " suppression list.";

    private final String reportingMta;
    private final Instant arrival;
    private final Optional<String> messageId;
    private final Instant lastAttempt;
    private final NotifyRequests requests;
    private final ImmutableList.Builder<RecipientReport> recipients = ImmutableList.builder();

    private DeliveryReportBuilder(String reportingMta, Instant arrival, Optional<String> messageId, Instant lastAttempt,
                                  NotifyRequests requests) {
        this.reportingMta = Preconditions.checkNotNull(reportingMta, "reportingMta");
        this.arrival = Preconditions.checkNotNull(arrival, "arrival");
        this.messageId = Preconditions.checkNotNull(messageId, "messageId");
        this.lastAttempt = Preconditions.checkNotNull(lastAttempt, "lastAttempt");
        this.requests = Preconditions.checkNotNull(requests, "requests");
    }

    /**
     * @param arrival     when the mail was first queued
     * @param lastAttempt when the attempt reported on ended
     */
    public static DeliveryReportBuilder forMail(Mail mail, String reportingMta, Instant arrival, Optional<String> messageId,
                                                Instant lastAttempt) {
        return new DeliveryReportBuilder(reportingMta, arrival, messageId, lastAttempt, NotifyRequests.of(mail));
    }

    /**
     * A recipient that failed for good or waits ({@code action} FAILED or DELAYED), as its decision and the reply's
     * classification say.
     *
     * @param willRetryUntil when the mail expires; written for a delay only
     */
    public DeliveryReportBuilder failedOrDelayed(String recipient, DsnAction action, RecipientDecision decision,
                                                 Optional<String> remoteMta, Instant willRetryUntil) {
        Preconditions.checkArgument(action == DsnAction.FAILED || action == DsnAction.DELAYED,
                "failed or delayed, not %s", action);
        Classification c = decision.classification().get();
        boolean delayed = action == DsnAction.DELAYED;
        RecipientReport.Builder b = RecipientReport.builder(recipient, action,
                        delayed ? c.dsnStatus() : decision.dsnStatus().get())
                .diagnostic(c.reply().raw())
                .lastAttempt(lastAttempt)
                .reason(delayed ? c.reason() : decision.reason().get())
                .ruleId(c.ruleId())
                .explanation(c.explanation())
                .remedy(decision.kind() == RecipientDecision.Kind.SUPPRESS ? c.remedy() + SUPPRESSED_NOTE : c.remedy());
        remoteMta.ifPresent(b::remoteMta);
        requests.originalRecipient(recipient).ifPresent(b::originalRecipient);
        if (delayed) {
            b.willRetryUntil(willRetryUntil);
        }
        recipients.add(b.build());
        return this;
    }

    /**
     * A recipient delivered to a server that does not report delivery itself (RFC 3461 6.2.2): {@code relayed}, no
     * classification, nothing for the sender to do.
     *
     * @param acceptedReply the reply that accepted the message, if it was read
     */
    public DeliveryReportBuilder relayed(String recipient, Optional<String> remoteMta, Optional<String> acceptedReply) {
        RecipientReport.Builder b = RecipientReport.builder(recipient, DsnAction.RELAYED, EnhancedStatus.of(2, 0, 0))
                .lastAttempt(lastAttempt)
                .explanation(relayedExplanation(remoteMta));
        // Only a reply the server sent: a DSN writes the diagnostic as "smtp; <reply>" (RFC 3464 2.3.6).
        acceptedReply.ifPresent(b::diagnostic);
        remoteMta.ifPresent(b::remoteMta);
        requests.originalRecipient(recipient).ifPresent(b::originalRecipient);
        recipients.add(b.build());
        return this;
    }

    private static String relayedExplanation(Optional<String> host) {
        return "The message was delivered to the recipient's mail server" + host.map(h -> " (" + h + ")").orElse("")
                + ", which does not report delivery itself; this is the last report you will get for this recipient.";
    }

    public DeliveryReport build() {
        return DeliveryReport.of(reportingMta, Optional.of(arrival), requests.envelopeId(), messageId, recipients.build());
    }

    /** The report as the mail attribute the bounce processor reads. */
    public Attribute buildAttribute() {
        return ReportAttribute.of(build());
    }
}
