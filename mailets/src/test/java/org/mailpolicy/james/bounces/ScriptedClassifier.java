package org.mailpolicy.james.bounces;

import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.Scope;

/**
 * A stand-in for the rules engine in ingestion tests, so that they test what ingestion does with a
 * decision (the engine's own tests cover the decisions): unknown-user texts suppress, other 5xx
 * bounce, the rest retry.
 */
final class ScriptedClassifier implements RecipientClassifier {
    @Override
    public Classification classify(String recipient, SmtpReply reply) {
        String raw = reply.raw();
        if (raw.contains("MAILBOX NOT FOUND") || raw.contains("5.1.1")) {
            return new Classification(reply, Action.SUPPRESS, "userunknown", Scope.RECIPIENT, "test.userunknown",
                    "The mailbox does not exist.", "Remove the address.", "test", null, null);
        }
        if (raw.startsWith("5")) {
            return new Classification(reply, Action.BOUNCE, "mailboxfull", Scope.RECIPIENT, "test.bounce",
                    "Permanent failure.", "Ask the recipient.", "test", null, null);
        }
        return new Classification(reply, Action.RETRY, "undefined", Scope.MESSAGE, "test.retry",
                "Temporary failure.", "Wait.", "test", null, null);
    }
}
