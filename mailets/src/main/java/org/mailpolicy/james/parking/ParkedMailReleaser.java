package org.mailpolicy.james.parking;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread per node that runs {@link ParkingLot#releaseDue()}: every {@code idleEvery} while rounds release
 * nothing, and every {@value #BUSY_EVERY_MS} ms while they release mail, so that a destination draining after its
 * hold gets its next mails as soon as attempts finish (each round releases only what its allowance lets through).
 * In a cluster each node runs one; the store's claims see to it that each mail is released by one of them. A
 * failed round (the database away) is logged and the next one tries again: parked mail waits, nothing is lost.
 */
public final class ParkedMailReleaser implements AutoCloseable {
    /** Due mail goes within about a second; an idle round is one indexed query. */
    public static final Duration DEFAULT_EVERY = Duration.ofSeconds(1);
    static final long BUSY_EVERY_MS = 50;
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkedMailReleaser.class);

    private final ScheduledExecutorService thread;
    private final ParkingLot lot;
    private final long idleEveryMs;

    private ParkedMailReleaser(ScheduledExecutorService thread, ParkingLot lot, long idleEveryMs) {
        this.thread = thread;
        this.lot = lot;
        this.idleEveryMs = idleEveryMs;
    }

    public static ParkedMailReleaser start(ParkingLot lot, Duration idleEvery) {
        Preconditions.checkNotNull(lot, "lot");
        Preconditions.checkArgument(!idleEvery.isNegative() && !idleEvery.isZero(), "idleEvery must be positive");
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "PolicyRemoteDelivery-Releaser");
            t.setDaemon(true);
            return t;
        });
        ParkedMailReleaser releaser = new ParkedMailReleaser(thread, lot, idleEvery.toMillis());
        thread.schedule(releaser::round, 0, TimeUnit.MILLISECONDS);
        return releaser;
    }

    private void round() {
        long next = idleEveryMs;
        try {
            if (lot.releaseDue() > 0) {
                next = BUSY_EVERY_MS;
            }
        } catch (RuntimeException e) {
            LOGGER.warn("Releasing parked mail failed; trying again in {} ms", idleEveryMs, e);
        }
        try {
            thread.schedule(this::round, next, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // close() was called
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
