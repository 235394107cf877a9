package org.mailpolicy.mtasts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.TestClock;

class MtaStsPolicyTest {
    /** RFC 8461 section 3.2's example, with CRLF line ends as served. */
    private static final String EXAMPLE = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
            + "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n";

    @Test
    void readsTheRfcExample() {
        MtaStsPolicy p = MtaStsPolicy.parse(EXAMPLE);
        assertThat(p.mode()).isEqualTo(MtaStsPolicy.Mode.ENFORCE);
        assertThat(p.mx()).containsExactly("mail.example.com", "*.example.net", "backupmx.example.com");
        assertThat(p.maxAge()).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void aWildcardMatchesExactlyOneLabel() {
        MtaStsPolicy p = MtaStsPolicy.parse(EXAMPLE);
        assertThat(p.allows("mail.example.com")).isTrue();
        assertThat(p.allows("MAIL.example.com.")).isTrue();
        assertThat(p.allows("mx1.example.net")).isTrue();
        assertThat(p.allows("a.mx1.example.net")).isFalse();
        assertThat(p.allows("example.net")).isFalse();
        assertThat(p.allows("evil.example.com")).isFalse();
    }

    @Test
    void unknownFieldsAreIgnoredAndMaxAgeIsCappedAtAYear() {
        MtaStsPolicy p = MtaStsPolicy.parse("version: STSv1\nmode: testing\nextension: x\nmx: mx.example.org\n"
                + "max_age: 9999999999\n");
        assertThat(p.mode()).isEqualTo(MtaStsPolicy.Mode.TESTING);
        assertThat(p.maxAge().getSeconds()).isEqualTo(MtaStsPolicy.MAX_AGE_LIMIT_SECONDS);
    }

    @Test
    void mistakesNameTheLine() {
        assertThatThrownBy(() -> MtaStsPolicy.parse("mode: enforce\nversion: STSv1\n"))
                .hasMessageContaining("line 1").hasMessageContaining("version");
        assertThatThrownBy(() -> MtaStsPolicy.parse("version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n"))
                .hasMessage("line 2: mode must be enforce, testing or none, got 'strict'");
        assertThatThrownBy(() -> MtaStsPolicy.parse("version: STSv1\nmode: enforce\nmax_age: 60\n"))
                .hasMessageContaining("must list its MX hosts");
        assertThatThrownBy(() -> MtaStsPolicy.parse("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: soon\n"))
                .hasMessageContaining("line 4: max_age");
        assertThatThrownBy(() -> MtaStsPolicy.parse("<html>not found</html>")).hasMessageContaining("line 1");
        assertThat(MtaStsPolicy.parse("version: STSv1\nmode: none\nmax_age: 86400\n").mx()).isEmpty();
    }

    @Test
    void readsTheTxtRecordId() {
        assertThat(MtaStsPolicy.recordId("v=STSv1; id=20160831085700Z;")).contains("20160831085700Z");
        assertThat(MtaStsPolicy.recordId("v=STSv1;id=abc")).contains("abc");
        assertThat(MtaStsPolicy.recordId("v=spf1 -all")).isEmpty();
        assertThat(MtaStsPolicy.recordId("v=STSv1; id=bad-id!;")).isEmpty();
        assertThat(MtaStsPolicy.recordId("v=STSv1;")).isEmpty();
    }

    @Test
    void theCacheKeepsAPolicyForItsMaxAgeUnderItsIdAndThroughALostRecord() {
        TestClock clock = new TestClock(Instant.parse("2026-12-07T00:00:00Z"));
        MtaStsCache cache = new MtaStsCache(clock);
        MtaStsPolicy week = MtaStsPolicy.parse(EXAMPLE);
        assertThat(cache.usable("example.com", Optional.of("1"))).isEmpty();

        cache.fetched("example.com", "1", week);
        assertThat(cache.usable("Example.COM.", Optional.of("1"))).contains(week);
        assertThat(cache.usable("example.com", Optional.of("2"))).as("a new id: fetch again").isEmpty();
        assertThat(cache.usable("example.com", Optional.empty())).as("the record is gone: keep the policy").contains(week);
        assertThat(cache.unexpired("example.com")).contains(week);

        clock.step(Duration.ofDays(7));
        assertThat(cache.usable("example.com", Optional.of("1"))).isEmpty();
        assertThat(cache.unexpired("example.com")).isEmpty();
    }

}
