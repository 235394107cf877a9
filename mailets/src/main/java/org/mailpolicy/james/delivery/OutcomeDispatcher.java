package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import javax.mail.MessagingException;
import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.queue.api.MailQueue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.mailpolicy.decision.AttemptDecision;
import org.mailpolicy.decision.RecipientDecision;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.dsn.DeliveryReportBuilder;
import org.mailpolicy.james.dsn.NotifyRequests;
import org.mailpolicy.james.metrics.DeliveryMetrics;
import org.mailpolicy.james.parking.ParkedAttribute;
import org.mailpolicy.james.parking.ParkingLot;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.schedule.AttemptHistory;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.suppression.SentMessage;
import org.mailpolicy.suppression.SentMessageLedger;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one attempt's decisions to James: re-queues the recipients that wait (one copy per
 * next-attempt instant, carrying the new history), sends the sender's reports (final failures, the
 * one delay warning, "relayed" for a NOTIFY=SUCCESS the next hop could not take) to the bounce
 * processor as mails holding a report ({@link DeliveryReportBuilder} writes it), records
 * suppressions and the delivered recipients. Each follow-up is stored before this returns; any
 * failure to store one is thrown, so the caller leaves the dequeued mail unacknowledged.
 */
final class OutcomeDispatcher {
    private static final Logger LOGGER = LoggerFactory.getLogger(OutcomeDispatcher.class);

    private final MailQueue queue;
    private final MailetContext context;
    private final String bounceProcessor;
    private final Optional<String> onSuccessProcessor;
    private final String reportingMta;
    private final SuppressionList suppressions;
    private final SentMessageLedger sentMessages;
    private final DeliveryMetrics metrics;
    /** Present with {@code waits: in: parked}: mail that waits is parked there, not queued with a delay. */
    private final Optional<ParkingLot> parking;

    OutcomeDispatcher(MailQueue queue, MailetContext context, String bounceProcessor, Optional<String> onSuccessProcessor,
                      String reportingMta, SuppressionList suppressions, SentMessageLedger sentMessages,
                      DeliveryMetrics metrics) {
        this(queue, context, bounceProcessor, onSuccessProcessor, reportingMta, suppressions, sentMessages, metrics,
                Optional.empty());
    }

    OutcomeDispatcher(MailQueue queue, MailetContext context, String bounceProcessor, Optional<String> onSuccessProcessor,
                      String reportingMta, SuppressionList suppressions, SentMessageLedger sentMessages,
                      DeliveryMetrics metrics, Optional<ParkingLot> parking) {
        this.parking = Preconditions.checkNotNull(parking, "parking");
        this.queue = Preconditions.checkNotNull(queue, "queue");
        this.context = Preconditions.checkNotNull(context, "context");
        this.bounceProcessor = Preconditions.checkNotNull(bounceProcessor, "bounceProcessor");
        this.onSuccessProcessor = Preconditions.checkNotNull(onSuccessProcessor, "onSuccessProcessor");
        this.reportingMta = Preconditions.checkNotNull(reportingMta, "reportingMta");
        this.suppressions = Preconditions.checkNotNull(suppressions, "suppressions");
        this.sentMessages = Preconditions.checkNotNull(sentMessages, "sentMessages");
        this.metrics = Preconditions.checkNotNull(metrics, "metrics");
    }

    /** Not admitted (held, busy, rate-limited): the mail waits, its history unchanged; no attempt counted. */
    void postpone(Mail mail, DestinationKey key, AttemptHistory history, Instant until, Instant now, String why)
            throws MessagingException {
        requeue(mail, key, mail.getRecipients(), history, until, now, why);
    }

