package org.mailpolicy.rules;

import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;

/**
 * The rules in effect, indexed so that a reply is tested only against rules that could match it,
 * with the result of testing every rule: the first tier with a match decides, and within it the
 * rule defined last. Token rules are looked up by the reply's tokens; text rules by the literals
 * their regexes need ({@link TextRuleIndex}); in the other tiers a rule is listed under each basic
 * code and each enhanced code it admits, and the shorter of the two lists for the reply is tried.
 * Immutable and thread-safe.
 */
final class RuleIndex {
    private static final int FIRST_CODE = 200;
    private static final int LAST_CODE = 599;

    /** Token rules in definition order; a later index wins. */
    private final ReplyRule[] tokenRules;
    /** Per token, the indexes into {@link #tokenRules} of the rules naming it, latest first. */
    private final ImmutableMap<String, int[]> tokenRulesByToken;

    private final TextRuleIndex textRules;

    /** The tiers after TEXT, in order. */
    private final ConditionIndex[] conditionTiers;

    RuleIndex(List<ReplyRule> rules) {
        Map<Tier, List<ReplyRule>> byTier = new EnumMap<>(Tier.class);
        for (Tier t : Tier.values()) {
            byTier.put(t, new ArrayList<>());
        }
        for (ReplyRule r : rules) {
            byTier.get(r.tier()).add(r);
        }

        this.tokenRules = byTier.get(Tier.TOKEN).toArray(new ReplyRule[0]);
        Map<String, List<Integer>> byToken = new LinkedHashMap<>();
        for (int i = tokenRules.length - 1; i >= 0; i--) {
            for (String token : tokenRules[i].tokens()) {
                byToken.computeIfAbsent(token, t -> new ArrayList<>()).add(i);
            }
        }
        ImmutableMap.Builder<String, int[]> tokens = ImmutableMap.builder();
        byToken.forEach((token, indexes) -> tokens.put(token, indexes.stream().mapToInt(Integer::intValue).toArray()));
        this.tokenRulesByToken = tokens.build();

        this.textRules = new TextRuleIndex(byTier.get(Tier.TEXT));

        List<ConditionIndex> later = new ArrayList<>();
        for (Tier t : Tier.values()) {
            if (t.compareTo(Tier.TEXT) > 0) {
                later.add(new ConditionIndex(byTier.get(t)));
            }
        }
        this.conditionTiers = later.toArray(new ConditionIndex[0]);
    }

    /** The rule that decides for this reply, or null when none matches. */
    ReplyRule winner(SmtpReply reply, EnhancedStatus normalisedEnhanced, TextScan scan) {
        ReplyRule r = tokenWinner(reply, normalisedEnhanced);
        if (r == null) {
            r = textRules.winner(reply, normalisedEnhanced, scan);
        }
        for (int t = 0; r == null && t < conditionTiers.length; t++) {
            r = conditionTiers[t].winner(reply, normalisedEnhanced);
        }
        return r;
    }

    /** False when the reply's text holds none of the words that may put it about its sender. */
    boolean mayBeAboutSender(TextScan scan) {
        return textRules.mayBeAboutSender(scan);
    }

    private ReplyRule tokenWinner(SmtpReply reply, EnhancedStatus normalisedEnhanced) {
        int best = -1;
        for (String token : reply.tokens()) {
            int[] indexes = tokenRulesByToken.get(token);
            if (indexes == null) {
                continue;
            }
            for (int i : indexes) {
                if (i <= best) {
                    break; // a rule already found for another token was defined later
                }
                if (tokenRules[i].matches(reply, normalisedEnhanced)) {
                    best = i;
                    break;
                }
            }
        }
        return best < 0 ? null : tokenRules[best];
    }

    /**
     * One tier whose rules have no token and no text: whether one matches depends on the stage, the
     * basic code and the enhanced code only. Each rule is listed under every basic code it admits and
     * under every enhanced code it admits; enhanced codes that no rule names by subject and detail
     * share the list of their subject, and those whose subject no rule names, the list of their class.
     * Lists are latest rule first, so the first match wins.
     */
    private static final class ConditionIndex {
        private final ReplyRule[] all;
        /** Slot 0: no code; slot {@code code - 199}: that code. */
        private final ReplyRule[][] byCode;
        private final ReplyRule[] withoutEnhanced;
        /** Key {@link #exactKey}: the enhanced codes some rule names exactly. */
        private final Map<Integer, ReplyRule[]> byNamedEnhanced;
        /** Key {@link #subjectKey}: other details of the subjects some rule names. */
        private final Map<Integer, ReplyRule[]> byNamedSubject;
        /** Index: the class, for subjects no rule names. */
        private final ReplyRule[][] byClass = new ReplyRule[6][];

