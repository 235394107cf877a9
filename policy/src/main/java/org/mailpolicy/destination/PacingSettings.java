package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Objects;

/**
 * How a destination's pace adapts to what the receiver says. The policy's {@code rate} and
 * {@code concurrency} are ceilings; the effective values start at {@link #start()} of them, double
 * while the destination has never pushed back (slow start), then grow by {@link #step()} of the
 * ceiling per rate period (at most one step per {@link #growEvery()}) once {@link #quiet()} has
 * passed since the last signal, and are cut by {@link #cut()} on the signal that concerns them. Nobody knows a receiver's
 * real limits, so the file's numbers are only bounds. {@link #isAdaptive()} false keeps the
 * ceilings as fixed values (the behaviour before pacing).
 */
public final class PacingSettings {
    /**
     * Half the ceilings, doubling every 2 s until the first signal; cut in half; after 30 quiet
     * minutes, a tenth of the ceiling more per rate period. A receiver's limit is rarely raised within
     * the hour, and each probe above it costs a refusal (for AOL, a hold): growth after a signal is slow.
     */
    public static final PacingSettings DEFAULT = new PacingSettings(true, 0.5, 0.5, 0.1, Duration.ofSeconds(2),
            Duration.ofMinutes(30), Duration.ofSeconds(30));
    /** The ceilings are the pace: no adaptation. */
    public static final PacingSettings FIXED = new PacingSettings(false, 1.0, 0.5, 0.1, Duration.ofSeconds(2),
            Duration.ofMinutes(30), Duration.ofSeconds(30));

    private final boolean adaptive;
    private final double start;
    private final double cut;
    private final double step;
    private final Duration growEvery;
    private final Duration quiet;
    private final Duration pause;

    private PacingSettings(boolean adaptive, double start, double cut, double step, Duration growEvery, Duration quiet,
                           Duration pause) {
        this.adaptive = adaptive;
        this.start = start;
        this.cut = cut;
        this.step = step;
        this.growEvery = growEvery;
        this.quiet = quiet;
        this.pause = pause;
    }

    /**
     * @throws IllegalArgumentException naming the setting out of range
     */
    public static PacingSettings of(boolean adaptive, double start, double cut, double step, Duration growEvery,
                                    Duration quiet, Duration pause) {
        Preconditions.checkArgument(start > 0 && start <= 1, "start must be in (0, 1]: %s", start);
        Preconditions.checkArgument(cut > 0 && cut < 1, "cut must be in (0, 1): %s", cut);
        Preconditions.checkArgument(step > 0 && step <= 1, "step must be in (0, 1]: %s", step);
        Preconditions.checkArgument(positive(growEvery), "growEvery must be positive: %s", growEvery);
        Preconditions.checkArgument(positive(quiet), "quiet must be positive: %s", quiet);
        Preconditions.checkArgument(positive(pause), "pause must be positive: %s", pause);
        return new PacingSettings(adaptive, start, cut, step, growEvery, quiet, pause);
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    public boolean isAdaptive() {
        return adaptive;
    }

    /** The share of the ceilings a destination starts at. */
    public double start() {
        return start;
    }

    /** The factor a signal multiplies the value it concerns by. */
    public double cut() {
        return cut;
    }

    /** The share of the ceiling added per growth step after a signal. */
    public double step() {
        return step;
    }

    /** Slow start doubles at most once per this much clean sending; an additive step waits a whole rate period too. */
    public Duration growEvery() {
        return growEvery;
    }

    /** No growth until this long after the last signal; doubled for each further signal within the hour. */
    public Duration quiet() {
        return quiet;
    }

    /** The wait before the probe after a repeated rate signal (the first is paced by the lower rate alone); doubles with each. */
    public Duration pause() {
        return pause;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PacingSettings)) {
            return false;
        }
        PacingSettings p = (PacingSettings) o;
        return adaptive == p.adaptive && start == p.start && cut == p.cut && step == p.step
                && growEvery.equals(p.growEvery) && quiet.equals(p.quiet) && pause.equals(p.pause);
    }

    @Override
    public int hashCode() {
        return Objects.hash(adaptive, start, cut, step, growEvery, quiet, pause);
    }

    @Override
    public String toString() {
        return adaptive ? "adaptive{start " + start + ", cut " + cut + ", step " + step + ", every " + growEvery
                + ", quiet " + quiet + ", pause " + pause + "}" : "fixed";
    }
}
