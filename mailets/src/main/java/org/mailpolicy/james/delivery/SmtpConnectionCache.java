package org.mailpolicy.james.delivery;

import com.google.common.annotations.VisibleForTesting;
import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.mailpolicy.destination.ConnectionSettings;
import org.mailpolicy.james.metrics.DeliveryMetrics;

/**
 * Open, idle SMTP connections, per destination and MX host, for the next mail to take instead of
 * connecting again (as Postfix's connection cache, KumoMTA's and PowerMTA's per-connection message
 * limits do). A delivery thread {@link #take}s an idle connection for its host or {@link #reserve}s a
 * new one, sends one mail, and {@link #giveBack}s it: kept while it is healthy, below its destination's
 * {@code maxMessages} and within the open-connection bound, closed otherwise. Idle connections expire
 * after the destination's {@code idleTimeout}, checked on every take and by a reaper once a second.
 *
 * <p><b>Open connections count against concurrency, idle ones included.</b> Admission bounds the
 * attempts in flight by the destination's effective concurrency, but a receiver counts sockets, not
 * our attempts: three attempts in flight beside two idle connections are five connections to it. So
 * this cache counts, per destination key, the connections in use and idle, and keeps their sum within
 * the bound each attempt brings ({@link ConnectionTerms#maxOpen()}, the effective concurrency when it was
 * admitted): before a new connection is opened the oldest idle ones of that destination are closed to
 * make room, and a connection given back is closed rather than kept when the sum would pass the bound
 * (after a "too many connections" cut, say). Closing an idle connection to open another costs a
 * connect, never a slot the receiver would refuse.
 *
 * <p>Thread-safe; network I/O (QUIT) happens outside the lock.
 */
final class SmtpConnectionCache implements AutoCloseable {
    private static final Duration REAPER_PERIOD = Duration.ofSeconds(1);

    private final LongSupplier nanoTime;
    private final Optional<DeliveryMetrics> metrics;
    private final Object lock = new Object();
    /** By destination key; a destination with nothing in use and nothing idle is dropped. */
    private final Map<String, DestinationConnections> destinations = new HashMap<>();
    private ScheduledExecutorService reaper;
    private boolean closed;

    /** A destination's connections: how many are in use, and the idle ones, oldest first. */
    private static final class DestinationConnections {
        int inUse;
        final Deque<Idle> idle = new ArrayDeque<>();

        int open() {
            return inUse + idle.size();
        }
    }

    private static final class Idle {
        final SmtpConnection connection;
        final long sinceNanos;
        final long expiresAtNanos;

        Idle(SmtpConnection connection, long sinceNanos, long expiresAtNanos) {
            this.connection = connection;
            this.sinceNanos = sinceNanos;
            this.expiresAtNanos = expiresAtNanos;
        }
    }

    /** A closing decided under the lock, done after it. */
    private static final class Closing {
        final SmtpConnection connection;
        final String why;

        Closing(SmtpConnection connection, String why) {
            this.connection = connection;
            this.why = why;
        }
    }

    SmtpConnectionCache(LongSupplier nanoTime, Optional<DeliveryMetrics> metrics) {
        this.nanoTime = Preconditions.checkNotNull(nanoTime, "nanoTime");
        this.metrics = Preconditions.checkNotNull(metrics, "metrics");
    }

