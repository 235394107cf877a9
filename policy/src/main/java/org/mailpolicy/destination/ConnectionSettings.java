package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Objects;
import org.mailpolicy.yaml.Durations;

/**
 * How SMTP connections to a destination are reused: at most {@link #maxMessages()} mail transactions
 * on one connection, an idle connection kept open for at most {@link #idleTimeout()} waiting for
 * the next mail, and probed with {@code RSET} before it carries one when it sat idle at least {@link
 * #rsetAfterIdle()}. {@code maxMessages} 1 turns reuse off (one connection per message, as stock James).
 */
public final class ConnectionSettings {
    /**
     * 1 s. Postfix probes every cached connection with RSET before reuse, and KumoMTA sends RSET between messages
     * unless {@code enable_rset} is off: a round trip per message, for a connection that a moment ago ended a
     * transaction with 250. Here a connection found dead when the next MAIL FROM is sent (the server closed it)
     * takes the mail to a fresh connection within the same attempt, nothing sent twice; so the probe is kept for
     * where a server may have ended the session: after a second or more of idleness, and after a transaction that
     * did not end with the message accepted. {@code 0s} probes before every reuse, as Postfix.
     */
    private static final Duration DEFAULT_RSET_AFTER_IDLE = Duration.ofSeconds(1);
    /**
     * 100 messages, 2 s idle. Postfix caches a connection for 2 s after use ({@code
     * smtp_connection_cache_time_limit}): long enough to catch the next mail of a burst, short enough
     * not to occupy a receiver's connection slot (and one of our own concurrency) for nothing. The
     * per-connection count bounds how long one session lives; receivers that want fewer (Yahoo and AOL
     * at 20, as the anchors ship them) say so in their destination.
     */
    public static final ConnectionSettings DEFAULT = new ConnectionSettings(100, Duration.ofSeconds(2),
            DEFAULT_RSET_AFTER_IDLE);
    /** One message per connection: no reuse. */
    public static final ConnectionSettings NO_REUSE = new ConnectionSettings(1, Duration.ofSeconds(2),
            DEFAULT_RSET_AFTER_IDLE);

    private final int maxMessages;
    private final Duration idleTimeout;
    private final Duration rsetAfterIdle;

    private ConnectionSettings(int maxMessages, Duration idleTimeout, Duration rsetAfterIdle) {
        this.maxMessages = maxMessages;
        this.idleTimeout = idleTimeout;
        this.rsetAfterIdle = rsetAfterIdle;
    }

    /**
     * With the default {@link #rsetAfterIdle()}.
     *
     * @throws IllegalArgumentException naming the setting out of range
     */
    public static ConnectionSettings of(int maxMessages, Duration idleTimeout) {
        return of(maxMessages, idleTimeout, DEFAULT_RSET_AFTER_IDLE);
    }

    /**
     * @throws IllegalArgumentException naming the setting out of range
     */
    public static ConnectionSettings of(int maxMessages, Duration idleTimeout, Duration rsetAfterIdle) {
        Preconditions.checkArgument(maxMessages >= 1, "maxMessages must be at least 1: %s", maxMessages);
        Preconditions.checkArgument(idleTimeout != null && !idleTimeout.isNegative() && !idleTimeout.isZero(),
                "idleTimeout must be positive: %s", idleTimeout);
        Preconditions.checkArgument(rsetAfterIdle != null && !rsetAfterIdle.isNegative(),
                "rsetAfterIdle must not be negative: %s", rsetAfterIdle);
        return new ConnectionSettings(maxMessages, idleTimeout, rsetAfterIdle);
    }

    /** The most mail transactions sent over one connection before it is closed. */
    public int maxMessages() {
        return maxMessages;
    }

    /** How long a connection is kept open, unused, for the destination's next mail. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /**
     * How long a connection must have sat idle before it is probed with {@code RSET} ahead of its next mail; a
     * connection whose last transaction did not end with the message accepted is probed whatever its idle time.
     * {@link Duration#ZERO}: before every reuse.
     */
    public Duration rsetAfterIdle() {
        return rsetAfterIdle;
    }

    /** Whether a connection may carry more than one message. */
    public boolean reuses() {
        return maxMessages > 1;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ConnectionSettings)) {
            return false;
        }
        ConnectionSettings that = (ConnectionSettings) o;
        return maxMessages == that.maxMessages && idleTimeout.equals(that.idleTimeout)
                && rsetAfterIdle.equals(that.rsetAfterIdle);
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxMessages, idleTimeout, rsetAfterIdle);
    }

    @Override
    public String toString() {
        return "connections{maxMessages " + maxMessages + ", idleTimeout " + Durations.format(idleTimeout)
                + ", rsetAfterIdle " + Durations.format(rsetAfterIdle) + "}";
    }
}
