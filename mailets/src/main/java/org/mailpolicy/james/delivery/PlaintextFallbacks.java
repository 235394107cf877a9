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
 * MX hosts whose STARTTLS handshake failed under {@code opportunistic} TLS, each until when it is sent plaintext, and
 * the destination whose attempt found it out (for WebAdmin). In memory, on this node: after a restart, or on another
 * node of a cluster, the first attempt to such a host tries TLS again, fails once more and starts its own fallback,
 * which costs one retried attempt per node and loses nothing.
 */
public final class PlaintextFallbacks {
    private final Clock clock;
    private final Map<String, Fallback> byHost = new HashMap<>();

    private static final class Fallback {
        final String destination;
        final Instant until;

        Fallback(String destination, Instant until) {
            this.destination = destination;
            this.until = until;
        }
    }

    public PlaintextFallbacks(Clock clock) {
        this.clock = Preconditions.checkNotNull(clock, "clock");
    }

    /** The handshake with {@code host}, tried for {@code destination} (its state key), failed: plaintext for {@code period}. */
    public synchronized void handshakeFailed(String destination, String host, Duration period) {
        byHost.put(key(host), new Fallback(Preconditions.checkNotNull(destination, "destination"),
                clock.instant().plus(period)));
    }

    /** Whether {@code host} is sent plaintext now. */
    public synchronized boolean inFallback(String host) {
        Fallback f = byHost.get(key(host));
        if (f == null) {
            return false;
        }
        if (!clock.instant().isBefore(f.until)) {
            byHost.remove(key(host));
            return false;
        }
        return true;
    }

    /** Every host sent plaintext now, with when TLS is tried again; sorted by host. */
    public synchronized Map<String, Instant> current() {
        return hosts(null);
    }

    /** The hosts of {@code destination} (a state key) sent plaintext now, with when TLS is tried again. */
    public synchronized Map<String, Instant> of(String destination) {
        return hosts(Preconditions.checkNotNull(destination, "destination"));
    }

    private Map<String, Instant> hosts(String destination) {
        Instant now = clock.instant();
        byHost.values().removeIf(f -> !now.isBefore(f.until));
        ImmutableSortedMap.Builder<String, Instant> out = ImmutableSortedMap.naturalOrder();
        byHost.forEach((host, f) -> {
            if (destination == null || destination.equals(f.destination)) {
                out.put(host, f.until);
            }
        });
        return out.build();
    }

    private static String key(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
