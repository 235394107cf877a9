package org.mailpolicy.james.bounces;

import com.google.common.base.Preconditions;
import org.mailpolicy.rules.Classification;

/** What bounce ingestion made of one reported recipient. */
public final class IngestedRecipient {
    /** The decision for one recipient; each is logged and put on the mail. */
    public enum Decision {
        /** An unknown user, in a bounce about a message we sent to that address: added to the list. */
        SUPPRESSED,
        /** As SUPPRESSED, but the address was on the list already (its first entry is kept). */
        ALREADY_SUPPRESSED,
        /**
         * The bounce says unknown user, but names no message we sent to that recipient: a forged or
         * misdirected bounce (or one older than the ledger keeps). Nothing is suppressed.
         */
        UNVERIFIED,
        /**
         * An unknown user, in a bounce about a message we sent to that address, while the recipient's
         * destination answers "user unknown" for an unusual share of recipients (a broken directory, see
         * the directory outage guard): recorded, not suppressed.
         */
        DIRECTORY_OUTAGE,
        /** A failure that is not an unknown user (quota, policy, content...): recorded only. */
        RECORDED,
        /** A delay, relay or delivery report: recorded only. */
        NOT_A_FAILURE,
        /** The Final-Recipient is not a mail address; nothing can be done with it. */
        INVALID_ADDRESS
    }

    private final BouncedRecipient recipient;
    private final Classification classification;
    private final Decision decision;

    private IngestedRecipient(BouncedRecipient recipient, Classification classification, Decision decision) {
        this.recipient = recipient;
        this.classification = classification;
        this.decision = decision;
    }

    public static IngestedRecipient of(BouncedRecipient recipient, Classification classification, Decision decision) {
        return new IngestedRecipient(Preconditions.checkNotNull(recipient, "recipient"),
                Preconditions.checkNotNull(classification, "classification"), Preconditions.checkNotNull(decision, "decision"));
    }

    public BouncedRecipient recipient() {
        return recipient;
    }

    public Classification classification() {
        return classification;
    }

    public Decision decision() {
        return decision;
    }

    @Override
    public String toString() {
        return recipient.address() + " " + decision + " " + classification.action().id() + "/"
                + classification.reason() + " (" + classification.ruleId() + ")";
    }
}
