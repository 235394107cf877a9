package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.RateLimit;

/**
 * A destination's effective pace under its policy's ceilings, and what the controller remembers to
 * move it: additive increase, multiplicative decrease, as TCP and Postfix's concurrency feedback
 * do, with three additions for mail. A fresh destination doubles its pace while nothing pushed
 * back (slow start), so a generous receiver is reached in seconds. A rate signal cuts the rate to
 * at most 90 % of what the receiver accepted in the last rate period, its revealed limit, when no
 * earlier signal falls inside that period. After a signal the pace stays put for a quiet period that
 * doubles with each further signal within the hour, so a limit is not probed again and again.
 *
 * <p>Immutable and pure: every method returns a new value; time comes in as a parameter.
 */
public final class Pace {
    /** Signals this far apart are not "repeated": the count starts again, and slow start is allowed again. */
    static final Duration SIGNAL_MEMORY = Duration.ofHours(1);
    /** Below the revealed limit by this share, so that a window counted slightly differently still fits. */
    static final double MARGIN = 0.9;
    /** The lowest rate as a share of the ceiling: a destination never stops for good because of pacing. */
    static final double RATE_FLOOR_SHARE = 0.02;

    private final double rate;
    private final int concurrency;
    private final Instant changedAt;
    private final Instant lastSignalAt;
    private final int recentSignals;
    /**
     * The rate signals among them. A "too many connections" says nothing about the message rate: it must
     * neither make a rate refusal look repeated (a longer pause before the probe) nor make the period's
     * count of starts look unreliable (a blind halving instead of the revealed limit). Real receivers
     * give both: Postfix's anvil refuses a connection it still counts as open, then its rate limit.
     */
    private final Instant lastRateSignalAt;
    private final int rateSignals;

    private Pace(double rate, int concurrency, Instant changedAt, Instant lastSignalAt, int recentSignals,
                 Instant lastRateSignalAt, int rateSignals) {
        this.rate = rate;
        this.concurrency = concurrency;
        this.changedAt = changedAt;
        this.lastSignalAt = lastSignalAt;
        this.recentSignals = recentSignals;
        this.lastRateSignalAt = lastRateSignalAt;
        this.rateSignals = rateSignals;
    }

    /** Where a destination never seen starts: the policy's share of its ceilings. */
    public static Pace initial(DestinationPolicy policy, Instant now) {
        PacingSettings p = policy.pacing();
        double ceilingRate = policy.rateLimit().map(RateLimit::count).orElse(0);
        return new Pace(ceilingRate * p.start(), Math.max(1, (int) Math.ceil(policy.concurrency() * p.start())), now,
                null, 0, null, 0);
    }

    /** A pace as stored before rate signals were told apart: every signal is taken for a rate signal. */
    public static Pace of(double rate, int concurrency, Instant changedAt, Optional<Instant> lastSignalAt,
                          int recentSignals) {
        return of(rate, concurrency, changedAt, lastSignalAt, recentSignals, lastSignalAt, recentSignals);
    }

    /** A pace as stored; {@code rate} in starts per the rate ceiling's period. */
    public static Pace of(double rate, int concurrency, Instant changedAt, Optional<Instant> lastSignalAt,
                          int recentSignals, Optional<Instant> lastRateSignalAt, int rateSignals) {
        Preconditions.checkArgument(rate >= 0 && !Double.isNaN(rate), "rate must not be negative: %s", rate);
        Preconditions.checkArgument(concurrency >= 1, "concurrency must be at least 1: %s", concurrency);
        Preconditions.checkArgument(recentSignals >= 0, "recentSignals must not be negative: %s", recentSignals);
        Preconditions.checkArgument(rateSignals >= 0 && rateSignals <= recentSignals,
                "rateSignals must be between 0 and recentSignals (%s): %s", recentSignals, rateSignals);
        return new Pace(rate, concurrency, Preconditions.checkNotNull(changedAt, "changedAt"),
                lastSignalAt.orElse(null), recentSignals, lastRateSignalAt.orElse(null), rateSignals);
    }

    /** Starts allowed per the ceiling's period now: the ceiling itself when pacing is fixed. Zero without a ceiling. */
    public double effectiveRate(DestinationPolicy policy) {
        Optional<RateLimit> ceiling = policy.rateLimit();
        if (!ceiling.isPresent()) {
            return 0;
        }
        int max = ceiling.get().count();
        if (!policy.pacing().isAdaptive()) {
            return max;
        }
        return Math.max(rateFloor(max), Math.min(max, rate));
    }

