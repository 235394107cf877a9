package org.mailpolicy.james.bounces;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import javax.mail.internet.MimeMessage;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.suppression.SentMessage;
import org.mailpolicy.suppression.SentMessageLedger;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;

/**
 * The inbound half of suppression, without James types: reads a bounce, classifies each reported
 * recipient with the same engine as live replies, and suppresses unknown users only when the
 * bounce is about a message the {@link SentMessageLedger} says we sent to that very recipient.
 * Thread-safe when its collaborators are.
 */
public final class BounceIngestion {
    static final String GAVE_UP = "The server that reported this failure has given up on the recipient (Action: failed),"
            + " so nobody tries again.";

    private final RecipientClassifier classifier;
    private final DirectoryOutageCheck outageCheck;
    private final SuppressionList suppressions;
    private final SentMessageLedger ledger;
    private final Clock clock;

    private BounceIngestion(RecipientClassifier classifier, DirectoryOutageCheck outageCheck,
                            SuppressionList suppressions, SentMessageLedger ledger, Clock clock) {
        this.classifier = classifier;
        this.outageCheck = outageCheck;
        this.suppressions = suppressions;
        this.ledger = ledger;
        this.clock = clock;
    }

    /** Without a directory outage guard: every verified unknown user is suppressed. */
    public static BounceIngestion of(RecipientClassifier classifier, SuppressionList suppressions,
                                     SentMessageLedger ledger, Clock clock) {
        return of(classifier, DirectoryOutageCheck.NONE, suppressions, ledger, clock);
    }

    /**
     * @param classifier  normally the classifier of the recipient's destination in the policy in force
     * @param outageCheck normally the directory outage guard the delivery mailet reviews with, for the
     *                    recipient's destination
     */
    public static BounceIngestion of(RecipientClassifier classifier, DirectoryOutageCheck outageCheck,
                                     SuppressionList suppressions, SentMessageLedger ledger, Clock clock) {
        return new BounceIngestion(Preconditions.checkNotNull(classifier, "classifier"),
                Preconditions.checkNotNull(outageCheck, "outageCheck"),
                Preconditions.checkNotNull(suppressions, "suppressions"), Preconditions.checkNotNull(ledger, "ledger"),
                Preconditions.checkNotNull(clock, "clock"));
    }

    /** The result for {@code message}; empty when it is not a bounce. */
    public Optional<Result> ingest(MimeMessage message) {
        Optional<Bounce> bounce = BounceParser.parse(message);
        return bounce.map(this::ingest);
    }

    public Result ingest(Bounce bounce) {
        Optional<SentMessage> sent = Optional.empty();
        List<String> addresses = bounce.recipients().stream().map(BouncedRecipient::address).collect(Collectors.toList());
        for (String id : bounce.originalMessageIds()) {
            sent = ledger.find(id, addresses);
            if (sent.isPresent()) {
                break;
            }
        }
        ImmutableList.Builder<IngestedRecipient> out = ImmutableList.builder();
        for (BouncedRecipient r : bounce.recipients()) {
            out.add(decide(r, sent));
        }
        return new Result(bounce, sent, out.build());
    }

    private IngestedRecipient decide(BouncedRecipient r, Optional<SentMessage> sent) {
        String address;
        try {
            address = SuppressionEntry.normaliseAddress(r.address());
        } catch (IllegalArgumentException e) {
            return IngestedRecipient.of(r, classify(r, r.address()), IngestedRecipient.Decision.INVALID_ADDRESS);
        }
        Classification c = classify(r, address);
        if (!r.isFailed()) {
            return IngestedRecipient.of(r, c, IngestedRecipient.Decision.NOT_A_FAILURE);
        }
        boolean verified = sent.isPresent() && sent.get().wasSentTo(address);
        if (verified) {
            // Only a bounce about our own message to this recipient is the destination's answer about it: a
            // forged one must not make a destination look broken, nor lift what real answers suppressed.
            Classification believed = outageCheck.review(address, c);
            if (c.action() == Action.SUPPRESS && believed.action() != Action.SUPPRESS) {
                return IngestedRecipient.of(r, believed.asFinalFailure(GAVE_UP),
                        IngestedRecipient.Decision.DIRECTORY_OUTAGE);
            }
        }
        if (c.action() != Action.SUPPRESS) {
            return IngestedRecipient.of(r, c, IngestedRecipient.Decision.RECORDED);
        }
        if (!verified) {
            return IngestedRecipient.of(r, c, IngestedRecipient.Decision.UNVERIFIED);
        }
        boolean added = suppressions.add(SuppressionEntry.of(address, clock.instant(), c.reason(), r.replyText(),
                c.ruleId(), SuppressionEntry.Source.BOUNCE, Optional.of(sent.get().messageId())));
        return IngestedRecipient.of(r, c,
                added ? IngestedRecipient.Decision.SUPPRESSED : IngestedRecipient.Decision.ALREADY_SUPPRESSED);
    }

    /**
     * The rules' reading of the reported reply. A failure report comes after the reporting server
     * has given up: what a live reply would retry or throttle is a bounce here, with its reason
     * (and still never a suppression unless the rules found a definite unknown user).
     */
    private Classification classify(BouncedRecipient r, String address) {
        Classification c = classifier.classify(address, r.reply());
        return r.isFailed() ? c.asFinalFailure(GAVE_UP) : c;
    }

    /** A bounce, the sent message it matched (if any), and a decision per reported recipient. */
    public static final class Result {
        private final Bounce bounce;
        private final Optional<SentMessage> matched;
        private final ImmutableList<IngestedRecipient> recipients;

        Result(Bounce bounce, Optional<SentMessage> matched, List<IngestedRecipient> recipients) {
            this.bounce = bounce;
            this.matched = matched;
            this.recipients = ImmutableList.copyOf(recipients);
        }

        public Bounce bounce() {
            return bounce;
        }

        /**
         * The message of ours the bounce is about, with those of its recipients we sent it to; empty for a
         * forged or unknown one, and for one of ours that names only addresses it did not go to.
         */
        public Optional<SentMessage> matched() {
            return matched;
        }

        public List<IngestedRecipient> recipients() {
            return recipients;
        }

        public long count(IngestedRecipient.Decision decision) {
            return recipients.stream().filter(r -> r.decision() == decision).count();
        }

        @Override
        public String toString() {
            return bounce.form() + " matching " + matched.map(SentMessage::messageId).orElse("no sent message")
                    + ": " + recipients;
        }
    }
}
