package org.mailpolicy.destination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mailpolicy.yaml.Durations;

class ValuesTest {

    @Test
    void durations() {
        assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(Durations.parse("4h")).isEqualTo(Duration.ofHours(4));
        assertThat(Durations.parse(" 5d ")).isEqualTo(Duration.ofDays(5));
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
        assertThat(Durations.format(Duration.ofDays(5))).isEqualTo("5d");
        for (String bad : new String[] {"", "5", "m", "5 m", "-5m", "5w", "0s", "1.5h", "99999999999h"}) {
            assertThatThrownBy(() -> Durations.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void explicitScheduleRepeatsItsLastDelay() {
        RetrySchedule r = RetrySchedule.explicit(ImmutableList.of(Duration.ofMinutes(1), Duration.ofMinutes(5)));
        assertThat(r.delayAfter(1, "m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(r.delayAfter(2, "m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(r.delayAfter(50, "m")).isEqualTo(Duration.ofMinutes(5));
        assertThatThrownBy(() -> r.delayAfter(0, "m")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetrySchedule.explicit(ImmutableList.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void exponentialGrowsAndCapsWithoutJitter() {
        RetrySchedule r = RetrySchedule.exponential(Duration.ofMinutes(5), 2.0, Duration.ofHours(1), 0.0);
        assertThat(r.delayAfter(1, "k")).isEqualTo(Duration.ofMinutes(5));
        assertThat(r.delayAfter(2, "k")).isEqualTo(Duration.ofMinutes(10));
        assertThat(r.delayAfter(3, "k")).isEqualTo(Duration.ofMinutes(20));
        assertThat(r.delayAfter(4, "k")).isEqualTo(Duration.ofMinutes(40));
        assertThat(r.delayAfter(5, "k")).isEqualTo(Duration.ofHours(1));
        assertThat(r.delayAfter(500, "k")).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void jitterIsDeterministicBoundedAndSpreads() {
        RetrySchedule r = RetrySchedule.exponential(Duration.ofMinutes(10), 2.0, Duration.ofHours(4), 0.2);
        Set<Duration> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String key = "Mail" + i;
            Duration d = r.delayAfter(2, key);
            assertThat(d).isEqualTo(r.delayAfter(2, key));
            assertThat(d).isBetween(Duration.ofMinutes(16), Duration.ofMinutes(20));
            seen.add(d);
            assertThat(r.delayAfter(40, key)).isBetween(Duration.ofMinutes(192), Duration.ofHours(4));
        }
        assertThat(seen.size()).isGreaterThan(150);
        // Different attempts of one message get different fractions too.
        assertThat(r.delayAfter(1, "same").toMillis() * 2).isNotEqualTo(r.delayAfter(2, "same").toMillis());
    }

    @Test
    void exponentialPreconditions() {
        assertThatThrownBy(() -> RetrySchedule.exponential(Duration.ofMinutes(5), 0.5, Duration.ofHours(1), 0))
                .hasMessageContaining("factor");
        assertThatThrownBy(() -> RetrySchedule.exponential(Duration.ofHours(5), 2, Duration.ofHours(1), 0))
                .hasMessageContaining("max");
        assertThatThrownBy(() -> RetrySchedule.exponential(Duration.ofMinutes(5), 2, Duration.ofHours(1), 1.0))
                .hasMessageContaining("jitter");
    }

    @Test
    void throttleHoldGrowsToMaxAndShrinksToZero() {
        ThrottleHold t = ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4));
        Duration h = Duration.ZERO;
        StringBuilder steps = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            h = t.next(h);
            steps.append(Durations.format(h)).append(' ');
        }
        assertThat(steps.toString().trim()).isEqualTo("15m 30m 1h 2h 4h 4h 4h");
        steps.setLength(0);
        while (!h.isZero()) {
            h = t.shrink(h);
            steps.append(Durations.format(h)).append(' ');
        }
        assertThat(steps.toString().trim()).isEqualTo("2h 1h 30m 15m 0s");
        assertThat(t.shrink(Duration.ZERO)).isZero();
        // A hint-lengthened hold not on the ladder still shrinks into it.
        assertThat(t.shrink(Duration.ofMinutes(20))).isEqualTo(Duration.ofMinutes(15));
        assertThatThrownBy(() -> ThrottleHold.of(Duration.ofMinutes(15), 0.9, Duration.ofHours(4)))
                .hasMessageContaining("growth");
    }

    @Test
    void routes() {
        assertThat(Route.parse("relay.example.net:2525")).isEqualTo(Route.of("relay.example.net", 2525));
        assertThat(Route.parse("relay.example.net").port()).isEqualTo(25);
        Route v6 = Route.parse("[2001:db8::1]:587");
        assertThat(v6.host()).isEqualTo("2001:db8::1");
        assertThat(v6.port()).isEqualTo(587);
        assertThat(v6.toString()).isEqualTo("[2001:db8::1]:587");
        assertThat(Route.parse(v6.toString())).isEqualTo(v6);
        assertThat(Route.parse("192.0.2.7:25").host()).isEqualTo("192.0.2.7");
        for (String bad : new String[] {"", ":25", "host:0", "host:70000", "host:abc", "bad host:25", "[::1", "a:b:c"}) {
            assertThatThrownBy(() -> Route.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void rates() {
        assertThat(RateLimit.parse("300/m")).isEqualTo(RateLimit.of(300, Duration.ofMinutes(1)));
        assertThat(RateLimit.parse("20 / h")).isEqualTo(RateLimit.of(20, Duration.ofHours(1)));
        assertThat(RateLimit.parse("5/s").per()).isEqualTo(Duration.ofSeconds(1));
        assertThat(RateLimit.parse("300/m").toString()).isEqualTo("300/1m");
        for (String bad : new String[] {"", "300", "/m", "0/m", "300/w", "-1/m", "3.5/m"}) {
            assertThatThrownBy(() -> RateLimit.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