    /** Connections allowed at once now: the ceiling itself when pacing is fixed. */
    public int effectiveConcurrency(DestinationPolicy policy) {
        return policy.pacing().isAdaptive() ? Math.max(1, Math.min(policy.concurrency(), concurrency))
                : policy.concurrency();
    }

    /**
     * An attempt succeeded: one growth step if the last change is {@code growEvery} old and the
     * destination is quiet enough. Doubling while it never pushed back (within the signal memory),
     * then a step of the ceiling at a time, at most one per rate period.
     */
    public Pace grown(DestinationPolicy policy, Instant now) {
        PacingSettings p = policy.pacing();
        if (!p.isAdaptive() || now.isBefore(changedAt.plus(p.growEvery()))) {
            return this;
        }
        int maxRate = policy.rateLimit().map(RateLimit::count).orElse(0);
        double r = effectiveRate(policy);
        int c = effectiveConcurrency(policy);
        if (r >= maxRate && c >= policy.concurrency()) {
            return this;
        }
        if (slowStart(now)) {
            return new Pace(Math.min(maxRate, r * 2), Math.min(policy.concurrency(), c * 2), now, lastSignalAt,
                    recentSignals, lastRateSignalAt, rateSignals);
        }
        // Additive steps: one per rate period (a minute for /m), as TCP adds one segment per round trip.
        Duration stepEvery = policy.rateLimit().map(RateLimit::per).filter(per -> per.compareTo(p.growEvery()) > 0)
                .orElse(p.growEvery());
        if (now.isBefore(lastSignalAt.plus(quietAfterSignal(p))) || now.isBefore(changedAt.plus(stepEvery))) {
            return this;
        }
        return new Pace(Math.min(maxRate, r + p.step() * maxRate), Math.min(policy.concurrency(), c + 1), now,
                lastSignalAt, recentSignals, lastRateSignalAt, rateSignals);
    }

    /**
     * The receiver refused for sending too much ({@code 450 4.7.1 too much mail}, Yahoo's
     * {@code [TS02]}). {@code startsInPeriod} is how many attempts started in the last rate period,
     * this one included: when the whole period was sent at the pace being cut, that count is what
     * the receiver takes per period, and the new rate goes just under it (if that is lower than the
     * policy's cut); when an earlier signal falls inside the period (a probe after a cut), the
     * count says nothing and the rate is cut by the policy's factor.
     */
    public Pace rateCut(DestinationPolicy policy, int startsInPeriod, Instant now) {
        Pace signalled = signalled(now);
        boolean repeated = lastRateSignalAt != null && now.isBefore(lastRateSignalAt.plus(SIGNAL_MEMORY));
        Pace rateSignalled = new Pace(signalled.rate, signalled.concurrency, signalled.changedAt,
                signalled.lastSignalAt, signalled.recentSignals, now, repeated ? rateSignals + 1 : 1);
        if (!policy.pacing().isAdaptive() || !policy.rateLimit().isPresent()) {
            return rateSignalled;
        }
        RateLimit ceiling = policy.rateLimit().get();
        double r = effectiveRate(policy);
        double cut = r * policy.pacing().cut();
        // The count is the receiver's limit only if no earlier rate cut falls inside the period.
        boolean periodFreeOfCuts = lastRateSignalAt == null || !lastRateSignalAt.isAfter(now.minus(ceiling.per()));
        if (periodFreeOfCuts && startsInPeriod > 0) {
            cut = Math.min(cut, MARGIN * startsInPeriod);
        }
        return new Pace(Math.max(rateFloor(ceiling.count()), cut), concurrency, now, rateSignalled.lastSignalAt,
                rateSignalled.recentSignals, rateSignalled.lastRateSignalAt, rateSignalled.rateSignals);
    }

    /**
     * The receiver refused a connection for too many at once. {@code inFlight} counts the
     * connections open when it said so, the refused one included: the receiver allows fewer than
     * that, so the pace goes one below it (and at least one below the current value).
     */
    public Pace connectionsCut(DestinationPolicy policy, int inFlight, Instant now) {
        Pace signalled = signalled(now);
        if (!policy.pacing().isAdaptive()) {
            return signalled;
        }
        int c = effectiveConcurrency(policy);
        int next = Math.max(1, Math.min(c - 1, inFlight - 1));
        return new Pace(rate, next, now, signalled.lastSignalAt, signalled.recentSignals, lastRateSignalAt, rateSignals);
    }

