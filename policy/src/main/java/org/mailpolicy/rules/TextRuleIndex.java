package org.mailpolicy.rules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;

/**
 * The text tier, indexed so that a reply's text is tested only against what could match it. Each
 * rule's regex is read as its top-level alternatives, its branches ({@link RequiredLiterals#branches}),
 * each with the literal sets it needs: one pass of {@link LiteralSearch} over the text finds which
 * sets are met, and a branch is a candidate only when all of its sets are. A candidate branch that
 * matches exactly the texts holding one of its literals has matched; any other runs alone, as a
 * regex of its own, far cheaper than the rule's whole regex. A rule whose regex this reader does not
 * understand is one branch without literals, always tried. The winner is, as without the index,
 * the rule defined last among those that match. The same pass looks for the words that may put a
 * reply about its sender ({@link SuppressionSafety#ABOUT_SENDER}), for the suppression guard.
 * Immutable and thread-safe.
 */
final class TextRuleIndex {
    /** Text rules in definition order. */
    private final ReplyRule[] rules;
    /** Branches are numbered rule by rule: rule i owns {@code firstBranch[i]} to {@code firstBranch[i + 1] - 1}. */
    private final int[] firstBranch;
    private final int[] ruleOfBranch;
    private final Pattern[] branchRegex;
    /** The branch starts with ^ (as a branch of its own, it can match only at the start of the text). */
    private final boolean[] branchAtStart;
    /** The branch has matched once its one literal set is met. */
    private final boolean[] branchDecidedByLiterals;
    /** Per branch, the literal sets (indexes into the search's) it needs; the first is its anchor. */
    private final int[][] requirements;
    /** Per literal set, the branches anchored on it: a branch is looked at when its anchor is met. */
    private final int[][] branchesAnchoredOn;
    /** The slot of the suppression guard's words in the search; -1 when none could be derived. */
    private final int aboutSenderSlot;
    /** Branches that need no literal: always candidates. */
    private final long[] branchesAlwaysTried;
    private final LiteralSearch literals;

