package org.mailpolicy.destination;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.suppression.SuppressionExpiry;

class DeliveryPolicyTest {
    private static final String POLICY = String.join("\n",
            "version: 1",
            "suppression: { store: h2, path: /var/lib/sup }",
            "rules: [extra-rules.yaml, /etc/james/more.yaml]",
            "default:",
            "  retry: { schedule: [10m, 20m] }",
            "  maxAge: 4d",
            "  delayWarning: 3h",
            "  concurrency: 7",
            "  connections: { maxMessages: 50, idleTimeout: 3s }",
            "destinations:",
            "  - name: aol",
            "    domains: [AOL.com, aim.com, verizon.net, '*.aol.com']",
            "    mx: ['*.mx.aol.com']",
            "    retry: { schedule: [1m, 5m, 15m, 30m, 1h, 2h, 4h] }",
            "    maxAge: 5d",
            "    delayWarning: 4h",
            "    throttle: { initial: 15m, growth: 2.0, max: 4h }",
            "    route: mx-fallback.example.net:2525",
            "    concurrency: 5",
            "    rate: 300/m",
            "    connections: { maxMessages: 20 }",
            "  - name: aol-uk",
            "    domains: ['*.uk.aol.com']",
            "  - name: gmail",
            "    domains: [gmail.com]",
            "    mx: ['*.l.google.com', 'aspmx.l.google.com']",
            "    retry: { exponential: { initial: 5m, factor: 3, max: 2h, jitter: 0.25 } }",
            "  - name: google-alt",
            "    mx: ['*.google.com']",
            "");

    private final DeliveryPolicy policy = parse(POLICY);

    private static DeliveryPolicy parse(String yaml) {
        try {
            return DeliveryPolicy.parse(yaml, "/etc/james/delivery-policy.yaml");
        } catch (PolicyException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    @Test
    void readsEveryFieldOfADestination() {
        DestinationPolicy aol = policy.destination("aol").get();
        assertThat(aol.domainPatterns()).containsExactly("aol.com", "aim.com", "verizon.net", "*.aol.com");
        assertThat(aol.mxPatterns()).containsExactly("*.mx.aol.com");
        assertThat(aol.retrySchedule().explicitDelays()).hasSize(7).startsWith(Duration.ofMinutes(1))
                .endsWith(Duration.ofHours(4));
        assertThat(aol.maxAge()).isEqualTo(Duration.ofDays(5));
        assertThat(aol.delayWarning()).isEqualTo(Duration.ofHours(4));
        assertThat(aol.throttleHold()).isEqualTo(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4)));
        assertThat(aol.route()).contains(Route.of("mx-fallback.example.net", 2525));
        assertThat(aol.concurrency()).isEqualTo(5);
        assertThat(aol.rateLimit()).contains(RateLimit.of(300, Duration.ofMinutes(1)));
        assertThat(aol.hasRuleOverrides()).isFalse();
        // A setting left out of the destination's mapping comes from the default block.
        assertThat(aol.connections()).isEqualTo(ConnectionSettings.of(20, Duration.ofSeconds(3)));
    }

    @Test
    void connectionReuseDefaultsAndOneMessageTurnsItOff() {
        assertThat(policy.destination("aol-uk").get().connections()).isEqualTo(ConnectionSettings.of(50, Duration.ofSeconds(3)));
        DeliveryPolicy builtIn = parse("version: 1\n");
        assertThat(builtIn.defaultDestination().connections()).isEqualTo(ConnectionSettings.DEFAULT);
        assertThat(ConnectionSettings.DEFAULT.reuses()).isTrue();
        DeliveryPolicy off = parse("version: 1\ndefault:\n  connections: { maxMessages: 1 }\n");
        assertThat(off.defaultDestination().connections().reuses()).isFalse();
    }

