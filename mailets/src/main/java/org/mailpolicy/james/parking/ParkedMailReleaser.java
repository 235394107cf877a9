package org.mailpolicy.james.parking;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread per node that runs {@link ParkingLot#releaseDue()} every {@code every}. In a cluster each
 * node runs one; the store's claims see to it that each mail is released by one of them. A failed round
 * (the database away) is logged and the next one tries again: parked mail waits, nothing is lost.
 */
public final class ParkedMailReleaser implements AutoCloseable {
    /** Due mail goes within about a second; an idle round is one indexed query. */
    public static final Duration DEFAULT_EVERY = Duration.ofSeconds(1);
    private static final Logger LOGGER = LoggerFactory.getLogger(ParkedMailReleaser.class);

    private final ScheduledExecutorService thread;

    private ParkedMailReleaser(ScheduledExecutorService thread) {
        this.thread = thread;
    }

    public static ParkedMailReleaser start(ParkingLot lot, Duration every) {
        Preconditions.checkNotNull(lot, "lot");
        Preconditions.checkArgument(!every.isNegative() && !every.isZero(), "every must be positive");
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "PolicyRemoteDelivery-Releaser");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(() -> {
            try {
                lot.releaseDue();
            } catch (RuntimeException e) {
                LOGGER.warn("Releasing parked mail failed; trying again in {}", every, e);
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return new ParkedMailReleaser(thread);
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