    TextRuleIndex(List<ReplyRule> textRules) {
        this.rules = textRules.toArray(new ReplyRule[0]);
        List<RegexBranch> branches = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        this.firstBranch = new int[rules.length + 1];
        for (int i = 0; i < rules.length; i++) {
            firstBranch[i] = branches.size();
            for (RegexBranch b : branchesOf(rules[i].textPattern())) {
                branches.add(b);
                owners.add(i);
            }
        }
        firstBranch[rules.length] = branches.size();
        int count = branches.size();
        this.ruleOfBranch = owners.stream().mapToInt(Integer::intValue).toArray();
        this.branchRegex = new Pattern[count];
        this.branchAtStart = new boolean[count];
        this.branchDecidedByLiterals = new boolean[count];
        this.requirements = new int[count][];
        this.branchesAlwaysTried = new long[words(count)];

        // Literal sets are shared: the same words often guard several rules' branches.
        Map<Set<String>, Integer> ids = new LinkedHashMap<>();
        List<List<Integer>> anchored = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            RegexBranch branch = branches.get(b);
            Pattern whole = rules[ruleOfBranch[b]].textPattern();
            boolean single = firstBranch[ruleOfBranch[b] + 1] - firstBranch[ruleOfBranch[b]] == 1;
            branchRegex[b] = single ? whole : Pattern.compile(branch.regex(), whole.flags());
            // Only a regex read as the loader compiles it: under MULTILINE, ^ would start every line.
            branchAtStart[b] = whole.flags() == Pattern.CASE_INSENSITIVE && startsWithAnchor(branch.regex());
            branchDecidedByLiterals[b] = branch.exactly() != null;
            List<? extends Set<String>> needed = branch.requirements();
            requirements[b] = new int[needed.size()];
            for (int k = 0; k < needed.size(); k++) {
                Integer id = ids.get(needed.get(k));
                if (id == null) {
                    id = ids.size();
                    ids.put(needed.get(k), id);
                    anchored.add(new ArrayList<>());
                }
                requirements[b][k] = id;
            }
            if (needed.isEmpty()) {
                branchesAlwaysTried[b >>> 6] |= 1L << b;
            } else {
                anchored.get(requirements[b][0]).add(b);
            }
        }
        List<Set<String>> sets = new ArrayList<>(ids.keySet());
        this.branchesAnchoredOn = new int[sets.size()][];
        for (int q = 0; q < sets.size(); q++) {
            branchesAnchoredOn[q] = anchored.get(q).stream().mapToInt(Integer::intValue).toArray();
        }
        Optional<? extends Set<String>> aboutSender = SuppressionSafety.aboutSenderLiterals();
        this.aboutSenderSlot = aboutSender.isPresent() ? sets.size() : -1;
        aboutSender.ifPresent(sets::add);
        this.literals = LiteralSearch.of(sets);
    }

    /**
     * A rule's branches: those of its regex when compiled as the loader compiles it (case-insensitive,
     * no other flag) and readable; otherwise the whole regex as one branch needing no literal.
     */
    private static List<RegexBranch> branchesOf(Pattern text) {
        Optional<List<RegexBranch>> read = text.flags() == Pattern.CASE_INSENSITIVE
                ? RequiredLiterals.branches(text.pattern()) : Optional.empty();
        return read.orElseGet(() -> List.of(RegexBranch.unread(text.pattern())));
    }

    /** ^ first, not made optional by a quantifier: as a regex of its own, the branch matches only at 0. */
    private static boolean startsWithAnchor(String regex) {
        return regex.startsWith("^") && (regex.length() == 1 || "?*+{".indexOf(regex.charAt(1)) < 0);
    }

    private static int words(int bits) {
        return Math.max(1, (bits + 63) >>> 6);
    }

    /** The literal sets found in the text, searched on the scan's first use. */
    private long[] found(TextScan scan) {
        if (scan.found == null) {
            scan.found = new long[literals.words()];
            literals.mark(scan.text, scan.found);
        }
        return scan.found;
    }

    /** False when the text holds none of the words that may put a reply about its sender. */
    boolean mayBeAboutSender(TextScan scan) {
        return aboutSenderSlot < 0 || isSet(found(scan), aboutSenderSlot);
    }

    /** The text rule that decides for this reply, or null when none matches. */
    ReplyRule winner(SmtpReply reply, EnhancedStatus normalisedEnhanced, TextScan scan) {
        if (rules.length == 0) {
            return null;
        }
        long[] met = found(scan);
        long[] candidates = branchesAlwaysTried.clone();
        for (int w = 0; w < met.length; w++) {
            for (long bits = met[w]; bits != 0; bits &= bits - 1) {
                int q = (w << 6) + Long.numberOfTrailingZeros(bits);
                if (q == aboutSenderSlot) {
                    continue;
                }
                for (int b : branchesAnchoredOn[q]) {
                    if (allSet(requirements[b], met)) {
                        candidates[b >>> 6] |= 1L << b;
                    }
                }
            }
        }
        // The latest rule first: walk the candidate branches down, one rule at a time.
        for (int b = highestBelow(candidates, candidates.length << 6); b >= 0; ) {
            int rule = ruleOfBranch[b];
            ReplyRule r = rules[rule];
            if (r.matchesOtherThanText(reply, normalisedEnhanced) && anyBranchMatches(rule, candidates, scan.text)) {
                return r;
            }
            b = highestBelow(candidates, firstBranch[rule]);
        }
        return null;
    }

    /** Whether one of the rule's candidate branches matches: those decided by literals first. */
    private boolean anyBranchMatches(int rule, long[] candidates, String text) {
        int from = firstBranch[rule];
        int to = firstBranch[rule + 1];
        for (int b = from; b < to; b++) {
            if (isSet(candidates, b) && branchDecidedByLiterals[b]) {
                return true;
            }
        }
        for (int b = from; b < to; b++) {
            if (isSet(candidates, b) && !branchDecidedByLiterals[b]) {
                Matcher m = branchRegex[b].matcher(text);
                // A branch starting with ^ can match only at the start: there, lookingAt answers as find.
                if (branchAtStart[b] ? m.lookingAt() : m.find()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean allSet(int[] indexes, long[] bits) {
        for (int q : indexes) {
            if (!isSet(bits, q)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isSet(long[] bits, int i) {
        return (bits[i >>> 6] & 1L << i) != 0;
    }

    /** The highest set bit below {@code limit}, or -1. */
    private static int highestBelow(long[] bits, int limit) {
        int w = (limit - 1) >> 6;
        if (w < 0) {
            return -1;
        }
        long word = bits[w] & (limit % 64 == 0 ? -1L : (1L << limit % 64) - 1);
        while (true) {
            if (word != 0) {
                return (w << 6) + 63 - Long.numberOfLeadingZeros(word);
            }
            if (--w < 0) {
                return -1;
            }
            word = bits[w];
        }
    }
}
