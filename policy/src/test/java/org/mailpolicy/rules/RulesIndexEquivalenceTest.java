package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.ReferenceReplyParser;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;

/**
 * The indexed classifier ({@link RuleIndex}) decides exactly as testing every rule in order does:
 * tier by tier, the last matching rule of the first tier with a match. Compared on every seed reply,
 * the rules' own examples, the Sisimai corpus when it is present next to the project, and 60,000
 * inputs of the fuzz generator, at several stages, with the built-in rules and with override rules
 * that replace a built-in id, change its tier, and add rules of every tier.
 */
class RulesIndexEquivalenceTest {
    private static final int FUZZ_INPUTS = 60_000;
    private static final Stage[] STAGES = {Stage.RCPT, Stage.MAIL, Stage.UNKNOWN, Stage.CONNECT, Stage.END_OF_DATA};

    /** Rules of every tier, one replacing a built-in token rule by a text rule, one regex without literals. */
    private static final String OVERRIDES = String.join("\n",
            "version: 1",
            "rules:",
            "  - id: aol.rtr-bb",
            "    match: {text: 'rtr:bb|mailbox'}",
            "    action: retry", "    reason: blocked", "    scope: destination",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.token-at-rcpt",
            "    match: {token: DYN:T1, stage: [RCPT]}",
            "    action: bounce", "    reason: speeding", "    scope: destination",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.text-without-literals",
            "    match: {code: 550, text: '\\d+ (ms|s)\\b|^.{0,3}$'}",
            "    action: retry", "    reason: systemerror", "    scope: message",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.text-not-found",
            "    match: {text: 'not found', stage: [RCPT, END_OF_DATA]}",
            "    action: bounce", "    reason: rejected", "    scope: message",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.enhanced",
            "    match: {enhanced: [X.1.1, 5.7.1], stage: [MAIL]}",
            "    action: bounce", "    reason: rejected", "    scope: message",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.enhanced-wildcard",
            "    match: {enhanced: 4.2.*, code: [452, 4xx]}",
            "    action: retry", "    reason: mailboxfull", "    scope: recipient",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.code",
            "    match: {code: [550, 554], stage: [CONNECT]}",
            "    action: throttle", "    reason: blocked", "    scope: destination",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.code-class",
            "    match: {code: [none, 4xx], stage: [END_OF_DATA]}",
            "    action: retry", "    reason: systemerror", "    scope: destination",
            "    explanation: x", "    remedy: x", "    source: test",
            "  - id: test.fallback",
            "    match: {stage: [DATA]}",
            "    action: retry", "    reason: undefined", "    scope: message",
            "    explanation: x", "    remedy: x", "    source: test",
            "");

    @Test
    void theIndexDecidesAsTestingEveryRuleInOrderDoes() throws RulesException {
        List<ReplyClassifier> classifiers = List.of(ReplyClassifier.builtIn(),
                ReplyClassifier.builtIn().plus(RuleSet.parse(OVERRIDES, "overrides.yaml")));
        List<String> corpus = corpus();
        // Replies only the override rules' codes decide (no built-in text rule speaks for them).
        corpus.addAll(List.of("452 4.2.9", "450 4.2.77 x", "550 5.7.1", "551 5.1.1", "554", "250 ok", "451", ""));
        ReplyFuzzTest.Generator generator = new ReplyFuzzTest.Generator(ReplyFuzzTest.seeds());
        List<String> mismatches = new ArrayList<>();
        Set<String> winners = new LinkedHashSet<>();
        long compared = 0;
        for (ReplyClassifier classifier : classifiers) {
            for (String text : corpus) {
                for (Stage stage : STAGES) {
                    compared += compare(classifier, SmtpReply.parse(text, stage), mismatches, winners);
                }
            }
            for (int i = 0; i < FUZZ_INPUTS; i++) {
                ReplyFuzzTest.Generated g = generator.input(i);
                if (g.text != null && g.text.length() > 100_000) {
                    continue; // the huge inputs are there for the parser's bounds; their text is cut anyway
                }
                compared += compare(classifier, SmtpReply.parse(g.text, g.stage), mismatches, winners);
            }
        }
        System.out.printf(Locale.ROOT, "RulesIndexEquivalenceTest: %d classifications compared, %d distinct winners%n",
                compared, winners.size());
        assertThat(mismatches).as("replies the index decides differently").isEmpty();
        // The corpus reaches most rules, so the comparison covers every tier and most literal sets.
        assertThat(winners).contains("aol.rtr-bb", "test.token-at-rcpt", "test.text-without-literals",
                "test.text-not-found", "test.enhanced", "test.enhanced-wildcard", "test.code", "test.code-class");
        assertThat(winners.size()).isGreaterThan(ReplyClassifier.builtIn().rules().size() * 2 / 3);
    }

