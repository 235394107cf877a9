package org.mailpolicy.rules;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;

/**
 * One entry of a rules file: when it matches (every given condition must hold) and what it decides.
 * Built only by the rules loader, which has validated every field.
 */
public final class ReplyRule {
    /** Basic code condition meaning "the reply carries no code at all" (connection refused, timeouts). */
    static final int NO_CODE = 0;
    /** The highest basic code a reply can carry. */
    private static final int MAX_CODE = 599;

    private final String id;
    private final String origin;
    private final ImmutableSet<Integer> codes;
    private final ImmutableSet<Integer> codeClasses;
    private final ImmutableList<EnhancedPattern> enhanced;
    private final ImmutableSet<String> tokens;
    private final Pattern text;
    private final Set<Stage> stages;
    private final Action action;
    private final String reason;
    private final Scope scope;
    private final Duration hold;
    private final ThrottleEffect effect;
    private final Duration retryAfter;
    private final String explanation;
    private final String remedy;
    private final String source;
    private final Tier tier;
    // The conditions as the classifier tests them, for every reply: no boxing, no set lookups.
    /** Bit c: basic code c is admitted ({@link #NO_CODE}: none); null when there is no code condition. */
    private final long[] admittedCodes;
    /** Bit s: stage s (ordinal) is admitted; 0 when there is no stage condition. */
    private final int stageBits;
    private final EnhancedPattern[] enhancedArray;
    private final boolean hasTokens;

    ReplyRule(Builder b) {
        this.id = Preconditions.checkNotNull(b.id, "id");
        this.origin = Preconditions.checkNotNull(b.origin, "origin");
        this.codes = ImmutableSet.copyOf(b.codes);
        this.codeClasses = ImmutableSet.copyOf(b.codeClasses);
        this.enhanced = ImmutableList.copyOf(b.enhanced);
        this.tokens = ImmutableSet.copyOf(b.tokens);
        this.text = b.text;
        this.stages = b.stages.isEmpty() ? EnumSet.noneOf(Stage.class) : EnumSet.copyOf(b.stages);
        this.action = Preconditions.checkNotNull(b.action, "action");
        this.reason = Preconditions.checkNotNull(b.reason, "reason");
        this.scope = Preconditions.checkNotNull(b.scope, "scope");
        this.hold = b.hold;
        this.effect = b.effect;
        this.retryAfter = b.retryAfter;
        this.explanation = Preconditions.checkNotNull(b.explanation, "explanation");
        this.remedy = Preconditions.checkNotNull(b.remedy, "remedy");
        this.source = Preconditions.checkNotNull(b.source, "source");
        this.tier = computeTier();
        this.admittedCodes = codes.isEmpty() && codeClasses.isEmpty() ? null : admittedCodes();
        int bits = 0;
        for (Stage st : stages) {
            bits |= 1 << st.ordinal();
        }
        this.stageBits = bits;
        this.enhancedArray = enhanced.toArray(new EnhancedPattern[0]);
        this.hasTokens = !tokens.isEmpty();
    }

    private long[] admittedCodes() {
        long[] bits = new long[(MAX_CODE + 64) / 64];
        for (int code = 0; code <= MAX_CODE; code++) {
            if (codes.contains(code) || codeClasses.contains(code == NO_CODE ? NO_CODE : code / 100)) {
                bits[code >>> 6] |= 1L << code;
            }
        }
        return bits;
    }

    private Tier computeTier() {
        if (!tokens.isEmpty()) {
            return Tier.TOKEN;
        }
        if (text != null) {
            return Tier.TEXT;
        }
        // A list is only as specific as its least specific pattern: the rule may match through it.
        Tier enhancedTier = null;
        for (EnhancedPattern p : enhanced) {
            Tier t = p.isClassOnly() ? Tier.CODE_CLASS : p.hasWildcard() ? Tier.ENHANCED_WILDCARD : Tier.ENHANCED;
            if (enhancedTier == null || t.compareTo(enhancedTier) > 0) {
                enhancedTier = t;
            }
        }
        if (enhancedTier != null && enhancedTier != Tier.CODE_CLASS) {
            return enhancedTier;
        }
        if (!codes.isEmpty()) {
            return Tier.CODE;
        }
        if (!codeClasses.isEmpty() || enhancedTier != null) {
            return Tier.CODE_CLASS;
        }
        return Tier.FALLBACK;
    }

    /** True when every condition of this rule holds for the reply. */
    boolean matches(SmtpReply reply, EnhancedStatus normalisedEnhanced) {
        return matchesOtherThanText(reply, normalisedEnhanced) && (text == null || text.matcher(reply.text()).find());
    }

