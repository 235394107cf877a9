package org.mailpolicy.parking;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.state.DestinationState;

class ReleaseAllowanceTest {
    private static final Instant NOW = Instant.parse("2026-12-07T04:00:00Z");
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol").concurrency(3).build();

    @Test
    void aDestinationWithoutStateGetsTwiceItsConcurrencyLessWhatIsOut() {
        assertThat(ReleaseAllowance.of(Optional.empty(), AOL, 0, NOW)).isEqualTo(6);
        assertThat(ReleaseAllowance.of(Optional.empty(), AOL, 4, NOW)).isEqualTo(2);
        assertThat(ReleaseAllowance.of(Optional.empty(), AOL, 9, NOW)).isZero();
    }

    @Test
    void aHeldDestinationGetsNone() {
        DestinationState held = DestinationState.builder("aol").heldUntil(Optional.of(NOW.plusSeconds(60)))
                .currentHold(Duration.ofMinutes(1)).build();

        assertThat(ReleaseAllowance.of(Optional.of(held), AOL, 0, NOW)).isZero();
    }

    @Test
    void afterTheHoldOneProbeAtATime() {
        DestinationState over = DestinationState.builder("aol").heldUntil(Optional.of(NOW.minusSeconds(1)))
                .currentHold(Duration.ofMinutes(1)).build();

        assertThat(ReleaseAllowance.of(Optional.of(over), AOL, 0, NOW)).isEqualTo(1);
        assertThat(ReleaseAllowance.of(Optional.of(over), AOL, 1, NOW)).isZero();
    }

    @Test
    void aHealthyDestinationGoesAtItsPace() {
        DestinationState fine = DestinationState.builder("aol").build();

        assertThat(ReleaseAllowance.of(Optional.of(fine), AOL, 1, NOW))
                .isEqualTo(ReleaseAllowance.WINDOW_PER_SLOT * fine.paceUnder(AOL, NOW).concurrency() - 1);
    }
}
