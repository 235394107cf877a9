package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Optional;
import java.util.Objects;
import org.mailpolicy.yaml.Durations;

/**
 * How long a destination is held after it throttles us: {@link #initial()} the first time, times
 * {@link #growth()} on each throttle that follows, never above {@link #max()}; successes shrink it
 * back the same way.
 */
public final class ThrottleHold {
    private final Duration initial;
    private final double growth;
    private final Duration max;

    private ThrottleHold(Duration initial, double growth, Duration max) {
        this.initial = initial;
        this.growth = growth;
        this.max = max;
    }

    public static ThrottleHold of(Duration initial, double growth, Duration max) {
        Preconditions.checkArgument(initial != null && !initial.isNegative() && !initial.isZero(),
                "initial hold must be positive: %s", initial);
        Preconditions.checkArgument(max != null && max.compareTo(initial) >= 0,
                "max hold (%s) must not be below initial (%s)", max, initial);
        Preconditions.checkArgument(growth >= 1.0 && !Double.isInfinite(growth), "growth must be at least 1: %s", growth);
        return new ThrottleHold(initial, growth, max);
    }

    public Duration initial() {
        return initial;
    }

    public double growth() {
        return growth;
    }

    public Duration max() {
        return max;
    }

    /** The hold after one more throttle, given the current one (zero when none). */
    public Duration next(Duration current) {
        Preconditions.checkNotNull(current, "current");
        if (current.isZero() || current.isNegative() || current.compareTo(initial) < 0) {
            return initial;
        }
        return min(scale(current, growth), max);
    }

    /**
     * The hold after one more throttle when the matching rule suggests at least {@code hint}: the
     * longer of {@link #next} and the hint, but never above {@link #max()}. The operator's maximum
     * wins over the rules file, so a short-timed policy (a sandbox, a test) stays short.
     */
    public Duration next(Duration current, Optional<Duration> hint) {
        Duration grown = next(current);
        Duration bounded = boundedHint(hint);
        return bounded.compareTo(grown) > 0 ? bounded : grown;
    }

    /** A rule's hold hint, between zero and {@link #max()}; zero when there is none. */
    public Duration boundedHint(Optional<Duration> hint) {
        Preconditions.checkNotNull(hint, "hint");
        return min(hint.filter(h -> !h.isNegative()).orElse(Duration.ZERO), max);
    }

    /** The hold after one success: divided by growth; below initial it is gone (zero). */
    public Duration shrink(Duration current) {
        Preconditions.checkNotNull(current, "current");
        if (current.compareTo(initial) <= 0) {
            return Duration.ZERO;
        }
        Duration smaller = scale(current, 1.0 / growth);
        return smaller.compareTo(initial) < 0 ? initial : smaller;
    }

    private static Duration scale(Duration d, double by) {
        double millis = d.toMillis() * by;
        return millis >= Long.MAX_VALUE / 2 ? Duration.ofMillis(Long.MAX_VALUE / 2) : Duration.ofMillis(Math.round(millis));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ThrottleHold)) {
            return false;
        }
        ThrottleHold that = (ThrottleHold) o;
        return initial.equals(that.initial) && growth == that.growth && max.equals(that.max);
    }

    @Override
    public int hashCode() {
        return Objects.hash(initial, growth, max);
    }

    @Override
    public String toString() {
        return "{initial: " + Durations.format(initial) + ", growth: " + growth + ", max: " + Durations.format(max) + "}";
    }
}
