package org.mailpolicy.rules;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;

/**
 * Classifies replies with the built-in rules file ({@code reply-rules.yaml} in this jar) followed by
 * operator override files. Immutable and thread-safe; build once, share.
 *
 * <p>Matching: a rule matches when all its conditions hold. The most specific tier wins (see
 * {@link Tier}: token, text, enhanced code, enhanced wildcard, basic code, code class, fallback);
 * within a tier the rule that comes last wins. A rule whose id repeats an earlier rule's id replaces
 * it, and takes the later position. When the enhanced code's class disagrees with the basic code
 * ({@code 550 4.1.1}), the basic code decides: SMTP clients act on it, so the enhanced code is
 * matched as if it had the basic code's class. A suppress decision for a reply about the sender
 * (X.1.7/X.1.8, stage MAIL, "Sender address rejected") is turned into a bounce: see
 * {@link SuppressionSafety}.
 */
public final class ReplyClassifier {
    /** The resource holding the built-in knowledge base. */
    public static final String BUILT_IN_RESOURCE = "/org/mailpolicy/rules/reply-rules.yaml";

    private static volatile ReplyClassifier builtIn;

    private final ImmutableList<ReplyRule> rules;
    private final RuleIndex index;

    private ReplyClassifier(List<ReplyRule> ordered) {
        Map<String, ReplyRule> byId = new LinkedHashMap<>();
        for (ReplyRule r : ordered) {
            byId.remove(r.id());
            byId.put(r.id(), r);
        }
        this.rules = ImmutableList.copyOf(byId.values());
        this.index = new RuleIndex(rules);
    }

    /** Built-in rules only. */
    public static ReplyClassifier builtIn() {
        ReplyClassifier c = builtIn;
        if (c == null) {
            synchronized (ReplyClassifier.class) {
                c = builtIn;
                if (c == null) {
                    c = new ReplyClassifier(builtInRules().rules());
                    builtIn = c;
                }
            }
        }
        return c;
    }

    /** The built-in rules file, validated like any other. A broken jar is a bug: unchecked. */
    public static RuleSet builtInRules() {
        try (InputStream in = ReplyClassifier.class.getResourceAsStream(BUILT_IN_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + BUILT_IN_RESOURCE);
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return RuleSet.parse(text, "reply-rules.yaml (built-in)");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RulesException e) {
            throw new IllegalStateException("built-in rules are broken: " + e.getMessage(), e);
        }
    }

    /** Built-in rules, then each override file in order; later rules win. */
    public static ReplyClassifier withOverrides(List<Path> overrideFiles) throws RulesException {
        Preconditions.checkNotNull(overrideFiles, "overrideFiles");
        ReplyClassifier c = builtIn();
        for (Path p : overrideFiles) {
            c = c.plus(RuleSet.load(p));
        }
        return c;
    }

    /** A classifier whose rules are these followed by {@code extra}'s, which therefore win ties. */
    public ReplyClassifier plus(RuleSet extra) {
        Preconditions.checkNotNull(extra, "extra");
        if (extra.size() == 0) {
            return this;
        }
        List<ReplyRule> all = new ArrayList<>(rules);
        all.addAll(extra.rules());
        return new ReplyClassifier(all);
    }

    /** Every rule in effect, in order (a replaced id appears once, at its later position). */
    public List<ReplyRule> rules() {
        return rules;
    }

    /** Never throws; every reply gets a classification (a fallback rule at worst). */
    public Classification classify(SmtpReply reply) {
        Preconditions.checkNotNull(reply, "reply");
        EnhancedStatus enhanced = normalisedEnhanced(reply);
        TextScan scan = new TextScan(reply.text());
        ReplyRule r = index.winner(reply, enhanced, scan);
        if (r == null) {
            return lastResort(reply);
        }
        Classification c = r.classify(reply);
        return c.action() != Action.SUPPRESS ? c : SuppressionSafety.guard(c, enhanced, index.mayBeAboutSender(scan));
    }

    public Classification classify(String rawReply, Stage stage) {
        return classify(SmtpReply.parse(rawReply, stage));
    }

    public Classification classify(String rawReply) {
        return classify(SmtpReply.parse(rawReply));
    }

    static EnhancedStatus normalisedEnhanced(SmtpReply reply) {
        EnhancedStatus e = reply.enhancedStatusOrNull();
        if (e == null) {
            return null;
        }
        int code = reply.codeOrZero();
        if (code == 0) {
            return e;
        }
        int basicClass = code / 100;
        if (basicClass == e.statusClass() || basicClass == 3) {
            return e;
        }
        return e.withClass(basicClass);
    }

    /** Only reached when a rules set has no catch-all; the built-in file always has one. */
    private static Classification lastResort(SmtpReply reply) {
        boolean permanent = reply.code().isPresent() && reply.code().getAsInt() >= 500;
        return new Classification(reply, permanent ? Action.BOUNCE : Action.RETRY, "undefined",
                Scope.MESSAGE, "engine.last-resort",
                "No rule matched this reply.",
                "Add a rule for this reply to an override file.", "engine default", null, null);
    }

    @Override
    public String toString() {
        return "ReplyClassifier{" + rules.size() + " rules}";
    }
}