    private static int compare(ReplyClassifier classifier, SmtpReply reply, List<String> mismatches, Set<String> winners) {
        Classification fast = classifier.classify(reply);
        Classification expected = referenceClassify(classifier.rules(), reply);
        winners.add(fast.ruleId());
        if (!fast.ruleId().equals(expected.ruleId()) || fast.action() != expected.action()
                || !fast.reason().equals(expected.reason()) || fast.scope() != expected.scope()) {
            if (mismatches.size() < 20) {
                mismatches.add(ReplyFuzzTest.excerpt(reply.raw()) + " at " + reply.stage() + ": index " + fast.ruleId()
                        + "/" + fast.action() + "/" + fast.reason() + ", reference " + expected.ruleId() + "/"
                        + expected.action() + "/" + expected.reason());
            }
        }
        return 1;
    }

    /** The straightforward reading of the matching rules: every tier in order, every rule from the last. */
    static Classification referenceClassify(List<ReplyRule> rules, SmtpReply reply) {
        EnhancedStatus enhanced = ReplyClassifier.normalisedEnhanced(reply);
        for (Tier tier : Tier.values()) {
            for (int i = rules.size() - 1; i >= 0; i--) {
                ReplyRule r = rules.get(i);
                if (r.tier() == tier && r.matches(reply, enhanced)) {
                    return SuppressionSafety.guard(r.classify(reply), enhanced);
                }
            }
        }
        return new Classification(reply, Action.RETRY, "undefined", Scope.MESSAGE, "engine.last-resort", "x", "x", "x",
                null, null);
    }

