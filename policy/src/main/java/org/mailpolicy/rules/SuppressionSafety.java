package org.mailpolicy.rules;

import com.google.common.collect.ImmutableSet;
import java.util.Optional;
import java.util.regex.Pattern;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Suppression must rest on evidence that the reply is about this recipient. A reply about the
 * sender (RFC 3463 X.1.7 "bad sender's mailbox address syntax" and X.1.8 "bad sender's system
 * address", wording such as "Sender address rejected" or "Domain of sender address ... does not
 * exist", or any reply to MAIL FROM) says nothing about whether the recipient exists, however much
 * it reads like "user unknown".
 *
 * <p>Enforced twice: when a rules file is loaded ({@link #check}: a suppress rule whose match allows
 * X.1.7, X.1.8 or stage MAIL is refused), and when a reply is classified ({@link #guard}: a suppress
 * decision for a reply about the sender becomes a bounce), so an override rule or a broad text
 * pattern cannot suppress a recipient over a sender problem.
 */
final class SuppressionSafety {
    /** Words that put the reply about the envelope sender, not the recipient. */
    static final Pattern ABOUT_SENDER = Pattern.compile(
            "\\bsender address rejected\\b|\\bdomain of sender( address)?\\b|\\bsender (address |domain )?"
                    + "(does not exist|doesn.t exist|unknown|not found|invalid|rejected|verif\\w* failed)"
                    + "|\\bunknown sender\\b|\\bsender verif\\w*( failed)?\\b|\\bsender domain\\b"
                    + "|\\bmail ?from (address )?(rejected|refused|invalid)|\\breturn.path\\b|\\benvelope sender\\b",
            Pattern.CASE_INSENSITIVE);

    /**
     * The literals one of which every match of {@link #ABOUT_SENDER} holds ("sender", "mail from",
     * "return"...), lower case: most replies have none, and are then known not to match without
     * running the regex. Empty if none could be derived (the regex then always runs).
     */
    private static final Optional<ImmutableSet<String>> ABOUT_SENDER_LITERALS =
            RequiredLiterals.of(ABOUT_SENDER.pattern());

    /** Receives one load-time problem: the node to point at, the field path and the message. */
    interface Problems {
        void error(Node node, String field, String message);
    }

    private SuppressionSafety() {
    }

    /**
     * Load-time check of one rule (called once by the loader, after its own checks). A suppress rule
     * whose enhanced patterns can match X.1.7 or X.1.8, or whose stages include MAIL, is refused. A
     * rule with no enhanced or stage condition is allowed here: {@link #guard} covers it per reply.
     */
    static void check(ReplyRule.Builder b, NodeTuple match, String field, Problems problems) {
        if (b.action != Action.SUPPRESS || match == null) {
            return;
        }
        for (ReplyRule.EnhancedPattern p : b.enhanced) {
            if (p.matches(EnhancedStatus.of(5, 1, 7)) || p.matches(EnhancedStatus.of(5, 1, 8))
                    || p.matches(EnhancedStatus.of(4, 1, 7)) || p.matches(EnhancedStatus.of(4, 1, 8))) {
                problems.error(valueOf(match, "enhanced"), field + ".enhanced", "suppress may not match '" + p
                        + "': it allows X.1.7/X.1.8, which are about the sender's address, not the recipient's");
            }
        }
        if (b.stages.contains(Stage.MAIL)) {
            problems.error(valueOf(match, "stage"), field + ".stage", "suppress may not match stage MAIL: a reply"
                    + " to MAIL FROM is about the sender, not the recipient");
        }
    }

    /** The value node of {@code key} in the match mapping, else the match node itself (for its line). */
    private static Node valueOf(NodeTuple match, String key) {
        Node m = match.getValueNode();
        if (m instanceof MappingNode) {
            for (NodeTuple t : ((MappingNode) m).getValue()) {
                if (t.getKeyNode() instanceof ScalarNode && key.equals(((ScalarNode) t.getKeyNode()).getValue())) {
                    return t.getValueNode();
                }
            }
        }
        return m;
    }

    /** The literals of {@link #ABOUT_SENDER}, for the classifier's literal search. */
    static Optional<ImmutableSet<String>> aboutSenderLiterals() {
        return ABOUT_SENDER_LITERALS;
    }

    /**
     * Why this reply may not suppress, or null when nothing says it is about the sender.
     *
     * @param wordsMayBeAboutSender false when the text holds none of {@link #aboutSenderLiterals}
     */
    static String whyNotAboutRecipient(SmtpReply reply, EnhancedStatus normalisedEnhanced,
            boolean wordsMayBeAboutSender) {
        if (reply.stage() == Stage.MAIL) {
            return "it was the answer to MAIL FROM, so it is about the sender";
        }
        if (normalisedEnhanced != null && normalisedEnhanced.subject() == 1
                && (normalisedEnhanced.detail() == 7 || normalisedEnhanced.detail() == 8)) {
            return "its status " + normalisedEnhanced + " is about the sender's address (RFC 3463 X.1.7/X.1.8)";
        }
        if (wordsMayBeAboutSender && ABOUT_SENDER.matcher(reply.text()).find()) {
            return "its words are about the sender's address";
        }
        return null;
    }

    /** Whether the text holds one of {@link #aboutSenderLiterals}, its ASCII case folded; true without them. */
    static boolean mayBeAboutSender(String text) {
        if (ABOUT_SENDER_LITERALS.isEmpty()) {
            return true;
        }
        StringBuilder folded = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            folded.append(RequiredLiterals.lower(text.charAt(i)));
        }
        for (String literal : ABOUT_SENDER_LITERALS.get()) {
            if (folded.indexOf(literal) >= 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Classification-time guard: a suppress decision for a reply about the sender becomes a bounce
     * of the message with reason rejected (Sisimai's reason for a refused sender); anything else is
     * returned unchanged.
     */
    static Classification guard(Classification c, EnhancedStatus normalisedEnhanced) {
        if (c.action() != Action.SUPPRESS) {
            return c;
        }
        return guard(c, normalisedEnhanced, mayBeAboutSender(c.reply().text()));
    }

    /**
     * {@link #guard(Classification, EnhancedStatus)} for a classifier that has already searched the
     * reply's text for {@link #aboutSenderLiterals}.
     *
     * @param wordsMayBeAboutSender false when the text holds none of them
     */
    static Classification guard(Classification c, EnhancedStatus normalisedEnhanced, boolean wordsMayBeAboutSender) {
        if (c.action() != Action.SUPPRESS) {
            return c;
        }
        String why = whyNotAboutRecipient(c.reply(), normalisedEnhanced, wordsMayBeAboutSender);
        if (why == null) {
            return c;
        }
        return new Classification(c.reply(), Action.BOUNCE, "rejected", Scope.MESSAGE, c.ruleId(),
                "Not suppressed: " + why + ", not about whether the recipient exists. Rule " + c.ruleId()
                        + " would have suppressed: " + c.explanation(),
                "Check the envelope sender address and its domain's DNS; the recipient address is not in question.",
                c.source() + "; RFC 3463 section 3.2 (X.1.7, X.1.8: sender address status)", null, null);
    }
}