    @Test
    void rsetAfterIdleDefaultsToASecondAndZeroProbesEveryReuse() {
        assertThat(ConnectionSettings.DEFAULT.rsetAfterIdle()).isEqualTo(Duration.ofSeconds(1));
        assertThat(policy.destination("aol").get().connections().rsetAfterIdle()).isEqualTo(Duration.ofSeconds(1));
        DeliveryPolicy always = parse("version: 1\ndefault:\n  connections: { rsetAfterIdle: 0s }\n"
                + "destinations:\n  - name: quiet\n    domains: [quiet.example]\n    connections: { rsetAfterIdle: 30s }\n");
        assertThat(always.defaultDestination().connections())
                .isEqualTo(ConnectionSettings.of(100, Duration.ofSeconds(2), Duration.ZERO));
        assertThat(always.destination("quiet").get().connections().rsetAfterIdle()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void tlsIsOpportunisticUnlessTheDefaultOrADestinationSaysOtherwise() {
        assertThat(policy.destination("aol").get().tls()).isEqualTo(TlsSettings.DEFAULT);
        assertThat(TlsSettings.DEFAULT.level()).isEqualTo(TlsSettings.Level.OPPORTUNISTIC);
        assertThat(TlsSettings.DEFAULT.mtaSts()).isTrue();

        DeliveryPolicy p = parse(String.join("\n",
                "version: 1",
                "default:",
                "  tls: { level: required, plaintextFallback: 30m, mtaSts: off }",
                "destinations:",
                "  - name: bank",
                "    domains: [bank.example]",
                "    tls: { level: verified, trustStore: /etc/james/bank-ca.p12, trustStorePassword: secret }",
                "  - name: old",
                "    domains: [old.example]",
                "    tls: none",
                "  - name: other",
                "    domains: [other.example]",
                ""));
        assertThat(p.defaultDestination().tls()).isEqualTo(TlsSettings.of(TlsSettings.Level.REQUIRED, null, null,
                Duration.ofMinutes(30), false));
        // A destination's mapping or single word changes what it names; the rest comes from the default block.
        assertThat(p.destination("bank").get().tls()).isEqualTo(TlsSettings.of(TlsSettings.Level.VERIFIED,
                "/etc/james/bank-ca.p12", "secret", Duration.ofMinutes(30), false));
        assertThat(p.destination("old").get().tls().level()).isEqualTo(TlsSettings.Level.NONE);
        assertThat(p.destination("old").get().tls().plaintextFallback()).isEqualTo(Duration.ofMinutes(30));
        assertThat(p.destination("other").get().tls().level()).isEqualTo(TlsSettings.Level.REQUIRED);
        assertThat(p.destination("bank").get().tls().toString()).doesNotContain("secret");
    }

    @Test
    void destinationsInheritTheDefaultBlock() {
        DestinationPolicy uk = policy.destination("aol-uk").get();
        assertThat(uk.retrySchedule().explicitDelays()).containsExactly(Duration.ofMinutes(10), Duration.ofMinutes(20));
        assertThat(uk.maxAge()).isEqualTo(Duration.ofDays(4));
        assertThat(uk.delayWarning()).isEqualTo(Duration.ofHours(3));
        assertThat(uk.concurrency()).isEqualTo(7);
        assertThat(uk.rateLimit()).isEmpty();
        assertThat(uk.route()).isEmpty();
        assertThat(policy.defaultDestination().name()).isEqualTo("default");
        assertThat(policy.defaultDestination().concurrency()).isEqualTo(7);
    }

    @Test
    void readsTheUnknownRecipientGuardInheritingFromTheDefaultBlock() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.parse(String.join("\n",
                "version: 1",
                "default:",
                "  unknownRecipientGuard: { window: 5m, minRecipients: 50 }",
                "destinations:",
                "  - name: aol",
                "    domains: [aol.com]",
                "    unknownRecipientGuard: { share: 0.8 }",
                "  - name: small",
                "    domains: [small.example]",
                "    unknownRecipientGuard: off",
                "  - name: same",
                "    domains: [same.example]",
                "  - name: back",
                "    domains: [back.example]",
                "    unknownRecipientGuard: on",
                ""), "p.yaml");
        assertThat(p.defaultDestination().unknownRecipientGuard()).isEqualTo(
                UnknownRecipientGuard.of(Duration.ofMinutes(5), 50, 0.5, Duration.ofMinutes(30)));
        assertThat(p.destination("aol").get().unknownRecipientGuard()).isEqualTo(
                UnknownRecipientGuard.of(Duration.ofMinutes(5), 50, 0.8, Duration.ofMinutes(30)));
        assertThat(p.destination("small").get().unknownRecipientGuard()).isEqualTo(UnknownRecipientGuard.OFF);
        assertThat(p.destination("same").get().unknownRecipientGuard())
                .isEqualTo(p.defaultDestination().unknownRecipientGuard());
        assertThat(p.destination("back").get().unknownRecipientGuard()).isEqualTo(UnknownRecipientGuard.DEFAULT);
        assertThat(DeliveryPolicy.builtInDefault().defaultDestination().unknownRecipientGuard())
                .isEqualTo(UnknownRecipientGuard.DEFAULT);
    }

    @Test
    void readsSuppressionExpiryPerReasonAndNoneByDefault() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.parse(String.join("\n",
                "version: 1",
                "suppression:",
                "  store: h2",
                "  expire: { userunknown: 365d, manual: 30d }",
                ""), "p.yaml");
        assertThat(p.suppression().expiry().byReason()).containsExactly(
                Map.entry("manual", Duration.ofDays(30)), Map.entry("userunknown", Duration.ofDays(365)));
        assertThat(p.suppression().toString()).endsWith("expire: {manual: 30d, userunknown: 365d}}");
        assertThat(DeliveryPolicy.parse("version: 1\nsuppression: { expire: {} }\n", "p.yaml").suppression().expiry())
                .isEqualTo(SuppressionExpiry.NONE);
        assertThat(DeliveryPolicy.builtInDefault().suppression().expiry()).isEqualTo(SuppressionExpiry.NONE);
        assertThat(policy.suppression().expiry()).isEqualTo(SuppressionExpiry.NONE);
    }