    /**
     * The hand-written scans of {@link SmtpReply#parse} read every reply as the regexes did: the same
     * code, enhanced code, tokens, text and stage, on the corpus and 200,000 fuzz inputs (huge ones too).
     */
    @Test
    void theParserReadsRepliesAsTheRegexParserDid() {
        List<String> inputs = new ArrayList<>(corpus());
        ReplyFuzzTest.Generator generator = new ReplyFuzzTest.Generator(ReplyFuzzTest.seeds());
        List<Stage> stages = new ArrayList<>();
        for (String s : inputs) {
            stages.add(Stage.UNKNOWN);
        }
        for (int i = 0; i < 200_000; i++) {
            ReplyFuzzTest.Generated g = generator.input(i);
            inputs.add(g.text);
            stages.add(g.stage);
        }
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            SmtpReply scanned = SmtpReply.parse(inputs.get(i), stages.get(i));
            SmtpReply expected = ReferenceReplyParser.parse(inputs.get(i), stages.get(i));
            if (!scanned.equals(expected) && differences.size() < 20) {
                differences.add("#" + i + " " + ReplyFuzzTest.excerpt(inputs.get(i)) + ": " + describe(scanned)
                        + " instead of " + describe(expected));
            }
        }
        assertThat(differences).isEmpty();
    }

    private static String describe(SmtpReply r) {
        return "code " + r.code() + " enhanced " + r.enhancedStatus().orElse(null) + " tokens " + r.tokens() + " stage "
                + r.stage() + " text " + ReplyFuzzTest.excerpt(r.text());
    }

    /**
     * Every text rule's regex, where it finds a match, finds it in a text that holds one of its
     * literals; a regex of literals only finds a match exactly in the texts that hold one.
     */
    @Test
    void aTextRuleIsNeverSkippedWhenItsRegexWouldMatch() {
        List<String> texts = new ArrayList<>();
        for (String s : corpus()) {
            texts.add(SmtpReply.parse(s).text());
        }
        ReplyFuzzTest.Generator generator = new ReplyFuzzTest.Generator(ReplyFuzzTest.seeds());
        for (int i = 0; i < 30_000; i++) {
            String t = generator.input(i).text;
            if (t != null && t.length() < 100_000) {
                texts.add(SmtpReply.parse(t).text());
            }
        }
        List<String> skipped = new ArrayList<>();
        int matched = 0;
        Map<String, Pattern> patterns = new LinkedHashMap<>();
        for (ReplyRule r : ReplyClassifier.builtIn().rules()) {
            if (r.textPattern() != null) {
                patterns.put(r.id(), r.textPattern());
            }
        }
        patterns.put("SuppressionSafety.ABOUT_SENDER", SuppressionSafety.ABOUT_SENDER);
        for (Map.Entry<String, Pattern> e : patterns.entrySet()) {
            Pattern p = e.getValue();
            Set<String> literals = RequiredLiterals.of(p.pattern()).orElse(null);
            Set<String> exactly = RequiredLiterals.exactly(p.pattern()).orElse(null);
            for (String text : texts) {
                if (exactly != null && p.matcher(text).find() != containsAny(text, exactly) && skipped.size() < 20) {
                    skipped.add(e.getKey() + " is not decided by its literals " + exactly + " on "
                            + ReplyFuzzTest.excerpt(text));
                }
                if (p.matcher(text).find()) {
                    matched++;
                    if (literals != null && !containsAny(text, literals) && skipped.size() < 20) {
                        skipped.add(e.getKey() + " on " + ReplyFuzzTest.excerpt(text));
                    }
                }
            }
        }
        assertThat(matched).as("regex matches in the corpus").isGreaterThan(10_000);
        assertThat(skipped).isEmpty();
    }

    /**
     * The same for the branches the index tries alone: a text rule's regex finds a match exactly when
     * one of its branches does; a branch that finds one holds a literal of each of its sets; a branch
     * of literals only finds one exactly in the texts that hold one.
     */
    @Test
    void aBranchIsNeverSkippedWhenItWouldMatch() {
        List<String> texts = new ArrayList<>();
        for (String s : corpus()) {
            texts.add(SmtpReply.parse(s).text());
        }
        ReplyFuzzTest.Generator generator = new ReplyFuzzTest.Generator(ReplyFuzzTest.seeds());
        for (int i = 0; i < 20_000; i++) {
            String t = generator.input(i).text;
            if (t != null && t.length() < 100_000) {
                texts.add(SmtpReply.parse(t).text());
            }
        }
        List<String> wrong = new ArrayList<>();
        int branchMatches = 0;
        for (ReplyRule r : ReplyClassifier.builtIn().rules()) {
            Pattern whole = r.textPattern();
            if (whole == null) {
                continue;
            }
            List<RegexBranch> branches = RequiredLiterals.branches(whole.pattern()).orElseThrow();
            List<Pattern> compiled = new ArrayList<>();
            for (RegexBranch b : branches) {
                compiled.add(Pattern.compile(b.regex(), whole.flags()));
            }
            for (String text : texts) {
                boolean any = false;
                for (int k = 0; k < branches.size(); k++) {
                    RegexBranch b = branches.get(k);
                    boolean found = compiled.get(k).matcher(text).find();
                    any |= found;
                    branchMatches += found ? 1 : 0;
                    for (Set<String> literals : b.requirements()) {
                        if (found && !containsAny(text, literals) && wrong.size() < 20) {
                            wrong.add(r.id() + " /" + b.regex() + "/ matches without " + literals + ": "
                                    + ReplyFuzzTest.excerpt(text));
                        }
                    }
                    if (b.exactly() != null && found != containsAny(text, b.exactly()) && wrong.size() < 20) {
                        wrong.add(r.id() + " /" + b.regex() + "/ is not decided by " + b.exactly() + ": "
                                + ReplyFuzzTest.excerpt(text));
                    }
                }
                if (any != whole.matcher(text).find() && wrong.size() < 20) {
                    wrong.add(r.id() + ": the branches and the whole regex disagree on " + ReplyFuzzTest.excerpt(text));
                }
            }
        }
        assertThat(branchMatches).as("branch matches in the corpus").isGreaterThan(10_000);
        assertThat(wrong).isEmpty();
    }

    private static boolean containsAny(String text, Set<String> lowerLiterals) {
        StringBuilder folded = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            folded.append(RequiredLiterals.lower(text.charAt(i)));
        }
        return lowerLiterals.stream().anyMatch(l -> folded.indexOf(l) >= 0);
    }

    /** Seed replies and rule examples (the fuzz test's seeds) and the Sisimai replies when present. */
    static List<String> corpus() {
        Set<String> out = new LinkedHashSet<>(ReplyFuzzTest.seeds());
        Path sisimai = findUp(Paths.get("").toAbsolutePath(), "shared/data/sisimai-replies.tsv");
        if (sisimai != null) {
            try {
                for (String line : Files.readAllLines(sisimai, StandardCharsets.UTF_8)) {
                    String[] columns = line.split("\t", 3);
                    if (!line.startsWith("#") && columns.length == 3) {
                        out.add(columns[2]);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return new ArrayList<>(out);
    }

    private static Path findUp(Path from, String relative) {
        for (Path dir = from; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(relative))) {
                return dir.resolve(relative);
            }
        }
        return null;
    }
}