    /** True when every condition but the text holds: for a text already known to match. */
    boolean matchesOtherThanText(SmtpReply reply, EnhancedStatus normalisedEnhanced) {
        if (stageBits != 0 && (stageBits & 1 << reply.stage().ordinal()) == 0) {
            return false;
        }
        // codeOrZero: NO_CODE is 0.
        if (!admitsCode(reply.codeOrZero()) || !admitsEnhanced(normalisedEnhanced)) {
            return false;
        }
        if (hasTokens) {
            boolean any = false;
            for (String t : reply.tokens()) {
                if (tokens.contains(t)) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    /** True when the code condition, if any, holds for this basic code ({@link #NO_CODE}: none). */
    boolean admitsCode(int code) {
        if (admittedCodes == null) {
            return true;
        }
        if (code < 0 || code > MAX_CODE) {
            return codes.contains(code) || codeClasses.contains(code / 100);
        }
        return (admittedCodes[code >>> 6] & 1L << code) != 0;
    }

    /** True when the enhanced code condition, if any, holds for this (normalised) enhanced code. */
    boolean admitsEnhanced(EnhancedStatus normalisedEnhanced) {
        if (enhancedArray.length == 0) {
            return true;
        }
        if (normalisedEnhanced == null) {
            return false;
        }
        for (EnhancedPattern p : enhancedArray) {
            if (p.matches(normalisedEnhanced)) {
                return true;
            }
        }
        return false;
    }

    /** The enhanced code patterns; used to index rules by enhanced code. */
    List<EnhancedPattern> enhancedPatterns() {
        return enhanced;
    }

    /** The text condition, or null; used to find the literals a reply must hold for it to match. */
    Pattern textPattern() {
        return text;
    }

    public String id() {
        return id;
    }

    /** Where the rule was defined, {@code file:line}. */
    public String origin() {
        return origin;
    }

    public Tier tier() {
        return tier;
    }

    public Action action() {
        return action;
    }

    public String reason() {
        return reason;
    }

    public Scope scope() {
        return scope;
    }

    public Optional<Duration> hold() {
        return Optional.ofNullable(hold);
    }

    /** For throttles: what the reply asks of the destination; a throttle rule without one holds. */
    public Optional<ThrottleEffect> effect() {
        return action == Action.THROTTLE ? Optional.of(effect == null ? ThrottleEffect.HOLD : effect) : Optional.empty();
    }

    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    public String explanation() {
        return explanation;
    }

    public String remedy() {
        return remedy;
    }

    public String source() {
        return source;
    }

    /** The tokens this rule names; used to index rules by token. */
    Set<String> tokens() {
        return tokens;
    }

    /** Exact basic codes this rule names; used to index rules by code. */
    Set<Integer> codes() {
        return codes;
    }

    /** A readable summary of the conditions, e.g. {@code code=550 text=/mailbox not found/}. */
    public String describeMatch() {
        StringBuilder sb = new StringBuilder();
        if (!tokens.isEmpty()) {
            sb.append("token=").append(String.join(",", tokens)).append(' ');
        }
        if (!codes.isEmpty() || !codeClasses.isEmpty()) {
            sb.append("code=");
            StringBuilder list = new StringBuilder();
            for (int c : codes) {
                list.append(list.length() == 0 ? "" : ",").append(c == NO_CODE ? "none" : String.valueOf(c));
            }
            for (int c : codeClasses) {
                list.append(list.length() == 0 ? "" : ",").append(c == NO_CODE ? "none" : c + "xx");
            }
            sb.append(list).append(' ');
        }
        if (!enhanced.isEmpty()) {
            sb.append("enhanced=");
            for (int i = 0; i < enhanced.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(enhanced.get(i));
            }
            sb.append(' ');
        }
        if (text != null) {
            sb.append("text=/").append(text.pattern()).append("/ ");
        }
        if (!stages.isEmpty()) {
            sb.append("stage=").append(stages).append(' ');
        }
        return sb.length() == 0 ? "(any reply)" : sb.toString().trim();
    }

    Classification classify(SmtpReply reply) {
        return new Classification(reply, action, reason, scope, id, explanation, remedy, source, hold, retryAfter,
                effect().orElse(null));
    }

    @Override
    public String toString() {
        return id + " [" + describeMatch() + "] -> " + action.id() + "/" + reason + "/" + scope.id() + " (" + origin + ")";
    }

    /** {@code 5.1.1}, {@code X.1.1} (any class), {@code 5.1.*} or {@code 5.*.*}. */
    static final class EnhancedPattern {
        static final int ANY = -1;
        private final int statusClass;
        private final int subject;
        private final int detail;

        EnhancedPattern(int statusClass, int subject, int detail) {
            this.statusClass = statusClass;
            this.subject = subject;
            this.detail = detail;
        }

        /** {@code 5.*.*}: says no more than the class of a basic code. */
        boolean isClassOnly() {
            return subject == ANY;
        }

        /** The subject, or {@link #ANY}. */
        int subject() {
            return subject;
        }

        /** The detail, or {@link #ANY}. */
        int detail() {
            return detail;
        }

        boolean hasWildcard() {
            return subject == ANY || detail == ANY;
        }

        boolean matches(EnhancedStatus s) {
            return (statusClass == ANY || statusClass == s.statusClass())
                    && (subject == ANY || subject == s.subject())
                    && (detail == ANY || detail == s.detail());
        }

        @Override
        public String toString() {
            return (statusClass == ANY ? "X" : String.valueOf(statusClass)) + "."
                    + (subject == ANY ? "*" : String.valueOf(subject)) + "."
                    + (detail == ANY ? "*" : String.valueOf(detail));
        }
    }

    static final class Builder {
        String id;
        String origin;
        Set<Integer> codes = new java.util.LinkedHashSet<>();
        Set<Integer> codeClasses = new java.util.LinkedHashSet<>();
        List<EnhancedPattern> enhanced = new java.util.ArrayList<>();
        Set<String> tokens = new java.util.LinkedHashSet<>();
        Pattern text;
        Set<Stage> stages = EnumSet.noneOf(Stage.class);
        Action action;
        String reason;
        Scope scope;
        Duration hold;
        ThrottleEffect effect;
        Duration retryAfter;
        String explanation;
        String remedy;
        String source;
    }
}