    @Test
    void readsTheNodesEgressAndOneEgressForTheClusterByDefault() throws Exception {
        DeliveryPolicy named = DeliveryPolicy.parse("version: 1\negress: 192.0.2.10\nsuppression: { store: h2 }\n", "p.yaml");
        assertThat(named.suppression().egress()).isEqualTo(Egress.of("192.0.2.10"));
        assertThat(named.suppression().toString()).endsWith("egress: 192.0.2.10}");
        assertThat(DeliveryPolicy.parse("version: 1\n", "p.yaml").suppression().egress()).isEqualTo(Egress.DEFAULT);
        assertThat(policy.suppression().egress()).isEqualTo(Egress.DEFAULT);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Egress.of("Node A")).hasMessageContaining("'Node A' is not an egress name");
    }

    @Test
    void readsExponentialRetry() {
        RetrySchedule r = policy.destination("gmail").get().retrySchedule();
        assertThat(r.isExponential()).isTrue();
        assertThat(r).isEqualTo(RetrySchedule.exponential(Duration.ofMinutes(5), 3.0, Duration.ofHours(2), 0.25));
    }

    @Test
    void readsSuppressionAndRuleFilesRelativeToThePolicyFile() {
        assertThat(policy.suppression().store()).isEqualTo(StoreSettings.Store.H2);
        assertThat(policy.suppression().path()).isEqualTo(Paths.get("/var/lib/sup"));
        assertThat(policy.ruleFiles()).containsExactly(
                Paths.get("/etc/james/extra-rules.yaml"), Paths.get("/etc/james/more.yaml"));
    }

    @Test
    void matchesDomainsCaseInsensitivelyExactBeforeWildcard() {
        assertThat(policy.forRecipientDomain("aol.com").name()).isEqualTo("aol");
        assertThat(policy.forRecipientDomain("AOL.COM").name()).isEqualTo("aol");
        assertThat(policy.forRecipientDomain("aol.com.").name()).isEqualTo("aol");
        assertThat(policy.forRecipientDomain("Verizon.Net").name()).isEqualTo("aol");
        assertThat(policy.forRecipientDomain("members.aol.com").name()).isEqualTo("aol");
        // The longer wildcard wins.
        assertThat(policy.forRecipientDomain("x.uk.aol.com").name()).isEqualTo("aol-uk");
        assertThat(policy.forRecipientDomain("uk.aol.com").name()).isEqualTo("aol");
        // A wildcard covers subdomains only, and suffixes must match on a dot.
        assertThat(policy.forRecipientDomain("notaol.com").name()).isEqualTo("default");
        assertThat(policy.forRecipientDomain("example.org").name()).isEqualTo("default");
        assertThat(policy.forRecipientDomain(null).name()).isEqualTo("default");
    }

    @Test
    void resolvesByMxWhenTheDomainIsUnknown() {
        assertThat(policy.resolve("vanity.example", Arrays.asList("mailin-01.mx.aol.com")).name()).isEqualTo("aol");
        assertThat(policy.resolve("vanity.example", Arrays.asList("ASPMX.L.GOOGLE.COM.")).name()).isEqualTo("gmail");
        assertThat(policy.resolve("vanity.example", Arrays.asList("alt1.aspmx.l.google.com")).name()).isEqualTo("gmail");
        // *.google.com is shorter than *.l.google.com: the more specific pattern wins.
        assertThat(policy.resolve("vanity.example", Arrays.asList("smtp.google.com")).name()).isEqualTo("google-alt");
        // The first MX host in preference order that matches decides.
        assertThat(policy.resolve("vanity.example", Arrays.asList("mx.unknown.net", "mailin-02.mx.aol.com")).name())
                .isEqualTo("aol");
        // Domain match first, even when the MX says otherwise.
        assertThat(policy.resolve("gmail.com", Arrays.asList("mailin-01.mx.aol.com")).name()).isEqualTo("gmail");
        assertThat(policy.resolve("vanity.example", Collections.emptyList()).name()).isEqualTo("default");
        assertThat(policy.resolve("vanity.example", null).name()).isEqualTo("default");
    }

    @Test
    void builtInDefaultFollowsRfc5321() {
        DeliveryPolicy p = DeliveryPolicy.builtInDefault();
        assertThat(p.destinations()).isEmpty();
        DestinationPolicy d = p.forRecipientDomain("aol.com");
        assertThat(d.name()).isEqualTo("default");
        assertThat(d.maxAge()).isEqualTo(Duration.ofDays(5));
        assertThat(d.delayWarning()).isEqualTo(Duration.ofHours(4));
        assertThat(d.retrySchedule().explicitDelays()).containsExactly(Duration.ofMinutes(15), Duration.ofMinutes(30),
                Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(4));
        assertThat(p.suppression()).isEqualTo(StoreSettings.defaults());
    }

    @Test
    void minimalFileIsValid() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.parse("version: 1\n", "min.yaml");
        assertThat(p.destinations()).isEmpty();
        assertThat(p.defaultDestination().retrySchedule())
                .isEqualTo(DeliveryPolicy.builtInDefault().defaultDestination().retrySchedule());
    }

    @Test
    void perDestinationRulesWinForThatDestinationOnly() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.parse(String.join("\n",
                "version: 1",
                "destinations:",
                "  - name: aol",
                "    domains: [aol.com]",
                "    rules:",
                "      - id: local.dyn-t1-retry",
                "        match: {token: 'DYN:T1'}",
                "        action: retry",
                "        reason: speeding",
                "        scope: message",
                "        explanation: Our AOL contract lets us simply retry.",
                "        remedy: Nothing.",
                "        source: operator",
                "  - name: yahoo",
                "    domains: [yahoo.com]",
                ""), "p.yaml");
        DestinationPolicy aol = p.destination("aol").get();
        assertThat(aol.hasRuleOverrides()).isTrue();
        assertThat(aol.ruleOverrides().get().size()).isEqualTo(1);
        assertThat(p.defaultDestination().hasRuleOverrides()).isFalse();

        ReplyClassifier base = ReplyClassifier.builtIn();
        String dynT1 = "421 4.7.1 : (DYN:T1)";
        assertThat(aol.classifier(base).classify(dynT1).ruleId()).isEqualTo("local.dyn-t1-retry");
        assertThat(aol.classifier(base).classify(dynT1).action()).isEqualTo(Action.RETRY);
        assertThat(aol.classifier(base)).isSameAs(aol.classifier(base));
        DestinationPolicy yahoo = p.destination("yahoo").get();
        assertThat(yahoo.classifier(base)).isSameAs(base);
        assertThat(yahoo.classifier(base).classify(dynT1).ruleId()).isNotEqualTo("local.dyn-t1-retry");
    }

    @Test
    void badPerDestinationRulesFailTheLoadWithTheirLine() {
        try {
            DeliveryPolicy.parse(String.join("\n",
                    "version: 1",
                    "destinations:",
                    "  - name: aol",
                    "    domains: [aol.com]",
                    "    rules:",
                    "      - id: local.broken",
                    "        match: {token: 'DYN:T1'}",
                    "        action: explode",
                    ""), "p.yaml");
        } catch (PolicyException e) {
            assertThat(e.errors()).isNotEmpty();
            assertThat(e.errors()).allSatisfy(err -> assertThat(err).startsWith("p.yaml:").contains("destinations[aol].rules"));
            assertThat(e.errors()).anySatisfy(err -> assertThat(err).contains("explode"));
            return;
        }
        throw new AssertionError("expected the policy to be rejected");
    }

    @Test
    void loadsFromAFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path f = dir.resolve("p.yaml");
        // Loaded from disk, the rule files it names must exist.
        java.nio.file.Files.writeString(dir.resolve("extra-rules.yaml"), "version: 1\nrules: []\n");
        java.nio.file.Files.writeString(dir.resolve("more.yaml"), "version: 1\nrules: []\n");
        String policy = POLICY.replace("/etc/james/more.yaml", dir.resolve("more.yaml").toString());
        java.nio.file.Files.write(f, policy.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        DeliveryPolicy p = DeliveryPolicy.load(f);
        assertThat(p.destinations()).extracting(DestinationPolicy::name)
                .containsExactly("aol", "aol-uk", "gmail", "google-alt");
        assertThat(p.ruleFiles()).contains(dir.resolve("extra-rules.yaml"));
    }
}