        ConditionIndex(List<ReplyRule> inDefinitionOrder) {
            List<ReplyRule> latestFirst = new ArrayList<>(inDefinitionOrder);
            java.util.Collections.reverse(latestFirst);
            this.all = latestFirst.toArray(new ReplyRule[0]);
            Map<List<ReplyRule>, ReplyRule[]> shared = new HashMap<>();

            this.byCode = new ReplyRule[LAST_CODE - FIRST_CODE + 2][];
            byCode[0] = admittingCode(latestFirst, ReplyRule.NO_CODE, shared);
            for (int code = FIRST_CODE; code <= LAST_CODE; code++) {
                byCode[code - FIRST_CODE + 1] = admittingCode(latestFirst, code, shared);
            }

            Set<Integer> namedExact = new HashSet<>();
            Set<Integer> namedSubjects = new HashSet<>();
            for (ReplyRule r : latestFirst) {
                for (ReplyRule.EnhancedPattern p : r.enhancedPatterns()) {
                    if (p.subject() != ReplyRule.EnhancedPattern.ANY) {
                        namedSubjects.add(p.subject());
                        if (p.detail() != ReplyRule.EnhancedPattern.ANY) {
                            namedExact.add(p.subject() * 1000 + p.detail());
                        }
                    }
                }
            }
            this.withoutEnhanced = admittingEnhanced(latestFirst, null, shared);
            this.byNamedEnhanced = new HashMap<>();
            this.byNamedSubject = new HashMap<>();
            int unnamedSubject = firstNotIn(namedSubjects, 0);
            for (int statusClass : new int[] {2, 4, 5}) {
                for (int subjectDetail : namedExact) {
                    EnhancedStatus e = EnhancedStatus.of(statusClass, subjectDetail / 1000, subjectDetail % 1000);
                    byNamedEnhanced.put(exactKey(e), admittingEnhanced(latestFirst, e, shared));
                }
                for (int subject : namedSubjects) {
                    // Stands for every detail of this subject that no rule names.
                    int unnamedDetail = firstNotIn(namedExact, subject * 1000) - subject * 1000;
                    EnhancedStatus e = EnhancedStatus.of(statusClass, subject, unnamedDetail);
                    byNamedSubject.put(subjectKey(e), admittingEnhanced(latestFirst, e, shared));
                }
                byClass[statusClass] = admittingEnhanced(latestFirst, EnhancedStatus.of(statusClass, unnamedSubject, 0),
                        shared);
            }
        }

        private static int firstNotIn(Set<Integer> named, int from) {
            int v = from;
            while (named.contains(v)) {
                v++;
            }
            return v;
        }

        private static int exactKey(EnhancedStatus e) {
            return e.statusClass() * 1_000_000 + e.subject() * 1000 + e.detail();
        }

        private static int subjectKey(EnhancedStatus e) {
            return e.statusClass() * 1000 + e.subject();
        }

        private static ReplyRule[] admittingCode(List<ReplyRule> rules, int code, Map<List<ReplyRule>, ReplyRule[]> shared) {
            List<ReplyRule> out = new ArrayList<>();
            for (ReplyRule r : rules) {
                if (r.admitsCode(code)) {
                    out.add(r);
                }
            }
            return shared.computeIfAbsent(out, l -> l.toArray(new ReplyRule[0]));
        }

        private static ReplyRule[] admittingEnhanced(List<ReplyRule> rules, EnhancedStatus e,
                Map<List<ReplyRule>, ReplyRule[]> shared) {
            List<ReplyRule> out = new ArrayList<>();
            for (ReplyRule r : rules) {
                if (r.admitsEnhanced(e)) {
                    out.add(r);
                }
            }
            return shared.computeIfAbsent(out, l -> l.toArray(new ReplyRule[0]));
        }

        private ReplyRule[] byEnhanced(EnhancedStatus e) {
            if (e == null) {
                return withoutEnhanced;
            }
            ReplyRule[] rules = byNamedEnhanced.get(exactKey(e));
            if (rules == null) {
                rules = byNamedSubject.get(subjectKey(e));
            }
            return rules != null ? rules : byClass[e.statusClass()];
        }

        ReplyRule winner(SmtpReply reply, EnhancedStatus normalisedEnhanced) {
            if (all.length == 0) {
                return null;
            }
            int code = reply.codeOrZero(); // ReplyRule.NO_CODE is 0
            ReplyRule[] byThisCode = code == ReplyRule.NO_CODE ? byCode[0]
                    : code >= FIRST_CODE && code <= LAST_CODE ? byCode[code - FIRST_CODE + 1] : all;
            ReplyRule[] byThisEnhanced = byEnhanced(normalisedEnhanced);
            // A rule that matches is in both lists: the shorter one is enough.
            ReplyRule[] candidates = byThisCode.length <= byThisEnhanced.length ? byThisCode : byThisEnhanced;
            for (ReplyRule r : candidates) {
                if (r.matches(reply, normalisedEnhanced)) {
                    return r;
                }
            }
            return null;
        }
    }
}
