package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSortedMap;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * MX hosts whose STARTTLS handshake failed under {@code opportunistic} TLS, each until when it is sent plaintext. In
 * memory, on this node: after a restart, or on another node of a cluster, the first attempt to such a host tries TLS
 * again, fails once more and starts its own fallback, which costs one retried attempt per node and loses nothing.
 */
public final class PlaintextFallbacks {
    private final Clock clock;
    private final Map<String, Instant> until = new HashMap<>();

    public PlaintextFallbacks(Clock clock) {
        this.clock = Preconditions.checkNotNull(clock, "clock");
    }

    /** The handshake with {@code host} failed: plaintext for it during {@code period}. */
    public synchronized void handshakeFailed(String host, Duration period) {
        until.put(key(host), clock.instant().plus(period));
    }

    /** Whether {@code host} is sent plaintext now. */
    public synchronized boolean inFallback(String host) {
        Instant end = until.get(key(host));
        if (end == null) {
            return false;
        }
        if (!clock.instant().isBefore(end)) {
            until.remove(key(host));
            return false;
        }
        return true;
    }

    /** Hosts sent plaintext now, each with when TLS is tried again; sorted by host. */
    public synchronized Map<String, Instant> current() {
        Instant now = clock.instant();
        until.values().removeIf(end -> !now.isBefore(end));
        return ImmutableSortedMap.copyOf(until);
    }

    private static String key(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