    /** Applies every decision of the attempt; {@code key} is the destination state's key (aol, example.org). */
    void dispatch(Mail mail, DestinationKey key, DestinationPolicy destination, AttemptResult result,
                  AttemptDecision decision, Instant now) throws MessagingException {
        Optional<String> messageId = messageId(mail);
        // Suppressions first: if the store fails, nothing else is stored yet and the redelivery repeats nothing.
        for (MailAddress r : result.recipients()) {
            RecipientDecision d = decision.decisionFor(r.asString());
            if (d.kind() == RecipientDecision.Kind.SUPPRESS) {
                suppress(r, d.classification().get(), messageId, now);
            }
        }
        List<MailAddress> delivered = select(result, decision, RecipientDecision.Kind.DELIVERED);
        if (!delivered.isEmpty()) {
            recordDelivered(mail, messageId, delivered, now);
            // RFC 3461 6.2.2: a NOTIFY=SUCCESS the next hop could not take is answered here, with "relayed".
            // A server that advertised DSN got the NOTIFY and reports itself; the null sender is never told.
            if (mail.hasSender() && !result.nextHopSupportsDsn()) {
                List<MailAddress> wanting = wanting(mail, delivered, DsnAction.RELAYED);
                if (!wanting.isEmpty()) {
                    sendRelayedReport(mail, wanting, result, decision.nextHistory(), messageId, now);
                }
            }
        }

        AttemptHistory nextHistory = decision.nextHistory();
        List<MailAddress> retried = new ArrayList<>();
        for (MailAddress r : result.recipients()) {
            if (decision.decisionFor(r.asString()).willRetry()) {
                retried.add(r);
            }
        }
        if (decision.delayWarningDue() && !retried.isEmpty()) {
            // Marked even when nobody asked for a warning: the question is asked once per message.
            nextHistory = nextHistory.withDelayWarningSent();
            // Also those who did not say: RFC 3461 leaves delay notices to the MTA, and we tell them.
            List<MailAddress> wanting = wanting(mail, retried, DsnAction.DELAYED);
            if (!wanting.isEmpty() && mail.hasSender()) {
                sendReport(mail, wanting, result, decision, DsnAction.DELAYED, nextHistory, messageId, now);
            }
        }
        // One copy per next-attempt instant: a rule's retry hint may set one recipient apart.
        Map<Instant, List<MailAddress>> byInstant = new TreeMap<>();
        for (MailAddress r : retried) {
            Instant at = decision.decisionFor(r.asString()).nextAttempt().get();
            byInstant.computeIfAbsent(at, k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<Instant, List<MailAddress>> e : byInstant.entrySet()) {
            requeue(mail, key, e.getValue(), nextHistory, e.getKey(), now, "retry after a failed attempt");
        }

        List<MailAddress> failed = new ArrayList<>();
        for (MailAddress r : result.recipients()) {
            RecipientDecision d = decision.decisionFor(r.asString());
            if (d.isFinalFailure()) {
                failed.add(r);
            }
        }
        if (!failed.isEmpty()) {
            // Null-sender mail too: the DSN mailet files its report in the error repository, never drops it.
            sendReport(mail, failed, result, decision, DsnAction.FAILED, nextHistory, messageId, now);
        }
    }

    private static List<MailAddress> select(AttemptResult result, AttemptDecision decision, RecipientDecision.Kind kind) {
        List<MailAddress> out = new ArrayList<>();
        for (MailAddress r : result.recipients()) {
            if (decision.decisionFor(r.asString()).kind() == kind) {
                out.add(r);
            }
        }
        return out;
    }

    private void recordDelivered(Mail mail, Optional<String> messageId, List<MailAddress> delivered, Instant now)
            throws MessagingException {
        if (messageId.isPresent()) {
            List<String> addresses = new ArrayList<>();
            for (MailAddress r : delivered) {
                addresses.add(r.asString());
            }
            try {
                sentMessages.record(SentMessage.of(messageId.get(), addresses, now));
            } catch (RuntimeException e) {
                // The ledger only makes later bounces trustworthy; losing one record must not resend the mail.
                LOGGER.warn("Could not record sent message {} of mail {}: {}", messageId.get(), mail.getName(), e.toString());
            }
        }
        if (onSuccessProcessor.isPresent()) {
            Mail copy = mail.duplicate();
            try {
                copy.setRecipients(delivered);
                copy.removeAttribute(HistoryAttribute.NAME);
                context.sendMail(copy, onSuccessProcessor.get());
            } finally {
                LifecycleUtil.dispose(copy);
            }
        }
    }

    /**
     * Puts a copy of the mail with only {@code recipients} back on the queue, due at {@code at}: parked for
     * {@code key} until then when the policy parks waits ({@link ParkingLot}) and {@code at} is later than now,
     * else on the queue with the delay.
     */
    void requeue(Mail mail, DestinationKey key, java.util.Collection<MailAddress> recipients, AttemptHistory history,
                 Instant at, Instant now, String why) throws MessagingException {
        Mail copy = mail.duplicate();
        try {
            copy.setName(history.messageKey() + "-" + UUID.randomUUID().toString().substring(0, 8));
            copy.setRecipients(new ArrayList<>(recipients));
            copy.setAttribute(HistoryAttribute.of(history));
            // A new mail: it must not pass for the released copy it was made from (that one is finished after this).
            ParkedAttribute.remove(copy);
            if (parking.isPresent() && at.isAfter(now)) {
                parking.get().park(copy, key, at, why);
            } else {
                enqueue(queue, copy, Duration.between(now, at));
            }
        } finally {
            LifecycleUtil.dispose(copy);
        }
    }

    /**
     * Puts a mail on the queue, due after {@code delay}; a mail due now (zero or negative delay) goes through
     * {@link MailQueue#enQueue(Mail)}, as stock RemoteDelivery queues new mail. Not {@code enQueue(mail, Duration.ZERO)}:
     * James's JMS queue (ActiveMQ, the JPA app's) stamps that "due at this millisecond", and its consumer already
     * waiting holds a selector fixed when it began waiting (up to 10 s), so the mail would sit out that wait; without
     * a delay it is due at once for any consumer.
     */
    static void enqueue(MailQueue queue, Mail mail, Duration delay) throws MailQueue.MailQueueException {
        if (delay.isNegative() || delay.isZero()) {
            queue.enQueue(mail);
        } else {
            queue.enQueue(mail, delay);
        }
    }

    private void suppress(MailAddress r, Classification c, Optional<String> messageId, Instant now) {
        SuppressionEntry entry;
        try {
            entry = SuppressionEntry.of(r.asString(), now, c.reason(), c.reply().raw(), c.ruleId(),
                    SuppressionEntry.Source.LIVE_REPLY, messageId);
        } catch (IllegalArgumentException e) {
            // An address SMTP accepts but the list does not (a quoted local part): bounce it, do not retry forever.
            LOGGER.warn("Recipient {} cannot be suppressed: {}", r.asString(), e.getMessage());
            return;
        }
        if (suppressions.add(entry)) {
            metrics.suppressionAdded(SuppressionEntry.Source.LIVE_REPLY);
            LOGGER.info("suppressed recipient={} reason={} rule={}", r.asString(), c.reason(), c.ruleId());
        }
    }

    private void sendReport(Mail mail, List<MailAddress> recipients, AttemptResult result, AttemptDecision decision,
                            DsnAction action, AttemptHistory history, Optional<String> messageId, Instant now)
            throws MessagingException {
        DeliveryReportBuilder report = DeliveryReportBuilder.forMail(mail, reportingMta, history.firstQueued(), messageId, now);
        for (MailAddress r : recipients) {
            report.failedOrDelayed(r.asString(), action, decision.decisionFor(r.asString()), result.remoteHost(),
                    decision.expiresAt());
        }
        send(mail, recipients, action, report, history);
    }

    /** A successful delivery to a next hop that does not report it itself, reported as {@code relayed}. */
    private void sendRelayedReport(Mail mail, List<MailAddress> recipients, AttemptResult result,
                                   AttemptHistory history, Optional<String> messageId, Instant now)
            throws MessagingException {
        DeliveryReportBuilder report = DeliveryReportBuilder.forMail(mail, reportingMta, history.firstQueued(), messageId, now);
        for (MailAddress r : recipients) {
            report.relayed(r.asString(), result.remoteHost(), result.acceptedReply(r));
        }
        send(mail, recipients, DsnAction.RELAYED, report, history);
    }

    /** Hands a report on {@code recipients} to the bounce processor, which writes the DSN. */
    private void send(Mail mail, List<MailAddress> recipients, DsnAction action, DeliveryReportBuilder report,
                      AttemptHistory history) throws MessagingException {
        Mail reportMail = mail.duplicate();
        try {
            reportMail.setName(history.messageKey() + "-" + action.id() + "-" + UUID.randomUUID().toString().substring(0, 8));
            reportMail.setRecipients(recipients);
            reportMail.removeAttribute(HistoryAttribute.NAME);
            reportMail.setAttribute(report.buildAttribute());
            context.sendMail(reportMail, bounceProcessor);
            metrics.dsnSent(action);
        } finally {
            LifecycleUtil.dispose(reportMail);
        }
    }

    /** The recipients whose NOTIFY (or the RFC 3461 default when they gave none) asks to hear of {@code action}. */
    private static List<MailAddress> wanting(Mail mail, List<MailAddress> recipients, DsnAction action) {
        NotifyRequests requests = NotifyRequests.of(mail);
        List<MailAddress> out = new ArrayList<>();
        for (MailAddress r : recipients) {
            if (requests.wants(r.asString(), action)) {
                out.add(r);
            }
        }
        return out;
    }

    static Optional<String> messageId(Mail mail) {
        try {
            return Optional.ofNullable(mail.getMessage()).map(m -> {
                try {
                    return m.getMessageID();
                } catch (MessagingException e) {
                    return null;
                }
            });
        } catch (MessagingException e) {
            return Optional.empty();
        }
    }
}
