package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.net.InternetDomainName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The operator's delivery policy: per-destination retry, expiry, throttling, routing and limits,
 * plus where the suppression list lives. Load it with {@link #load(Path)}; immutable and
 * thread-safe once loaded.
 */
public final class DeliveryPolicy {
    public static final String DEFAULT_NAME = "default";

    /** RFC 5321 4.5.4.1: retry at least 30 minutes apart; we start sooner and back off. */
    static final RetrySchedule DEFAULT_RETRY = RetrySchedule.explicit(ImmutableList.of(
            Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(4)));
    /** RFC 5321 4.5.4.1: give up after at least 4-5 days. */
    static final Duration DEFAULT_MAX_AGE = Duration.ofDays(5);
    static final Duration DEFAULT_DELAY_WARNING = Duration.ofHours(4);
    static final ThrottleHold DEFAULT_THROTTLE = ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4));
    static final int DEFAULT_CONCURRENCY = 10;

    private final StoreSettings suppression;
    private final ImmutableList<Path> ruleFiles;
    private final ImmutableList<DestinationPolicy> destinations;
    private final DestinationPolicy defaultDestination;
    private final ImmutableMap<String, DestinationPolicy> byExactDomain;
    private final WaitSettings waits;

    private DeliveryPolicy(StoreSettings suppression, List<Path> ruleFiles,
                           List<DestinationPolicy> destinations, DestinationPolicy defaultDestination, WaitSettings waits) {
        this.suppression = suppression;
        this.waits = waits;
        this.ruleFiles = ImmutableList.copyOf(ruleFiles);
        this.destinations = ImmutableList.copyOf(destinations);
        this.defaultDestination = defaultDestination;
        Map<String, DestinationPolicy> exact = new HashMap<>();
        Map<String, String> namesSeen = new HashMap<>();
        for (DestinationPolicy d : destinations) {
            Preconditions.checkArgument(!d.name().equals(DEFAULT_NAME), "'%s' is reserved for the default destination", DEFAULT_NAME);
            Preconditions.checkArgument(namesSeen.put(d.name(), d.name()) == null, "duplicate destination name: %s", d.name());
            for (String p : d.domainPatterns()) {
                if (!p.startsWith("*.")) {
                    DestinationPolicy before = exact.put(p, d);
                    Preconditions.checkArgument(before == null, "domain %s is in two destinations: %s and %s",
                            p, before == null ? "" : before.name(), d.name());
                }
            }
        }
        this.byExactDomain = ImmutableMap.copyOf(exact);
    }

    /** Assembles a policy from values; the file loader and tests use it. */
    public static DeliveryPolicy of(StoreSettings suppression, List<Path> ruleFiles,
                                    List<DestinationPolicy> destinations, DestinationPolicy defaultDestination) {
        Preconditions.checkNotNull(suppression, "suppression");
        Preconditions.checkNotNull(defaultDestination, "defaultDestination");
        Preconditions.checkArgument(defaultDestination.domainPatterns().isEmpty() && defaultDestination.mxPatterns().isEmpty(),
                "the default destination matches everything else and takes no domains or mx");
        return new DeliveryPolicy(suppression, ruleFiles, destinations, defaultDestination, WaitSettings.inQueue());
    }

    /** This policy with its mail waiting where {@code waits} says. */
    public DeliveryPolicy withWaits(WaitSettings waits) {
        return new DeliveryPolicy(suppression, ruleFiles, destinations, defaultDestination,
                Preconditions.checkNotNull(waits, "waits"));
    }

    /** Where mail that must wait waits: the queue's delay (default) or the plugin's schedule ({@code waits:}). */
    public WaitSettings waits() {
        return waits;
    }

    /**
     * Reads and validates a policy file (UTF-8 YAML), and checks that the rule files it names
     * exist and can be read.
     *
     * @throws PolicyException listing every problem, each with file, line and field
     */
    public static DeliveryPolicy load(Path file) throws PolicyException {
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PolicyException(Collections.singletonList(file + ":1: file: cannot read: " + e), e);
        }
        return PolicyParser.parse(text, file.toString(), true);
    }

    /** As {@link #load(Path)}, from text; {@code fileName} names the source in errors. */
    public static DeliveryPolicy parse(String yaml, String fileName) throws PolicyException {
        return PolicyParser.parse(yaml, fileName);
    }

    /** No destinations of its own: every domain gets the RFC 5321-minded defaults. */
    public static DeliveryPolicy builtInDefault() {
        return of(StoreSettings.defaults(), ImmutableList.of(), ImmutableList.of(),
                DestinationPolicy.builder(DEFAULT_NAME).build());
    }

    /**
     * The destination for a recipient domain, case-insensitively: an exact domain beats a wildcard,
     * a longer wildcard beats a shorter one; the default when none matches.
     */
    public DestinationPolicy forRecipientDomain(String domain) {
        return matchDomain(domain).orElse(defaultDestination);
    }

    /**
     * The destination for a recipient domain whose MX hosts are known: a domain match first, then the
     * first MX host (in the order given, normally by preference) matching an MX pattern, then the default.
     * This is how a vanity domain hosted by AOL or Google gets AOL's or Google's policy.
     */
    public DestinationPolicy resolve(String recipientDomain, List<String> mxHosts) {
        Optional<DestinationPolicy> byDomain = matchDomain(recipientDomain);
        if (byDomain.isPresent()) {
            return byDomain.get();
        }
        if (mxHosts != null) {
            for (String mx : mxHosts) {
                if (mx == null) {
                    continue;
                }
                String host = DestinationPolicy.normaliseName(mx);
                DestinationPolicy best = null;
                int bestLength = -1;
                for (DestinationPolicy d : destinations) {
                    int length = d.mxMatchLength(host);
                    if (length > bestLength) {
                        best = d;
                        bestLength = length;
                    }
                }
                if (best != null) {
                    return best;
                }
            }
        }
        return defaultDestination;
    }

    private Optional<DestinationPolicy> matchDomain(String domain) {
        if (domain == null) {
            return Optional.empty();
        }
        String d = DestinationPolicy.normaliseName(domain);
        DestinationPolicy exact = byExactDomain.get(d);
        if (exact != null) {
            return Optional.of(exact);
        }
        DestinationPolicy best = null;
        int bestLength = -1;
        for (DestinationPolicy p : destinations) {
            int length = p.wildcardDomainMatchLength(d);
            if (length > bestLength) {
                best = p;
                bestLength = length;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The named destinations, in file order (without the default). */
    public List<DestinationPolicy> destinations() {
        return destinations;
    }

    public DestinationPolicy defaultDestination() {
        return defaultDestination;
    }

    /** The destination called {@code name}, the default included. */
    public Optional<DestinationPolicy> destination(String name) {
        if (defaultDestination.name().equals(name)) {
            return Optional.of(defaultDestination);
        }
        for (DestinationPolicy d : destinations) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** The stores, named after the file's {@code suppression:} block that configures them. */
    public StoreSettings suppression() {
        return suppression;
    }

    /** Extra rule files applied to every destination, after the built-in rules. */
    public List<Path> ruleFiles() {
        return ruleFiles;
    }

    /**
     * Checks a domain or MX pattern: a host name, or {@code *.} followed by one; returns it in lower
     * case without a trailing dot.
     */
    static String checkPattern(String pattern, String field) {
        Preconditions.checkArgument(pattern != null, "%s pattern must not be null", field);
        String p = DestinationPolicy.normaliseName(pattern);
        String host = p.startsWith("*.") ? p.substring(2) : p;
        Preconditions.checkArgument(!host.isEmpty() && host.indexOf('*') < 0 && InternetDomainName.isValid(host),
                "not a domain name or *.domain pattern: '%s'", pattern);
        return p;
    }

    @Override
    public String toString() {
        return "DeliveryPolicy{suppression " + suppression + ", rules " + ruleFiles + ", destinations "
                + destinations + ", default " + defaultDestination + ", " + waits + "}";
    }
}