    /** A cache on the system's clock, with a reaper thread closing expired idle connections until {@link #close()}. */
    static SmtpConnectionCache withReaper(Optional<DeliveryMetrics> metrics) {
        SmtpConnectionCache cache = new SmtpConnectionCache(System::nanoTime, metrics);
        cache.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "policy-delivery-connection-reaper");
            t.setDaemon(true);
            return t;
        });
        cache.reaper.scheduleWithFixedDelay(cache::closeExpired, REAPER_PERIOD.toMillis(), REAPER_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
        return cache;
    }

    /**
     * The most recently used idle connection for {@code key}, now in use; empty when there is none.
     * Expired idle connections of the destination, and any beyond {@code maxOpen}, are closed on the way.
     */
    Optional<SmtpConnection> take(ConnectionKey key, int maxOpen) {
        List<Closing> closings = new ArrayList<>();
        Optional<SmtpConnection> taken = Optional.empty();
        synchronized (lock) {
            DestinationConnections d = destinations.get(key.destination());
            if (d != null) {
                expire(d, nanoTime.getAsLong(), closings);
                shrinkIdle(d, maxOpen, closings);
                Iterator<Idle> newestFirst = d.idle.descendingIterator();
                while (newestFirst.hasNext()) {
                    Idle idle = newestFirst.next();
                    if (idle.connection.key().equals(key)) {
                        newestFirst.remove();
                        d.inUse++;
                        idle.connection.takenAfterIdle(nanoTime.getAsLong() - idle.sinceNanos);
                        taken = Optional.of(idle.connection);
                        break;
                    }
                }
                forgetIfUnused(key.destination(), d);
            }
        }
        closeAll(closings);
        taken.ifPresent(c -> metrics.ifPresent(m -> m.connectionReused(c.metricsName())));
        return taken;
    }

    /**
     * Counts a new connection for {@code key} as in use before it is opened, first closing the oldest idle
     * connections of its destination while in use plus idle plus this one would exceed {@code maxOpen}.
     * The caller connects {@code transport}, then reports {@link #opened} or {@link #discard}s it.
     */
    SmtpConnection reserve(ConnectionKey key, String metricsName, int maxOpen, ReplyRecordingTransport transport) {
        List<Closing> closings = new ArrayList<>();
        synchronized (lock) {
            DestinationConnections d = destinations.computeIfAbsent(key.destination(), k -> new DestinationConnections());
            expire(d, nanoTime.getAsLong(), closings);
            shrinkIdle(d, maxOpen - 1, closings);
            d.inUse++;
        }
        closeAll(closings);
        return new SmtpConnection(key, metricsName, transport);
    }

    /** The reserved connection is open and greeted, with the TLS it has. */
    void opened(SmtpConnection connection) {
        metrics.ifPresent(m -> {
            m.connectionOpened(connection.metricsName());
            m.connectionTls(connection.metricsName(), connection.tls().kind());
        });
    }

    /**
     * The mail is done with {@code connection}. Kept idle for the next mail when {@code reusable}, below
     * {@code settings}' message limit and within {@code maxOpen}; otherwise closed.
     */
    void giveBack(SmtpConnection connection, boolean reusable, String notReusableBecause, ConnectionSettings settings,
                  int maxOpen) {
        String why = null;
        synchronized (lock) {
            DestinationConnections d = release(connection);
            if (closed) {
                why = "shutting down";
            } else if (!reusable) {
                why = notReusableBecause;
            } else if (connection.transactions() >= settings.maxMessages()) {
                why = "message limit " + settings.maxMessages() + " reached";
            } else if (d.open() + 1 > maxOpen) {
                why = "open connection limit " + maxOpen + " reached";
            } else {
                long now = nanoTime.getAsLong();
                d.idle.addLast(new Idle(connection, now, now + settings.idleTimeout().toNanos()));
            }
            forgetIfUnused(connection.key().destination(), d);
        }
        if (why != null) {
            connection.close(why);
        }
    }

    /** The connection could not be opened or turned out dead: closed and no longer counted. */
    void discard(SmtpConnection connection, String why) {
        synchronized (lock) {
            forgetIfUnused(connection.key().destination(), release(connection));
        }
        connection.close(why);
    }

    /** Closes every idle connection past its destination's idle timeout. */
    void closeExpired() {
        List<Closing> closings = new ArrayList<>();
        synchronized (lock) {
            long now = nanoTime.getAsLong();
            Iterator<Map.Entry<String, DestinationConnections>> it = destinations.entrySet().iterator();
            while (it.hasNext()) {
                DestinationConnections d = it.next().getValue();
                expire(d, now, closings);
                if (d.open() == 0) {
                    it.remove();
                }
            }
        }
        closeAll(closings);
    }

    /** Closes every idle connection and stops the reaper; connections in use are closed when given back. */
    @Override
    public void close() {
        List<Closing> closings = new ArrayList<>();
        synchronized (lock) {
            closed = true;
            for (DestinationConnections d : destinations.values()) {
                shrinkIdle(d, 0, closings);
            }
            destinations.values().removeIf(d -> d.open() == 0);
        }
        if (reaper != null) {
            reaper.shutdownNow();
        }
        closeAll(closings);
    }

    /** Connections open to a destination key (in use and idle), for tests. */
    @VisibleForTesting
    int openTo(String destinationKey) {
        synchronized (lock) {
            DestinationConnections d = destinations.get(destinationKey);
            return d == null ? 0 : d.open();
        }
    }

    /** Idle connections to a destination key, for tests. */
    @VisibleForTesting
    int idleTo(String destinationKey) {
        synchronized (lock) {
            DestinationConnections d = destinations.get(destinationKey);
            return d == null ? 0 : d.idle.size();
        }
    }

    private DestinationConnections release(SmtpConnection connection) {
        DestinationConnections d = destinations.computeIfAbsent(connection.key().destination(),
                k -> new DestinationConnections());
        d.inUse = Math.max(0, d.inUse - 1);
        return d;
    }

    private static void expire(DestinationConnections d, long now, List<Closing> closings) {
        Iterator<Idle> it = d.idle.iterator();
        while (it.hasNext()) {
            Idle idle = it.next();
            if (now - idle.expiresAtNanos >= 0) {
                it.remove();
                closings.add(new Closing(idle.connection, "idle timeout"));
            }
        }
    }

    /** Closes the oldest idle connections while in use plus idle exceed {@code maxOpen}. */
    private static void shrinkIdle(DestinationConnections d, int maxOpen, List<Closing> closings) {
        while (d.open() > maxOpen && !d.idle.isEmpty()) {
            closings.add(new Closing(d.idle.pollFirst().connection, "making room within the open connection limit"));
        }
    }

    private void forgetIfUnused(String destination, DestinationConnections d) {
        if (d.open() == 0) {
            destinations.remove(destination);
        }
    }

    private static void closeAll(List<Closing> closings) {
        for (Closing c : closings) {
            c.connection.close(c.why);
        }
    }
}
