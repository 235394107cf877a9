package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.mailpolicy.yaml.Durations;

/**
 * How long to wait before the next attempt of one message, after a number of failed attempts:
 * either an explicit list of delays (the last repeats) or an exponential backoff with a cap and
 * jitter. Pure: the jitter comes from a hash of the message key and the attempt number, so the same
 * message gets the same delays on every node and after a restart, while different messages spread.
 */
public final class RetrySchedule {
    private final ImmutableList<Duration> delays;
    private final Duration initial;
    private final double factor;
    private final Duration max;
    private final double jitter;

    private RetrySchedule(List<Duration> delays, Duration initial, double factor, Duration max, double jitter) {
        this.delays = delays == null ? null : ImmutableList.copyOf(delays);
        this.initial = initial;
        this.factor = factor;
        this.max = max;
        this.jitter = jitter;
    }

    /** Waits {@code delays[0]} after the first failure, {@code delays[1]} after the second, ...; the last repeats. */
    public static RetrySchedule explicit(List<Duration> delays) {
        Preconditions.checkArgument(delays != null && !delays.isEmpty(), "a retry schedule needs at least one delay");
        for (Duration d : delays) {
            checkPositive(d, "retry delay");
        }
        return new RetrySchedule(delays, null, 0, null, 0);
    }

    /**
     * Waits {@code initial × factor^(n-1)}, capped at {@code max}, after the n-th failure, then
     * shortens it by up to {@code jitter} (a fraction in [0, 1)) so that messages queued together do
     * not come back together. Jitter only shortens: the operator's cap is never exceeded.
     */
    public static RetrySchedule exponential(Duration initial, double factor, Duration max, double jitter) {
        checkPositive(initial, "initial");
        checkPositive(max, "max");
        Preconditions.checkArgument(factor >= 1.0 && !Double.isInfinite(factor), "factor must be at least 1: %s", factor);
        Preconditions.checkArgument(max.compareTo(initial) >= 0, "max (%s) must not be below initial (%s)", max, initial);
        Preconditions.checkArgument(jitter >= 0.0 && jitter < 1.0, "jitter must be in [0, 1): %s", jitter);
        return new RetrySchedule(null, initial, factor, max, jitter);
    }

    private static void checkPositive(Duration d, String what) {
        Preconditions.checkArgument(d != null && !d.isNegative() && !d.isZero(), "%s must be positive: %s", what, d);
    }

    /**
     * The wait after {@code failedAttempts} failures (at least 1) of the message {@code messageKey}.
     */
    public Duration delayAfter(int failedAttempts, String messageKey) {
        Preconditions.checkArgument(failedAttempts >= 1, "failedAttempts must be at least 1: %s", failedAttempts);
        Preconditions.checkNotNull(messageKey, "messageKey");
        if (delays != null) {
            return delays.get(Math.min(failedAttempts, delays.size()) - 1);
        }
        double base = initial.toMillis() * Math.pow(factor, failedAttempts - 1);
        double capped = Math.min(base, max.toMillis());
        double shortened = capped * (1.0 - jitter * unitHash(messageKey, failedAttempts));
        return Duration.ofMillis(Math.max(1000L, Math.round(shortened)));
    }

    /** A number in [0, 1) from the message key and attempt; stable across JVMs and versions. */
    private static double unitHash(String messageKey, int attempt) {
        int h = Hashing.murmur3_32_fixed().newHasher()
                .putString(messageKey, StandardCharsets.UTF_8)
                .putInt(attempt)
                .hash().asInt();
        return (h & 0xffffffffL) / 4294967296.0;
    }

    public boolean isExponential() {
        return delays == null;
    }

    /** The explicit delays; empty for an exponential schedule. */
    public List<Duration> explicitDelays() {
        return delays == null ? ImmutableList.of() : delays;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RetrySchedule)) {
            return false;
        }
        RetrySchedule that = (RetrySchedule) o;
        return Objects.equals(delays, that.delays) && Objects.equals(initial, that.initial)
                && factor == that.factor && Objects.equals(max, that.max) && jitter == that.jitter;
    }

    @Override
    public int hashCode() {
        return Objects.hash(delays, initial, factor, max, jitter);
    }

    @Override
    public String toString() {
        if (delays != null) {
            StringBuilder sb = new StringBuilder("schedule [");
            for (int i = 0; i < delays.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(Durations.format(delays.get(i)));
            }
            return sb.append(']').toString();
        }
        return "exponential {initial: " + Durations.format(initial) + ", factor: " + factor
                + ", max: " + Durations.format(max) + ", jitter: " + jitter + "}";
    }
}
