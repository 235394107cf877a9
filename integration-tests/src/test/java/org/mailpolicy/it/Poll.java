package org.mailpolicy.it;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/** Waits for an observable condition instead of sleeping a fixed time: returns as soon as it holds, fails with what was seen. */
final class Poll {
    private static final Duration INTERVAL = Duration.ofMillis(100);

    private Poll() {
    }

    /** Polls {@code probe} until {@code done} accepts its value; returns that value. */
    static <T> T until(Duration timeout, String what, Callable<T> probe, Predicate<? super T> done) {
        Instant deadline = Instant.now().plus(timeout);
        T last = null;
        Exception lastError = null;
        while (true) {
            try {
                last = probe.call();
                lastError = null;
                if (done.test(last)) {
                    return last;
                }
            } catch (Exception e) {
                lastError = e;
            }
            if (Instant.now().isAfter(deadline)) {
                AssertionError failure = new AssertionError("waited " + timeout.toSeconds() + " s for " + what
                        + "; last seen: " + last);
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            try {
                Thread.sleep(INTERVAL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }

    /** Checks that {@code probe} keeps satisfying {@code invariant} for the whole {@code period}; returns the last value. */
    static <T> T during(Duration period, String what, Callable<T> probe, Predicate<? super T> invariant) throws Exception {
        Instant end = Instant.now().plus(period);
        T last = probe.call();
        while (Instant.now().isBefore(end)) {
            last = probe.call();
            if (!invariant.test(last)) {
                throw new AssertionError("expected " + what + " for " + period.toSeconds() + " s, but saw: " + last);
            }
            Thread.sleep(INTERVAL.toMillis());
        }
        return last;
    }
}
