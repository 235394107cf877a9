package org.mailpolicy.mtasts;

import com.google.common.base.Preconditions;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Recipient domains' MTA-STS policies, each kept for its {@code max_age} (RFC 8461 section 5.1) with the TXT record id
 * it was fetched under. A lookup says whether the cached policy can be used as it is or must be fetched again: when
 * there is none, when it expired, or when the domain's TXT record now carries another id. A domain whose TXT record
 * went away keeps its unexpired policy (5.1: an attacker who strips the record must not turn the policy off).
 * Thread-safe; the clock is injected.
 */
public final class MtaStsCache {
    private final Clock clock;
    private final Map<String, Entry> byDomain = new HashMap<>();

    private static final class Entry {
        final String id;
        final MtaStsPolicy policy;
        final Instant expires;

        Entry(String id, MtaStsPolicy policy, Instant expires) {
            this.id = id;
            this.policy = policy;
            this.expires = expires;
        }
    }

    public MtaStsCache(Clock clock) {
        this.clock = Preconditions.checkNotNull(clock, "clock");
    }

    /**
     * The cached policy of {@code domain} if it can be used without fetching: unexpired, and fetched under {@code
     * recordId} (or the record is gone: empty). Empty when it must be fetched (or the domain has none).
     */
    public synchronized Optional<MtaStsPolicy> usable(String domain, Optional<String> recordId) {
        Entry e = byDomain.get(key(domain));
        if (e == null) {
            return Optional.empty();
        }
        if (!clock.instant().isBefore(e.expires)) {
            byDomain.remove(key(domain));
            return Optional.empty();
        }
        if (recordId.isPresent() && !recordId.get().equals(e.id)) {
            return Optional.empty();
        }
        return Optional.of(e.policy);
    }

    /** The unexpired cached policy of {@code domain}, whatever its id: what to use when a fetch fails. */
    public synchronized Optional<MtaStsPolicy> unexpired(String domain) {
        Entry e = byDomain.get(key(domain));
        return e != null && clock.instant().isBefore(e.expires) ? Optional.of(e.policy) : Optional.empty();
    }

    /** {@code policy} was fetched now for {@code domain} under the TXT id {@code recordId}: kept for its max_age. */
    public synchronized void fetched(String domain, String recordId, MtaStsPolicy policy) {
        Preconditions.checkNotNull(policy, "policy");
        byDomain.put(key(domain), new Entry(Preconditions.checkNotNull(recordId, "recordId"), policy,
                clock.instant().plus(policy.maxAge())));
    }

    private static String key(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        return d.endsWith(".") ? d.substring(0, d.length() - 1) : d;
    }
}
