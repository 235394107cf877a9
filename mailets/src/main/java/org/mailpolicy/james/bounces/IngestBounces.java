package org.mailpolicy.james.bounces;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.annotations.VisibleForTesting;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import javax.inject.Inject;
import javax.mail.MessagingException;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.mailpolicy.decision.AttemptOutcome;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.delivery.DirectoryOutageResponse;
import org.mailpolicy.james.metrics.DeliveryMetrics;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.yaml.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads bounces arriving for local senders (place it on the inbound path, for example with
 * {@code match="RecipientIsLocal"}), classifies each reported recipient with the policy's rules,
 * and suppresses unknown users, but only when the bounce is about a message this server sent to
 * that recipient (the sent-message ledger the delivery mailet keeps): a forged bounce cannot
 * poison the list. Such a bounce also feeds the directory outage guard of the recipient's
 * destination, as live replies do: while a destination answers "user unknown" for an unusual share
 * of recipients, its unknown-user bounces are recorded (decision {@code directory_outage}), not
 * suppressed. Everything else is logged and described in the mail attribute
 * {@value #ATTRIBUTE} (JSON). The mail itself goes on unchanged: the sender still gets the bounce.
 *
 * <pre>
 * &lt;mailet match="RecipientIsLocal" class="org.mailpolicy.james.bounces.IngestBounces"&gt;
 *   &lt;policy&gt;conf/delivery-policy.yaml&lt;/policy&gt;          required, as for the delivery mailet
 *   &lt;ledgerRetention&gt;14d&lt;/ledgerRetention&gt;              optional: how long sent messages are remembered
 * &lt;/mailet&gt;
 * </pre>
 */
public final class IngestBounces extends GenericMailet {
    public static final String ATTRIBUTE = "org.mailpolicy.bounce";
    static final Duration DEFAULT_RETENTION = Duration.ofDays(14);
    /** Pruning is a DELETE over an index: once an hour is plenty. */
    static final Duration PRUNE_EVERY = Duration.ofHours(1);
    private static final Logger LOGGER = LoggerFactory.getLogger(IngestBounces.class);

    private final DeliveryMetrics metrics;
    private final ObjectMapper json = new ObjectMapper();
    private PolicyRuntime runtime;
    private BounceIngestion ingestion;
    private Duration retention;
    // Mailets run on several threads; a race costs one extra prune, nothing more.
    private volatile Instant lastPrune = Instant.MIN;

    @Inject
    public IngestBounces(MetricFactory metricFactory) {
        this.metrics = DeliveryMetrics.of(metricFactory);
    }

    @Override
    public void init() throws MessagingException {
        String policy = getInitParameter("policy");
        if (policy == null || policy.trim().isEmpty()) {
            throw new MessagingException(getMailetName() + ": parameter <policy> is required (the delivery policy file)");
        }
        String retentionText = getInitParameter("ledgerRetention");
        try {
            retention = retentionText == null ? DEFAULT_RETENTION : Durations.parse(retentionText);
        } catch (IllegalArgumentException e) {
            throw new MessagingException(getMailetName() + ": parameter <ledgerRetention>: " + e.getMessage(), e);
        }
        runtime = PolicyRuntime.forPolicyFile(policy);
        PolicyRuntime rt = runtime;
        DirectoryOutageResponse outages = new DirectoryOutageResponse(rt.directoryOutages(), rt.suppressions(), metrics);
        ingestion = BounceIngestion.of(
                (recipient, reply) -> rt.classifierFor(rt.policy().forRecipientDomain(SuppressionEntry.domainOf(recipient)))
                        .classify(reply),
                (recipient, classification) -> reviewForOutage(outages, rt, recipient, classification),
                rt.suppressions(), rt.sentMessages(), rt.clock());
    }

    /**
     * One bounced recipient, as a one-recipient outcome, through the guard the delivery mailet reviews
     * with (the runtime's), under the key its delivery had: the destination's name, or for the default
     * destination the recipient's domain. (Behind the delivery mailet's gateway, where live answers all
     * count under {@code default}, bounces still count per domain: this mailet does not know the gateway.)
     */
    private static Classification reviewForOutage(DirectoryOutageResponse outages, PolicyRuntime rt, String recipient,
                                                  Classification classification) {
        String domain = SuppressionEntry.domainOf(recipient);
        DestinationPolicy destination = rt.policy().forRecipientDomain(domain);
        DestinationKey key = DestinationKey.forDelivery(destination, domain, false);
        AttemptOutcome reviewed = outages.review(key, destination,
                AttemptOutcome.builder().failed(recipient, classification).build(), rt.clock().instant(),
                DirectoryOutageResponse.Source.BOUNCE);
        return reviewed.failure(recipient).orElse(classification);
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        pruneIfDue();
        Optional<BounceIngestion.Result> result = ingestion.ingest(mail.getMessage());
        if (!result.isPresent()) {
            return;
        }
        BounceIngestion.Result r = result.get();
        for (IngestedRecipient ir : r.recipients()) {
            if (ir.decision() == IngestedRecipient.Decision.SUPPRESSED) {
                metrics.suppressionAdded(SuppressionEntry.Source.BOUNCE);
            }
            LOGGER.info("bounce ingested mail={} form={} matched={} recipient={} decision={} action={} rule={} reason={} reply={}",
                    mail.getName(), r.bounce().form(), r.matched().map(m -> "<" + m.messageId() + ">").orElse("-"),
                    quoted(ir.recipient().address()), ir.decision(), ir.classification().action().id(),
                    ir.classification().ruleId(), ir.classification().reason(), quoted(ir.recipient().replyText()));
        }
        mail.setAttribute(new Attribute(AttributeName.of(ATTRIBUTE), AttributeValue.of(describe(r))));
    }

    private void pruneIfDue() {
        Instant now = runtime.clock().instant();
        if (Duration.between(lastPrune, now).compareTo(PRUNE_EVERY) < 0) {
            return;
        }
        lastPrune = now;
        try {
            int pruned = runtime.sentMessages().pruneSentBefore(now.minus(retention));
            if (pruned > 0) {
                LOGGER.info("sent-message ledger: forgot {} recipient records older than {}", pruned, retention);
            }
        } catch (RuntimeException e) {
            // Pruning is housekeeping: a failure must not stop bounces from being read.
            LOGGER.warn("sent-message ledger could not be pruned", e);
        }
    }

    @VisibleForTesting
    String describe(BounceIngestion.Result r) {
        ObjectNode node = json.createObjectNode();
        node.put("form", r.bounce().form().name().toLowerCase(java.util.Locale.ROOT));
        node.put("matchedMessageId", r.matched().map(m -> m.messageId()).orElse(null));
        ArrayNode recipients = node.putArray("recipients");
        for (IngestedRecipient ir : r.recipients()) {
            ObjectNode one = recipients.addObject();
            one.put("recipient", ir.recipient().address());
            one.put("decision", ir.decision().name().toLowerCase(java.util.Locale.ROOT));
            one.put("action", ir.classification().action().id());
            one.put("reason", ir.classification().reason());
            one.put("rule", ir.classification().ruleId());
            one.put("status", ir.recipient().status().orElse(null));
            one.put("reply", ir.recipient().replyText());
        }
        try {
            return json.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON tree", e);
        }
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Override
    public String getMailetInfo() {
        return "Delivery policy: ingests bounces, suppressing unknown users of messages this server sent";
    }
}
