package org.mailpolicy.james.bounces;

import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.rules.Classification;

/**
 * Classifies the reply a bounce reports for one recipient, with the rules of that recipient's
 * destination: a bounce is read exactly as the same reply received live would be.
 */
@FunctionalInterface
public interface RecipientClassifier {
    /** @param recipient the reported address, normalised; never throws */
    Classification classify(String recipient, SmtpReply reply);
}
