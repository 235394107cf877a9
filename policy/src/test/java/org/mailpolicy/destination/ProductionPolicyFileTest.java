package org.mailpolicy.destination;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.mailpolicy.suppression.SuppressionExpiry;

/** The policy file operators copy must load, and must say what its comments promise. */
class ProductionPolicyFileTest {
    private static final Path FILE = Paths.get("../config/delivery-policy.yaml");

    @Test
    void shippedPolicyValidates() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.load(FILE);
        assertThat(p.destinations()).extracting(DestinationPolicy::name)
                .containsExactly("aol", "yahoo", "gmail", "microsoft");

        DestinationPolicy def = p.defaultDestination();
        assertThat(def.maxAge()).isBetween(Duration.ofDays(4), Duration.ofDays(5));
        assertThat(def.delayWarning()).isEqualTo(Duration.ofHours(4));
        assertThat(def.retrySchedule().explicitDelays()).containsExactly(Duration.ofMinutes(15),
                Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(4));

        DestinationPolicy aol = p.forRecipientDomain("aol.com");
        assertThat(aol.name()).isEqualTo("aol");
        assertThat(p.forRecipientDomain("aim.com")).isSameAs(aol);
        assertThat(p.forRecipientDomain("verizon.net")).isSameAs(aol);
        assertThat(aol.throttleHold().initial()).isEqualTo(Duration.ofMinutes(15));
        assertThat(aol.throttleHold().max()).isEqualTo(Duration.ofHours(4));
        assertThat(aol.concurrency()).isLessThanOrEqualTo(5);
        // The file writes out the guard's built-in defaults, and expires no suppression.
        assertThat(def.unknownRecipientGuard()).isEqualTo(UnknownRecipientGuard.DEFAULT);
        assertThat(aol.unknownRecipientGuard()).isEqualTo(UnknownRecipientGuard.DEFAULT);
        assertThat(p.suppression().expiry()).isEqualTo(SuppressionExpiry.NONE);
        // The pace bin/bench drain measured (docs/benchmarks.md): a little under the 300 a minute AOL accepts per
        // IP there, and enough connections to keep that pace with transactions of about a second each.
        RateLimit rate = aol.rateLimit().orElseThrow();
        double perMinute = rate.count() * 60.0 / rate.per().getSeconds();
        assertThat(perMinute).isBetween(200.0, 290.0);
        assertThat(aol.concurrency()).isGreaterThanOrEqualTo((int) Math.ceil(perMinute / 60));
        assertThat(p.resolve("vanity.example", Arrays.asList("mailin-03.mx.aol.com"))).isSameAs(aol);
        // AOL's current Yahoo-run MX is AOL's, not Yahoo's, though *.yahoodns.net is Yahoo's pattern.
        assertThat(p.resolve("vanity.example", Arrays.asList("mx-aol.mail.gm0.yahoodns.net"))).isSameAs(aol);

        // Connection reuse: Yahoo's 20 messages a connection for Yahoo and AOL, Postfix's 2 s idle cache for all.
        assertThat(aol.connections()).isEqualTo(ConnectionSettings.of(20, Duration.ofSeconds(2)));
        assertThat(p.forRecipientDomain("ymail.com").connections().maxMessages()).isEqualTo(20);
        assertThat(p.defaultDestination().connections()).isEqualTo(ConnectionSettings.DEFAULT);
        assertThat(p.forRecipientDomain("ymail.com").name()).isEqualTo("yahoo");
        assertThat(p.resolve("x.example", Arrays.asList("mta5.am0.yahoodns.net")).name()).isEqualTo("yahoo");
        assertThat(p.forRecipientDomain("googlemail.com").name()).isEqualTo("gmail");
        assertThat(p.resolve("x.example", Arrays.asList("aspmx.l.google.com")).name()).isEqualTo("gmail");
        assertThat(p.forRecipientDomain("msn.com").name()).isEqualTo("microsoft");
        assertThat(p.resolve("x.example", Arrays.asList("x-com.mail.protection.outlook.com")).name())
                .isEqualTo("microsoft");
        assertThat(p.forRecipientDomain("example.org").name()).isEqualTo("default");
        assertThat(p.suppression().path()).isEqualTo(Paths.get("var/delivery-policy/suppressions"));
    }
}
