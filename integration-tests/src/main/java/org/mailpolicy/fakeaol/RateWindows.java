package org.mailpolicy.fakeaol;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-client sliding one-minute windows of admitted messages, and how often a client over its budget kept connecting.
 * One instance per activation of a rate mode, so that setting the mode again starts every client afresh.
 */
final class RateWindows {
    private static final Duration WINDOW = Duration.ofMinutes(1);

    private final int perMinute;
    private final Map<String, ClientWindow> clients = new HashMap<>();

    RateWindows(int perMinute) {
        if (perMinute < 1) {
            throw new IllegalArgumentException("perMinute must be at least 1, was " + perMinute);
        }
        this.perMinute = perMinute;
    }

    /** Admits one more message from the client if its budget allows; false means over the limit. */
    synchronized boolean tryAdmit(String client, Instant now) {
        ClientWindow window = window(client, now);
        if (window.admitted.size() >= perMinute) {
            return false;
        }
        window.admitted.addLast(now);
        return true;
    }

    /**
     * Called on every connection: returns how many connections in a row the client has made while over its budget,
     * this one included, or 0 if it is within budget (which also forgives its earlier persistence).
     */
    synchronized int connectsWhileOverLimit(String client, Instant now) {
        ClientWindow window = window(client, now);
        if (window.admitted.size() < perMinute) {
            window.connectsWhileOverLimit = 0;
        } else {
            window.connectsWhileOverLimit++;
        }
        return window.connectsWhileOverLimit;
    }

    private ClientWindow window(String client, Instant now) {
        ClientWindow window = clients.computeIfAbsent(client, c -> new ClientWindow());
        Instant windowStart = now.minus(WINDOW);
        while (!window.admitted.isEmpty() && !window.admitted.peekFirst().isAfter(windowStart)) {
            window.admitted.removeFirst();
        }
        return window;
    }

    private static final class ClientWindow {
        final Deque<Instant> admitted = new ArrayDeque<>();
        int connectsWhileOverLimit;
    }
}
