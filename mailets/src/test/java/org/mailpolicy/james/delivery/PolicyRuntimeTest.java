package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import javax.mail.MessagingException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.rules.Action;
import org.mailpolicy.state.Admission;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.suppression.SuppressionEntry;

/** Loading the runtime the mailets share from a policy file, as James's mailet init does. */
class PolicyRuntimeTest {
    @TempDir
    Path dir;
    private Path policyFile;

    @AfterEach
    void forget() {
        if (policyFile != null) {
            PolicyRuntime.forgetForTesting(policyFile.toString());
        }
    }

    private Path writePolicy(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void onePolicyFileGivesOneRuntimeWhateverTheSpelling() throws Exception {
        Path store = dir.resolve("store").resolve("suppressions");
        Path rules = writePolicy("extra-rules.yaml", String.join("\n",
                "version: 1",
                "rules:",
                "  - id: local.greylist",
                "    match: {text: 'local-greylisted'}",
                "    action: retry",
                "    reason: undefined",
                "    scope: message",
                "    explanation: Greylisted.",
                "    remedy: Wait.",
                "    source: test",
                ""));
        policyFile = writePolicy("policy.yaml", String.join("\n",
                "version: 1",
                "suppression:",
                "  store: h2",
                "  path: " + store,
                "rules: [" + rules.getFileName() + "]",
                "destinations:",
                "  - name: aol",
                "    domains: [aol.com]",
                ""));

        PolicyRuntime first = PolicyRuntime.forPolicyFile(policyFile.toString());
        PolicyRuntime again = PolicyRuntime.forPolicyFile("file://" + policyFile.getParent() + "/./policy.yaml");

        assertThat(again).isSameAs(first);
        DestinationPolicy aol = first.policy().forRecipientDomain("aol.com");
        assertThat(aol.name()).isEqualTo("aol");
        assertThat(first.classifierFor(aol).classify("451 local-greylisted, try again").ruleId())
                .isEqualTo("local.greylist");
        assertThat(first.classifier().classify("451 local-greylisted").action()).isEqualTo(Action.RETRY);
        assertThat(first.clock()).isEqualTo(Clock.systemUTC());
        assertThat(first.suppressions().count(java.util.Optional.empty())).isZero();
        assertThat(Files.exists(store.resolveSibling("suppressions.mv.db"))).isTrue();
        assertThat(first.destinations().all()).isEmpty();
    }

    @Test
    void aBrokenPolicyFailsWithEveryProblemNamed() throws Exception {
        policyFile = writePolicy("broken.yaml", String.join("\n",
                "version: 1",
                "default:",
                "  maxAge: forever",
                "  concurrency: 0",
                ""));

        assertThatThrownBy(() -> PolicyRuntime.forPolicyFile(policyFile.toString()))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining(policyFile.toString())
                .hasMessageContaining("maxAge")
                .hasMessageContaining("concurrency");
    }

    @Test
    void aMissingPolicyFileIsNamed() {
        Path missing = dir.resolve("nowhere.yaml");
        assertThatThrownBy(() -> PolicyRuntime.forPolicyFile(missing.toString()))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void holdsSurviveAReloadInTheSuppressionsH2FileButAttemptsInFlightDoNot() throws Exception {
        Path store = dir.resolve("var").resolve("suppressions");
        policyFile = writePolicy("policy.yaml", String.join("\n",
                "version: 1",
                "suppression:",
                "  store: h2",
                "  path: " + store,
                "destinations:",
                "  - name: aol",
                "    domains: [aol.com]",
                ""));
        PolicyRuntime first = PolicyRuntime.forPolicyFile(policyFile.toString());
        DestinationPolicy aol = first.policy().destination("aol").get();
        DestinationPolicy dflt = first.policy().defaultDestination();
        DestinationKey exampleOrg = DestinationKey.of("example.org");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS); // the store keeps milliseconds
        DestinationStateStore before = first.destinations();
        assertThat(before.admit(aol, now).isGranted()).isTrue();
        before.recordThrottle(aol, "421 4.7.1 : (DYN:T1)", Optional.empty(), now);
        before.finished("aol", now);
        // A crash mid-attempt: an attempt to example.org was admitted and never finished.
        assertThat(before.admit(exampleOrg, dflt, now).isGranted()).isTrue();
        assertThat(before.get(exampleOrg).get().inFlight()).isEqualTo(1);
        first.suppressions().add(SuppressionEntry.of("gone@aol.com", now, "userunknown", "550 MAILBOX NOT FOUND",
                "aol.mailbox-not-found", SuppressionEntry.Source.LIVE_REPLY, Optional.empty()));

        PolicyRuntime.forgetForTesting(policyFile.toString()); // James stops
        PolicyRuntime second = PolicyRuntime.forPolicyFile(policyFile.toString()); // and starts again

        assertThat(second).isNotSameAs(first);
        DestinationStateStore after = second.destinations();
        DestinationState held = after.get("aol").get();
        assertThat(held.heldUntil()).contains(now.plus(Duration.ofMinutes(15)));
        assertThat(held.lastReply()).contains("421 4.7.1 : (DYN:T1)");
        Admission refused = after.admit(aol, now.plusSeconds(60));
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.notBefore()).contains(now.plus(Duration.ofMinutes(15)));
        // The attempt that died with the previous process holds no slot (on one node, admissions are never written).
        assertThat(after.get(exampleOrg).map(DestinationState::inFlight).orElse(0)).isZero();
        assertThat(after.admit(exampleOrg, dflt, now.plusSeconds(1)).isGranted()).isTrue();
        assertThat(second.suppressions().find("gone@aol.com")).isPresent();
    }

    @Test
    void aProbeLeftByACrashDoesNotBlockTheNextProbe() throws Exception {
        Path store = dir.resolve("var").resolve("suppressions");
        policyFile = writePolicy("policy.yaml", String.join("\n",
                "version: 1",
                "suppression:",
                "  store: h2",
                "  path: " + store,
                "destinations:",
                "  - name: aol",
                "    domains: [aol.com]",
                ""));
        PolicyRuntime first = PolicyRuntime.forPolicyFile(policyFile.toString());
        DestinationPolicy aol = first.policy().destination("aol").get();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS); // the store keeps milliseconds
        first.destinations().recordThrottle(aol, "421 4.7.1 : (DYN:T1)", Optional.empty(), now);
        Instant holdEnd = now.plus(Duration.ofMinutes(15));
        assertThat(first.destinations().admit(aol, holdEnd).isProbe()).isTrue(); // the probe; then the crash

        PolicyRuntime.forgetForTesting(policyFile.toString());
        PolicyRuntime second = PolicyRuntime.forPolicyFile(policyFile.toString());

        assertThat(second.destinations().get("aol").get().probing()).isFalse();
        assertThat(second.destinations().admit(aol, holdEnd.plusSeconds(1)).isProbe()).isTrue();
    }
}
