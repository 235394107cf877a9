package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.rules.RuleSet;
import org.mailpolicy.yaml.Durations;

/**
 * Everything the engine needs to know about delivering to one destination (a mailbox provider
 * such as AOL, or the default for everyone else). Immutable.
 */
public final class DestinationPolicy {
    private final String name;
    private final ImmutableList<String> domainPatterns;
    private final ImmutableList<String> mxPatterns;
    private final RetrySchedule retrySchedule;
    private final Duration maxAge;
    private final Duration delayWarning;
    private final ThrottleHold throttleHold;
    private final Route route;
    private final int concurrency;
    private final RateLimit rateLimit;
    private final PacingSettings pacing;
    private final UnknownRecipientGuard unknownRecipientGuard;
    private final ConnectionSettings connections;
    private final TlsSettings tls;
    private final RuleSet rules;
    /** The last (base, base.plus(rules)) pair: callers pass the same base for every reply. */
    private volatile ClassifierPair lastClassifier;

    private DestinationPolicy(Builder b) {
        this.name = b.name;
        this.domainPatterns = b.domainPatterns;
        this.mxPatterns = b.mxPatterns;
        this.retrySchedule = b.retrySchedule;
        this.maxAge = b.maxAge;
        this.delayWarning = b.delayWarning;
        this.throttleHold = b.throttleHold;
        this.route = b.route;
        this.concurrency = b.concurrency;
        this.rateLimit = b.rateLimit;
        this.pacing = b.pacing;
        this.unknownRecipientGuard = b.unknownRecipientGuard;
        this.connections = b.connections;
        this.tls = b.tls;
        this.rules = b.rules;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** A builder holding this policy's values, to derive a variant. */
    public Builder toBuilder() {
        Builder b = new Builder(name);
        b.domainPatterns = domainPatterns;
        b.mxPatterns = mxPatterns;
        b.retrySchedule = retrySchedule;
        b.maxAge = maxAge;
        b.delayWarning = delayWarning;
        b.throttleHold = throttleHold;
        b.route = route;
        b.concurrency = concurrency;
        b.rateLimit = rateLimit;
        b.pacing = pacing;
        b.unknownRecipientGuard = unknownRecipientGuard;
        b.connections = connections;
        b.tls = tls;
        b.rules = rules;
        return b;
    }

    /** The name operators and logs use, such as {@code aol}; {@code default} for the fallback. */
    public String name() {
        return name;
    }

    /** Lower-case recipient domains: exact ({@code aol.com}) or wildcard ({@code *.aol.com}, subdomains only). */
    public List<String> domainPatterns() {
        return domainPatterns;
    }

    /** Lower-case MX host patterns, exact or wildcard ({@code *.mx.aol.com}). */
    public List<String> mxPatterns() {
        return mxPatterns;
    }

    public RetrySchedule retrySchedule() {
        return retrySchedule;
    }

    /** How long after it was queued a message is bounced as expired (4.4.7). */
    public Duration maxAge() {
        return maxAge;
    }

    /** How long after it was queued the sender is told the message is delayed. */
    public Duration delayWarning() {
        return delayWarning;
    }

    public ThrottleHold throttleHold() {
        return throttleHold;
    }

    /** A smarthost or fallback relay to use instead of the MX hosts. */
    public Optional<Route> route() {
        return Optional.ofNullable(route);
    }

    /** The most connections open at once to this destination, idle ones kept for reuse included. */
    public int concurrency() {
        return concurrency;
    }

    public Optional<RateLimit> rateLimit() {
        return Optional.ofNullable(rateLimit);
    }

    /** How the effective rate and concurrency adapt under the ceilings {@link #rateLimit()} and {@link #concurrency()}. */
    public PacingSettings pacing() {
        return pacing;
    }

    /** When this destination's unknown-user replies look like a directory outage and stop suppressing. */
    public UnknownRecipientGuard unknownRecipientGuard() {
        return unknownRecipientGuard;
    }

    /** How SMTP connections to this destination are reused. */
    public ConnectionSettings connections() {
        return connections;
    }

    /** How SMTP connections to this destination use TLS. */
    public TlsSettings tls() {
        return tls;
    }

    /** Whether this destination brings rule overrides of its own. */
    public boolean hasRuleOverrides() {
        return rules != null && rules.size() > 0;
    }

    /** This destination's own rules (validated when the policy was loaded), if any. */
    public Optional<RuleSet> ruleOverrides() {
        return Optional.ofNullable(rules);
    }

    /**
     * The classifier for this destination: {@code base} followed by this destination's own rules
     * (which win). Returns {@code base} itself when there are none. Cheap to call per reply with the
     * same base: the combination is remembered.
     */
    public ReplyClassifier classifier(ReplyClassifier base) {
        Preconditions.checkNotNull(base, "base");
        if (!hasRuleOverrides()) {
            return base;
        }
        ClassifierPair last = lastClassifier;
        if (last != null && last.base == base) {
            return last.combined;
        }
        ReplyClassifier combined = base.plus(rules);
        lastClassifier = new ClassifierPair(base, combined);
        return combined;
    }

    private static final class ClassifierPair {
        final ReplyClassifier base;
        final ReplyClassifier combined;

        ClassifierPair(ReplyClassifier base, ReplyClassifier combined) {
            this.base = base;
            this.combined = combined;
        }
    }

    /** Whether {@code domain} (already lower case) matches one of {@link #domainPatterns()} exactly. */
    boolean matchesDomainExactly(String domain) {
        return domainPatterns.contains(domain);
    }

    /** The length of the longest wildcard domain pattern matching {@code domain}, or -1. */
    int wildcardDomainMatchLength(String domain) {
        return longestWildcardMatch(domainPatterns, domain);
    }

    /** The length of the longest MX pattern matching {@code host}, exact patterns counting as longest, or -1. */
    int mxMatchLength(String host) {
        if (mxPatterns.contains(host)) {
            return Integer.MAX_VALUE;
        }
        return longestWildcardMatch(mxPatterns, host);
    }

    private static int longestWildcardMatch(List<String> patterns, String name) {
        int best = -1;
        for (String p : patterns) {
            if (p.startsWith("*.") && name.endsWith(p.substring(1)) && name.length() > p.length() - 1) {
                best = Math.max(best, p.length());
            }
        }
        return best;
    }

    static String normaliseName(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
    }

    @Override
    public String toString() {
        return "DestinationPolicy{" + name + ", domains " + domainPatterns + ", mx " + mxPatterns
                + ", retry " + retrySchedule + ", maxAge " + Durations.format(maxAge)
                + ", delayWarning " + Durations.format(delayWarning) + ", throttle " + throttleHold
                + (route == null ? "" : ", route " + route) + ", concurrency " + concurrency
                + (rateLimit == null ? "" : ", rate " + rateLimit) + ", " + connections + ", " + tls
                + ", unknownRecipientGuard " + unknownRecipientGuard
                + (rules == null ? "" : ", " + rules.size() + " rules") + "}";
    }

    /** Builds a {@link DestinationPolicy}; {@link #build()} checks the values fit together. */
    public static final class Builder {
        private final String name;
        private ImmutableList<String> domainPatterns = ImmutableList.of();
        private ImmutableList<String> mxPatterns = ImmutableList.of();
        private RetrySchedule retrySchedule = DeliveryPolicy.DEFAULT_RETRY;
        private Duration maxAge = DeliveryPolicy.DEFAULT_MAX_AGE;
        private Duration delayWarning = DeliveryPolicy.DEFAULT_DELAY_WARNING;
        private ThrottleHold throttleHold = DeliveryPolicy.DEFAULT_THROTTLE;
        private Route route;
        private int concurrency = DeliveryPolicy.DEFAULT_CONCURRENCY;
        private RateLimit rateLimit;
        private PacingSettings pacing = PacingSettings.DEFAULT;
        private UnknownRecipientGuard unknownRecipientGuard = UnknownRecipientGuard.DEFAULT;
        private ConnectionSettings connections = ConnectionSettings.DEFAULT;
        private TlsSettings tls = TlsSettings.DEFAULT;
        private RuleSet rules;

        private Builder(String name) {
            Preconditions.checkArgument(name != null && !name.trim().isEmpty(), "destination name must not be empty");
            this.name = name.trim();
        }

        public Builder domains(List<String> patterns) {
            this.domainPatterns = normalisePatterns(patterns, "domain");
            return this;
        }

        public Builder mx(List<String> patterns) {
            this.mxPatterns = normalisePatterns(patterns, "mx");
            return this;
        }

        public Builder retry(RetrySchedule schedule) {
            this.retrySchedule = Preconditions.checkNotNull(schedule, "retry");
            return this;
        }

        public Builder maxAge(Duration d) {
            this.maxAge = positive(d, "maxAge");
            return this;
        }

        public Builder delayWarning(Duration d) {
            this.delayWarning = positive(d, "delayWarning");
            return this;
        }

        public Builder throttle(ThrottleHold hold) {
            this.throttleHold = Preconditions.checkNotNull(hold, "throttle");
            return this;
        }

        public Builder route(Route r) {
            this.route = r;
            return this;
        }

        public Builder concurrency(int n) {
            Preconditions.checkArgument(n >= 1, "concurrency must be at least 1: %s", n);
            this.concurrency = n;
            return this;
        }

        public Builder rate(RateLimit limit) {
            this.rateLimit = limit;
            return this;
        }

        /** How the effective rate and concurrency adapt under the ceilings {@link #rate} and {@link #concurrency}. */
        public Builder pacing(PacingSettings p) {
            this.pacing = Preconditions.checkNotNull(p, "pacing");
            return this;
        }

        /** When unknown-user replies stop suppressing ({@link UnknownRecipientGuard#OFF}: never). */
        public Builder unknownRecipientGuard(UnknownRecipientGuard guard) {
            this.unknownRecipientGuard = Preconditions.checkNotNull(guard, "unknownRecipientGuard");
            return this;
        }

        /** How SMTP connections to this destination are reused. */
        public Builder connections(ConnectionSettings c) {
            this.connections = Preconditions.checkNotNull(c, "connections");
            return this;
        }

        /** How SMTP connections to this destination use TLS. */
        public Builder tls(TlsSettings t) {
            this.tls = Preconditions.checkNotNull(t, "tls");
            return this;
        }

        /** This destination's own reply rules, which win over the base classifier's; null for none. */
        public Builder rules(RuleSet ruleSet) {
            this.rules = ruleSet;
            return this;
        }

        public DestinationPolicy build() {
            return new DestinationPolicy(this);
        }

        private static Duration positive(Duration d, String field) {
            Preconditions.checkArgument(d != null && !d.isNegative() && !d.isZero(), "%s must be positive: %s", field, d);
            return d;
        }

        private static ImmutableList<String> normalisePatterns(List<String> patterns, String field) {
            ImmutableList.Builder<String> out = ImmutableList.builder();
            for (String p : patterns) {
                out.add(DeliveryPolicy.checkPattern(p, field));
            }
            return out.build();
        }
    }
}
