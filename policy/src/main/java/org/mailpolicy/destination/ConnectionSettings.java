package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Objects;
import org.mailpolicy.yaml.Durations;

/**
 * How SMTP connections to a destination are reused: at most {@link #maxMessages()} mail transactions
 * on one connection, and an idle connection kept open for at most {@link #idleTimeout()} waiting for
 * the next mail. {@code maxMessages} 1 turns reuse off (one connection per message, as stock James).
 */
public final class ConnectionSettings {
    /**
     * 100 messages, 2 s idle. Postfix caches a connection for 2 s after use ({@code
     * smtp_connection_cache_time_limit}): long enough to catch the next mail of a burst, short enough
     * not to occupy a receiver's connection slot (and one of our own concurrency) for nothing. The
     * per-connection count bounds how long one session lives; receivers that want fewer (Yahoo and AOL
     * at 20, as the anchors ship them) say so in their destination.
     */
    public static final ConnectionSettings DEFAULT = new ConnectionSettings(100, Duration.ofSeconds(2));
    /** One message per connection: no reuse. */
    public static final ConnectionSettings NO_REUSE = new ConnectionSettings(1, Duration.ofSeconds(2));

    private final int maxMessages;
    private final Duration idleTimeout;

    private ConnectionSettings(int maxMessages, Duration idleTimeout) {
        this.maxMessages = maxMessages;
        this.idleTimeout = idleTimeout;
    }

    /**
     * @throws IllegalArgumentException naming the setting out of range
     */
    public static ConnectionSettings of(int maxMessages, Duration idleTimeout) {
        Preconditions.checkArgument(maxMessages >= 1, "maxMessages must be at least 1: %s", maxMessages);
        Preconditions.checkArgument(idleTimeout != null && !idleTimeout.isNegative() && !idleTimeout.isZero(),
                "idleTimeout must be positive: %s", idleTimeout);
        return new ConnectionSettings(maxMessages, idleTimeout);
    }

    /** The most mail transactions sent over one connection before it is closed. */
    public int maxMessages() {
        return maxMessages;
    }

    /** How long a connection is kept open, unused, for the destination's next mail. */
    public Duration idleTimeout() {
        return idleTimeout;
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
        return maxMessages == that.maxMessages && idleTimeout.equals(that.idleTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxMessages, idleTimeout);
    }

    @Override
    public String toString() {
        return "connections{maxMessages " + maxMessages + ", idleTimeout " + Durations.format(idleTimeout) + "}";
    }
}
