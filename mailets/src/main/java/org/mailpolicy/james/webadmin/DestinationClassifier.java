package org.mailpolicy.james.webadmin;

import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.rules.Classification;

/** Classifies a reply as delivery would: with one destination's rules, or the policy-wide rules when none is named. */
@FunctionalInterface
public interface DestinationClassifier {
    /** Never throws for any reply. */
    Classification classify(Optional<DestinationPolicy> destination, SmtpReply reply);
}
