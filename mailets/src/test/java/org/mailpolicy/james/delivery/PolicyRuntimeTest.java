package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import javax.mail.MessagingException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.rules.Action;

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
}
