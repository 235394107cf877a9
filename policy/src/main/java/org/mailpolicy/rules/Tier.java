package org.mailpolicy.rules;

/**
 * How specific a rule is, from its most specific condition. The classifier tries tiers in this
 * order; within a tier the rule that comes last wins, so an operator's file beats a built-in rule of
 * the same tier.
 */
public enum Tier {
    /** Names a provider token such as {@code DYN:T1}: the provider's own documented meaning. */
    TOKEN,
    /** Matches the reply's words: catches what codes alone cannot tell apart. */
    TEXT,
    /** An enhanced code with subject and detail, such as {@code 5.1.1} or {@code X.1.1}. */
    ENHANCED,
    /** An enhanced code with a wildcard, such as {@code 5.1.*}. */
    ENHANCED_WILDCARD,
    /** A basic code such as {@code 421}. */
    CODE,
    /**
     * A basic code class such as {@code 4xx}, replies without any code ({@code none}), or an
     * enhanced code class such as {@code 5.*.*}.
     */
    CODE_CLASS,
    /** No condition but perhaps a stage: the last resort. */
    FALLBACK
}
