package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.rules.ThrottleEffect;

/** The pacing arithmetic, with the time given: start, slow start, cuts, floors, ceilings, quiet periods. */
class PaceTest {
    private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");
    private static final DestinationPolicy RECEIVER = DestinationPolicy.builder("receiver")
            .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4)))
            .concurrency(5).rate(RateLimit.of(300, Duration.ofMinutes(1))).build();

    @Test
    void aFreshDestinationStartsAtTheShareOfItsCeilings() {
        Pace p = Pace.initial(RECEIVER, T0);
        assertThat(p.effectiveRate(RECEIVER)).isEqualTo(150.0);
        assertThat(p.effectiveConcurrency(RECEIVER)).isEqualTo(3);
        assertThat(p.lastSignalAt()).isEmpty();
    }

    @Test
    void fixedPacingIsTheCeilingWhateverHappens() {
        DestinationPolicy fixed = RECEIVER.toBuilder().pacing(PacingSettings.FIXED).build();
        Pace p = Pace.initial(fixed, T0).rateCut(fixed, 60, T0.plusSeconds(10)).connectionsCut(fixed, 3, T0.plusSeconds(11));
        assertThat(p.effectiveRate(fixed)).isEqualTo(300.0);
        assertThat(p.effectiveConcurrency(fixed)).isEqualTo(5);
    }

    @Test
    void slowStartDoublesEveryGrowthIntervalUpToTheCeilings() {
        Pace p = Pace.initial(RECEIVER, T0);
        assertThat(p.grown(RECEIVER, T0.plusSeconds(1))).as("not before growEvery").isEqualTo(p);
        p = p.grown(RECEIVER, T0.plusSeconds(2));
        assertThat(p.effectiveRate(RECEIVER)).isEqualTo(300.0);
        assertThat(p.effectiveConcurrency(RECEIVER)).isEqualTo(5);
        Pace again = p.grown(RECEIVER, T0.plusSeconds(20));
        assertThat(again.effectiveRate(RECEIVER)).as("never above the ceiling").isEqualTo(300.0);
        assertThat(again.effectiveConcurrency(RECEIVER)).isEqualTo(5);
    }

    @Test
    void aRateSignalCutsToJustUnderWhatTheReceiverTookInThePeriod() {
        Pace p = Pace.initial(RECEIVER, T0).grown(RECEIVER, T0.plusSeconds(2)); // 300/m
        // The receiver took 60 in the last minute and refused the 61st: its limit is about 60 a minute.
        Pace cut = p.rateCut(RECEIVER, 61, T0.plusSeconds(15));
        assertThat(cut.effectiveRate(RECEIVER)).isEqualTo(0.9 * 61);
        assertThat(cut.effectiveConcurrency(RECEIVER)).as("a rate signal leaves the connections alone").isEqualTo(5);
        assertThat(cut.recentSignals()).isEqualTo(1);
        assertThat(cut.lastSignalAt()).contains(T0.plusSeconds(15));
    }

    @Test
    void aRateSignalWhenTheCountSaysLittleCutsByTheFactor() {
        Pace p = Pace.initial(RECEIVER, T0).grown(RECEIVER, T0.plusSeconds(2)); // 300/m
        // Many starts in the period: more than the factor allows, so the factor rules.
        assertThat(p.rateCut(RECEIVER, 290, T0.plusSeconds(60)).effectiveRate(RECEIVER)).isEqualTo(150.0);
        // A second signal within the period of the first: the count mixes two paces, only the factor applies.
        Pace first = p.rateCut(RECEIVER, 61, T0.plusSeconds(15));
        Pace second = first.rateCut(RECEIVER, 3, T0.plusSeconds(40));
        assertThat(second.effectiveRate(RECEIVER)).isEqualTo(0.9 * 61 * 0.5);
        assertThat(second.recentSignals()).isEqualTo(2);
    }

    @Test
    void theRateNeverFallsBelowItsFloor() {
        Pace p = Pace.initial(RECEIVER, T0);
        Instant t = T0;
        for (int i = 0; i < 20; i++) {
            t = t.plusSeconds(1);
            p = p.rateCut(RECEIVER, 1, t);
        }
        assertThat(p.effectiveRate(RECEIVER)).isEqualTo(300 * Pace.RATE_FLOOR_SHARE);
    }

    @Test
    void aConnectionSignalGoesOneBelowTheConnectionsOpenAndNeverBelowOne() {
        Pace p = Pace.initial(RECEIVER, T0).grown(RECEIVER, T0.plusSeconds(2)); // 5 connections
        Pace cut = p.connectionsCut(RECEIVER, 3, T0.plusSeconds(6));
        assertThat(cut.effectiveConcurrency(RECEIVER)).isEqualTo(2);
        assertThat(cut.effectiveRate(RECEIVER)).as("the rate is left alone").isEqualTo(300.0);
        assertThat(cut.connectionsCut(RECEIVER, 5, T0.plusSeconds(7)).effectiveConcurrency(RECEIVER))
                .as("at least one below the current value").isEqualTo(1);
        assertThat(cut.connectionsCut(RECEIVER, 1, T0.plusSeconds(7)).connectionsCut(RECEIVER, 1, T0.plusSeconds(8))
                .effectiveConcurrency(RECEIVER)).isEqualTo(1);
    }

    /**
     * As a real Postfix answered: its anvil refused a connection it still counted as open ("421 too many
     * connections"), and seconds later its rate limit refused the 61st message of the minute. The rate
     * refusal is the first about the rate: it cuts to the revealed limit and pauses nothing.
     */
    @Test
    void aConnectionSignalNeitherHidesTheRevealedLimitNorMakesTheFirstRateSignalARepeat() {
        Pace p = Pace.initial(RECEIVER, T0).grown(RECEIVER, T0.plusSeconds(2)); // 300/m over 5
        Pace fewer = p.connectionsCut(RECEIVER, 3, T0.plusSeconds(8));
        assertThat(fewer.rateSignals()).isZero();
        Pace cut = fewer.rateCut(RECEIVER, 61, T0.plusSeconds(15));
        assertThat(cut.effectiveRate(RECEIVER)).as("90 % of the minute's 61 starts, not half of 300").isEqualTo(0.9 * 61);
        assertThat(cut.effectiveConcurrency(RECEIVER)).isEqualTo(2);
        assertThat(cut.recentSignals()).isEqualTo(2);
        assertThat(cut.rateSignals()).isEqualTo(1);
        assertThat(cut.lastRateSignalAt()).contains(T0.plusSeconds(15));
        assertThat(cut.pauseBeforeProbe(RECEIVER, Duration.ofHours(4))).as("no pause for a first rate signal")
                .isEqualTo(Duration.ZERO);
        // A second rate refusal within the hour is a repeat, whatever came between.
        Pace again = cut.connectionsCut(RECEIVER, 2, T0.plusSeconds(100)).rateCut(RECEIVER, 50, T0.plusSeconds(200));
        assertThat(again.rateSignals()).isEqualTo(2);
        assertThat(again.pauseBeforeProbe(RECEIVER, Duration.ofHours(4))).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void afterASignalGrowthWaitsForTheQuietPeriodThenAddsAStep() {
        Pace cut = Pace.initial(RECEIVER, T0).grown(RECEIVER, T0.plusSeconds(2)).rateCut(RECEIVER, 61, T0.plusSeconds(15));
        double rate = cut.effectiveRate(RECEIVER);
        Instant quietEnd = T0.plusSeconds(15).plus(PacingSettings.DEFAULT.quiet());
        assertThat(cut.grown(RECEIVER, quietEnd.minusSeconds(1))).isEqualTo(cut);
        Pace grown = cut.grown(RECEIVER, quietEnd);
        assertThat(grown.effectiveRate(RECEIVER)).isEqualTo(rate + 0.1 * 300);
        assertThat(grown.effectiveConcurrency(RECEIVER)).isEqualTo(5);
        // One step per rate period (a minute here), not per growEvery.
        assertThat(grown.grown(RECEIVER, quietEnd.plusSeconds(59))).isEqualTo(grown);
        assertThat(grown.grown(RECEIVER, quietEnd.plusSeconds(60)).effectiveRate(RECEIVER)).isEqualTo(rate + 0.2 * 300);
    }

    @Test
    void repeatedSignalsWithinTheHourLengthenTheQuietPeriodAndThePauseBeforeTheProbe() {
        Pace once = Pace.initial(RECEIVER, T0).rateCut(RECEIVER, 61, T0);
        assertThat(once.pauseBeforeProbe(RECEIVER, Duration.ofHours(4))).isEqualTo(Duration.ZERO);
        Pace twice = once.rateCut(RECEIVER, 10, T0.plusSeconds(600));
        assertThat(twice.pauseBeforeProbe(RECEIVER, Duration.ofHours(4))).isEqualTo(Duration.ofSeconds(30));
        Pace thrice = twice.rateCut(RECEIVER, 10, T0.plusSeconds(1200));
        assertThat(thrice.pauseBeforeProbe(RECEIVER, Duration.ofHours(4))).isEqualTo(Duration.ofSeconds(60));
        assertThat(thrice.pauseBeforeProbe(RECEIVER, Duration.ofSeconds(45))).as("bounded").isEqualTo(Duration.ofSeconds(45));
        // Three signals: the 30 quiet minutes doubled twice, bounded by the hour, before any growth.
        Instant third = T0.plusSeconds(1200);
        assertThat(thrice.grown(RECEIVER, third.plus(Duration.ofMinutes(59)))).isEqualTo(thrice);
        // Two signals: 60 minutes too (30 doubled once).
        Instant second = T0.plusSeconds(600);
        assertThat(twice.grown(RECEIVER, second.plus(Duration.ofMinutes(59)))).isEqualTo(twice);
        // An hour without signals: the count starts again and slow start is allowed again.
        Instant later = third.plus(Pace.SIGNAL_MEMORY);
        assertThat(thrice.signalled(later).recentSignals()).isEqualTo(1);
        assertThat(thrice.grown(RECEIVER, later).effectiveRate(RECEIVER)).isEqualTo(thrice.effectiveRate(RECEIVER) * 2);
    }

    @Test
    void noGrowthWhileHeldNorFromTheProbeThatEndsTheHold() {
        DestinationState s = DestinationState.initial("receiver");
        RecentStarts none = new RecentStarts() {
            @Override
            public int count() {
                return 0;
            }

            @Override
            public Instant whenFewerThan(int limit) {
                throw new AssertionError("not asked");
            }
        };
        DestinationState held = DestinationTransitions.throttled(s, RECEIVER, ThrottleEffect.HOLD, "421 busy",
                Optional.empty(), none, T0);
        Pace atHold = held.pace().get();
        // A success from a connection that started before the hold, long after growEvery: nothing grows.
        DestinationState during = DestinationTransitions.succeeded(held, RECEIVER, "250 ok", T0.plusSeconds(60));
        assertThat(during.pace()).contains(atHold);
        // The probe after the hold succeeds: the hold ends, the pace stays until ordinary traffic.
        DestinationState probed = DestinationTransitions.succeeded(during, RECEIVER, "250 ok",
                T0.plus(Duration.ofMinutes(15)));
        assertThat(probed.heldUntil()).isEmpty();
        assertThat(probed.pace()).contains(atHold);
    }
}