    /** A throttle that cuts neither value (a hold alone) still counts as a signal: no growth for the quiet period. */
    public Pace signalled(Instant now) {
        int n = lastSignalAt != null && now.isBefore(lastSignalAt.plus(SIGNAL_MEMORY)) ? recentSignals + 1 : 1;
        // Rate signals older than the memory are forgotten with the rest.
        boolean rateRemembered = lastRateSignalAt != null && now.isBefore(lastRateSignalAt.plus(SIGNAL_MEMORY));
        return new Pace(rate, concurrency, changedAt, now, n, rateRemembered ? lastRateSignalAt : null,
                rateRemembered ? Math.min(rateSignals, n) : 0);
    }

    /**
     * How long to wait before the probe after a rate signal: nothing after the first rate signal
     * within the hour (the lower rate itself spaces the next attempt), then the policy's pause,
     * doubled with each further one, up to {@code max}.
     */
    public Duration pauseBeforeProbe(DestinationPolicy policy, Duration max) {
        if (rateSignals <= 1) {
            return Duration.ZERO;
        }
        return doubled(policy.pacing().pause(), rateSignals - 2, max);
    }

    /**
     * When this pace doubles next, if it is in slow start below its ceilings: the next success at or
     * after that instant doubles it. Empty when it grows by steps, or not at all.
     */
    public Optional<Instant> doublesAt(DestinationPolicy policy, Instant now) {
        PacingSettings p = policy.pacing();
        if (!p.isAdaptive() || !slowStart(now)) {
            return Optional.empty();
        }
        boolean belowRate = effectiveRate(policy) < policy.rateLimit().map(RateLimit::count).orElse(0);
        if (!belowRate && effectiveConcurrency(policy) >= policy.concurrency()) {
            return Optional.empty();
        }
        Instant at = changedAt.plus(p.growEvery());
        return Optional.of(at.isAfter(now) ? at : now);
    }

    /** Whether growth doubles: nothing pushed back within the signal memory. */
    boolean slowStart(Instant now) {
        return lastSignalAt == null || !now.isBefore(lastSignalAt.plus(SIGNAL_MEMORY));
    }

    private Duration quietAfterSignal(PacingSettings p) {
        return doubled(p.quiet(), Math.max(0, recentSignals - 1), SIGNAL_MEMORY);
    }

    private static Duration doubled(Duration base, int times, Duration max) {
        Duration d = base;
        for (int i = 0; i < times && d.compareTo(max) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(max) > 0 ? max : d;
    }

    private static double rateFloor(int ceiling) {
        return Math.max(1, ceiling * RATE_FLOOR_SHARE);
    }

    /** The stored rate, in starts per the ceiling's period (not bounded by the ceiling). */
    public double rate() {
        return rate;
    }

    /** The stored concurrency (not bounded by the ceiling). */
    public int concurrency() {
        return concurrency;
    }

    /** When the pace last grew or was cut. */
    public Instant changedAt() {
        return changedAt;
    }

    public Optional<Instant> lastSignalAt() {
        return Optional.ofNullable(lastSignalAt);
    }

    /** Signals within an hour of each other, the last included. */
    public int recentSignals() {
        return recentSignals;
    }

    /** The last signal about the message rate (not about connections). */
    public Optional<Instant> lastRateSignalAt() {
        return Optional.ofNullable(lastRateSignalAt);
    }

    /** The rate signals among {@link #recentSignals()}. */
    public int rateSignals() {
        return rateSignals;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Pace)) {
            return false;
        }
        Pace p = (Pace) o;
        return Double.compare(rate, p.rate) == 0 && concurrency == p.concurrency && changedAt.equals(p.changedAt)
                && Objects.equals(lastSignalAt, p.lastSignalAt) && recentSignals == p.recentSignals
                && Objects.equals(lastRateSignalAt, p.lastRateSignalAt) && rateSignals == p.rateSignals;
    }

    @Override
    public int hashCode() {
        return Objects.hash(rate, concurrency, changedAt, lastSignalAt, recentSignals, lastRateSignalAt, rateSignals);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "Pace{rate %.1f, concurrency %d, changed %s%s}", rate, concurrency,
                changedAt, lastSignalAt == null ? "" : ", " + recentSignals + " signal(s) (" + rateSignals + " of rate), last "
                + lastSignalAt);
    }
}
