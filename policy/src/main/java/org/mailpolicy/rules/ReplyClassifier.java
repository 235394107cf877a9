package org.mailpolicy.rules;

import java.nio.file.Path;
import java.util.List;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;

/**
 * Classifies replies with the built-in rules file ({@code reply-rules.yaml} in this jar) followed by
 * operator override files. Immutable and thread-safe; build once, share.
 * TODO(helper: classification): implement.
 */
public final class ReplyClassifier {

    /** Built-in rules only. */
    public static ReplyClassifier builtIn() {
        throw new UnsupportedOperationException("not yet written");
    }

    /** Built-in rules, then each override file in order; later rules win. */
    public static ReplyClassifier withOverrides(List<Path> overrideFiles) throws RulesException {
        throw new UnsupportedOperationException("not yet written");
    }

    /** Never throws; every reply gets a classification (a fallback rule at worst). */
    public Classification classify(SmtpReply reply) {
        throw new UnsupportedOperationException("not yet written");
    }

    public Classification classify(String rawReply, Stage stage) {
        return classify(SmtpReply.parse(rawReply, stage));
    }

    public Classification classify(String rawReply) {
        return classify(SmtpReply.parse(rawReply));
    }
}
