package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.state.Admission;

class AdmissionGateTest {
    private static final Clock CLOCK = Clock.systemUTC();
    private static final Duration BUSY_WAIT = Duration.ofSeconds(10);
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final AdmissionGate gate = new AdmissionGate(CLOCK, Duration.ofSeconds(2), 4);

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    /** A destination with {@code slots} concurrency slots, refusing as the store does (come back after the busy wait). */
    private static final class Slots implements Supplier<Admission> {
        final AtomicInteger free;
        final AtomicInteger asked = new AtomicInteger();

        Slots(int slots) {
            free = new AtomicInteger(slots);
        }

        @Override
        public Admission get() {
            asked.incrementAndGet();
            if (free.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0) {
                return Admission.granted(1);
            }
            return Admission.waitUntil(CLOCK.instant().plus(BUSY_WAIT), "concurrency limit reached");
        }
    }

    @Test
    void aGrantIsCountedInFlightUntilReleased() throws Exception {
        Slots aol = new Slots(1);
        assertThat(gate.admit("aol", 1, aol).isGranted()).isTrue();
        assertThat(gate.keys()).isEqualTo(1);

        gate.released("aol");
        assertThat(gate.keys()).as("nothing is kept for an idle destination").isZero();
    }

    @Test
    void aThreadRefusedForASlotTakesItWhenTheAttemptInFlightEnds() throws Exception {
        Slots aol = new Slots(1);
        assertThat(gate.admit("aol", 1, aol).isGranted()).isTrue();
        long start = System.nanoTime();
        Future<Admission> waiter = threads.submit(() -> gate.admit("aol", 1, aol));
        awaitWaiting(1);

        aol.free.incrementAndGet();
        gate.released("aol");

        assertThat(waiter.get(5, TimeUnit.SECONDS).isGranted()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        assertThat(gate.waiting()).isZero();
    }

    @Test
    void aHoldIsNotWaitedFor() throws Exception {
        Instant holdEnd = CLOCK.instant().plus(Duration.ofMinutes(15));
        long start = System.nanoTime();

        Admission admission = gate.admit("aol", 3, () -> Admission.waitUntil(holdEnd, "held"));

        assertThat(admission.isGranted()).isFalse();
        assertThat(admission.notBefore()).contains(holdEnd);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
        assertThat(gate.keys()).isZero();
    }

    @Test
    void theRateLimitsNextOpeningIsWaitedForWhenItIsNear() throws Exception {
        Instant opening = CLOCK.instant().plusMillis(300);
        Supplier<Admission> rate = () -> CLOCK.instant().isBefore(opening)
                ? Admission.waitUntil(opening, "rate limit reached") : Admission.granted(1);

        assertThat(gate.admit("aol", 3, rate).isGranted()).isTrue();
        assertThat(CLOCK.instant()).isAfterOrEqualTo(opening);
    }

    @Test
    void aSlotThatDoesNotComeBackInTimeLeavesTheRefusalToRequeueBy() throws Exception {
        Slots aol = new Slots(1);
        assertThat(gate.admit("aol", 1, aol).isGranted()).isTrue();
        long start = System.nanoTime();

        Admission admission = gate.admit("aol", 1, aol);

        assertThat(admission.isGranted()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(1900), Duration.ofSeconds(4));
        assertThat(gate.waiting()).isZero();
    }

    @Test
    void noMoreThreadsWaitForADestinationThanItsConcurrency() throws Exception {
        Slots aol = new Slots(1);
        assertThat(gate.admit("aol", 1, aol).isGranted()).isTrue();
        threads.submit(() -> gate.admit("aol", 1, aol));
        awaitWaiting(1);
        long start = System.nanoTime();

        assertThat(gate.admit("aol", 1, aol).isGranted()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
    }

    @Test
    void waitingThreadsAreBoundedOverall() throws Exception {
        AdmissionGate small = new AdmissionGate(CLOCK, Duration.ofSeconds(2), 1);
        Slots aol = new Slots(1);
        Slots yahoo = new Slots(1);
        assertThat(small.admit("aol", 5, aol).isGranted()).isTrue();
        assertThat(small.admit("yahoo", 5, yahoo).isGranted()).isTrue();
        threads.submit(() -> small.admit("aol", 5, aol));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (small.waiting() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        long start = System.nanoTime();

        assertThat(small.admit("yahoo", 5, yahoo).isGranted()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
    }

    @Test
    void aGateWithoutWaitingAnswersAtOnce() throws Exception {
        AdmissionGate noWait = AdmissionGate.noWait(CLOCK);
        Slots aol = new Slots(1);
        assertThat(noWait.admit("aol", 1, aol).isGranted()).isTrue();
        long start = System.nanoTime();

        assertThat(noWait.admit("aol", 1, aol).isGranted()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
        assertThat(aol.asked.get()).isEqualTo(2);
    }

    private void awaitWaiting(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (gate.waiting() < count) {
            assertThat(System.nanoTime()).as("a thread waiting in the gate").isLessThan(deadline);
            Thread.sleep(5);
        }
    }
}
