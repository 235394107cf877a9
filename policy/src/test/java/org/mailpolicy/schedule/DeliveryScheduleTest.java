package org.mailpolicy.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RetrySchedule;
import org.mailpolicy.state.DestinationState;

class DeliveryScheduleTest {
    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol")
            .domains(ImmutableList.of("aol.com"))
            .retry(RetrySchedule.explicit(ImmutableList.of(Duration.ofMinutes(1), Duration.ofMinutes(5),
                    Duration.ofHours(1))))
            .maxAge(Duration.ofHours(3))
            .delayWarning(Duration.ofMinutes(30))
            .build();

    private static Clock at(Instant t) {
        return Clock.fixed(t, ZoneOffset.UTC);
    }

    @Test
    void firstAttemptIsNow() {
        AttemptHistory h = AttemptHistory.start("mail-1", T0);
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.empty(), at(T0))).isEqualTo(T0);
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.of(Duration.ofMinutes(7)), at(T0)))
                .isEqualTo(T0.plus(Duration.ofMinutes(7)));
    }

    @Test
    void followsTheScheduleFromEachFailure() {
        AttemptHistory h = AttemptHistory.start("mail-1", T0);
        Instant t = T0;
        h = h.withFailedAttempt(t);
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.empty(), at(t))).isEqualTo(t.plusSeconds(60));
        t = t.plusSeconds(60);
        h = h.withFailedAttempt(t);
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.empty(), at(t))).isEqualTo(t.plusSeconds(300));
        t = t.plusSeconds(300);
        h = h.withFailedAttempt(t);
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.empty(), at(t))).isEqualTo(t.plus(Duration.ofHours(1)));
        assertThat(h.failedAttempts()).isEqualTo(3);
        assertThat(h.lastAttempt()).contains(t);
    }

    @Test
    void computesFromTheFailureNotFromWhenAsked() {
        AttemptHistory h = AttemptHistory.start("m", T0).withFailedAttempt(T0);
        // Asked 20 s after the failure (the queue was slow): still one minute after the failure.
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.empty(), at(T0.plusSeconds(20))))
                .isEqualTo(T0.plusSeconds(60));
        // Asked long after: not in the past.
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.empty(), at(T0.plusSeconds(600))))
                .isEqualTo(T0.plusSeconds(600));
    }

    @Test
    void atLeastPushesLaterButNeverShortens() {
        AttemptHistory h = AttemptHistory.start("m", T0).withFailedAttempt(T0);
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.of(Duration.ofMinutes(30)), at(T0)))
                .isEqualTo(T0.plus(Duration.ofMinutes(30)));
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.of(Duration.ofSeconds(5)), at(T0)))
                .isEqualTo(T0.plusSeconds(60));
    }

    @Test
    void finalAttemptHappensAtExpiry() {
        Instant expiry = T0.plus(Duration.ofHours(3));
        AttemptHistory h = AttemptHistory.start("m", T0);
        Instant t = T0.plus(Duration.ofMinutes(150));
        for (int i = 0; i < 3; i++) {
            h = h.withFailedAttempt(t);
        }
        assertThat(DeliverySchedule.expiresAt(AOL, h)).isEqualTo(expiry);
        // One hour after 2:30 would be 3:30: capped to the expiry instant.
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.empty(), at(t))).isEqualTo(expiry);
        // A 24 h hint is capped too.
        assertThat(DeliverySchedule.nextAttempt(AOL, h, Optional.of(Duration.ofHours(24)), at(t))).isEqualTo(expiry);
        assertThat(DeliverySchedule.isExpired(AOL, h, at(t))).isFalse();
        assertThat(DeliverySchedule.isExpired(AOL, h, at(expiry.minusMillis(1)))).isFalse();
        assertThat(DeliverySchedule.isExpired(AOL, h, at(expiry))).isTrue();
        // After expiry the answer is "now", never the past.
        Instant late = expiry.plusSeconds(30);
        assertThat(DeliverySchedule.nextAttempt(AOL, h.withFailedAttempt(late), Optional.empty(), at(late)))
                .isEqualTo(late);
    }

    @Test
    void delayWarningOnceAfterItsTimeAndOnlyBeforeExpiry() {
        AttemptHistory h = AttemptHistory.start("m", T0).withFailedAttempt(T0);
        assertThat(DeliverySchedule.delayWarningDue(AOL, h, at(T0.plus(Duration.ofMinutes(29))))).isFalse();
        assertThat(DeliverySchedule.delayWarningDue(AOL, h, at(T0.plus(Duration.ofMinutes(30))))).isTrue();
        assertThat(DeliverySchedule.delayWarningDue(AOL, h.withDelayWarningSent(), at(T0.plus(Duration.ofHours(1)))))
                .isFalse();
        assertThat(DeliverySchedule.delayWarningDue(AOL, h, at(T0.plus(Duration.ofHours(3))))).isFalse();
    }

    @Test
    void exponentialJitterIsTheSameOnEveryComputation() {
        DestinationPolicy p = AOL.toBuilder().retry(RetrySchedule.exponential(Duration.ofMinutes(5), 2.0,
                Duration.ofHours(2), 0.3)).build();
        AttemptHistory h = AttemptHistory.start("mail-42", T0).withFailedAttempt(T0).withFailedAttempt(T0);
        Instant a = DeliverySchedule.nextAttempt(p, h, Optional.empty(), at(T0));
        Instant b = DeliverySchedule.nextAttempt(p, h, Optional.empty(), at(T0.plusSeconds(1)));
        assertThat(a).isEqualTo(b);
        assertThat(Duration.between(T0, a)).isBetween(Duration.ofMinutes(7), Duration.ofMinutes(10));
    }

    @Test
    void aHeldDestinationPushesTheNextAttemptToTheHoldEnd() {
        Instant holdEnd = T0.plus(Duration.ofMinutes(45));
        DestinationState held = DestinationState.builder("aol").heldUntil(Optional.of(holdEnd))
                .currentHold(Duration.ofMinutes(45)).build();
        assertThat(DeliverySchedule.holdRemaining(held, at(T0))).contains(Duration.ofMinutes(45));
        assertThat(DeliverySchedule.holdRemaining(held, at(holdEnd))).isEmpty();
        assertThat(DeliverySchedule.holdRemaining(DestinationState.initial("aol"), at(T0))).isEmpty();

        AttemptHistory h = AttemptHistory.start("m", T0).withFailedAttempt(T0);
        assertThat(DeliverySchedule.nextAttempt(AOL, h, DeliverySchedule.holdRemaining(held, at(T0)), at(T0)))
                .isEqualTo(holdEnd);
    }

    @Test
    void historyPreconditions() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AttemptHistory.start("", T0))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> AttemptHistory.of("m", T0, 2, Optional.empty(), false))
                .hasMessageContaining("last one");
        AttemptHistory restored = AttemptHistory.of("m", T0, 2, Optional.of(T0), true);
        assertThat(restored).isEqualTo(AttemptHistory.start("m", T0).withFailedAttempt(T0).withFailedAttempt(T0)
                .withDelayWarningSent());
    }
}
