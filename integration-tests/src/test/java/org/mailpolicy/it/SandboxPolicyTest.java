package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RepoLayout;

/**
 * The sandbox's promise (issue 4): with config/sandbox/delivery-policy.yaml, the first retry comes within 10 s and the
 * first throttle hold lasts at most 20 s, so that a user sees every behaviour play out in a minute or two. The policy is
 * used as shipped, except that its route points at this test's fake AOL and its database under this James's var/.
 */
class SandboxPolicyTest {
    private static final String SANDBOX_ROUTE = "route: 127.0.0.1:2526";
    private static final String SANDBOX_STORE = "path: var/delivery-policy/suppressions";
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        String shipped = Files.readString(RepoLayout.find().sandboxConfig().resolve("delivery-policy.yaml"),
                StandardCharsets.UTF_8);
        assertThat(shipped).contains(SANDBOX_ROUTE, SANDBOX_STORE);
        env = PluginEnvironment.startWithPolicy(port -> shipped.replace(SANDBOX_ROUTE, "route: 127.0.0.1:" + port)
                .replace(SANDBOX_STORE, "path: \"" + JamesSetup.JAMES_HOME_TOKEN + "/var/delivery-policy/suppressions\""));
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @BeforeEach
    void freshFake() {
        env.reset();
    }

    @Test
    void firstThrottleHoldIsAtMostTwentySeconds() throws Exception {
        env.aol.setMode(Mode.DYN_T1, Duration.ofSeconds(5));
        env.send("sandbox-hold", "ok-sb1@aol.com");

        Poll.until(Duration.ofSeconds(40), "ok-sb1 delivered after the hold", env.aol::messages,
                messages -> messages.stream().anyMatch(m -> m.recipients().contains("ok-sb1@aol.com")));
        List<Transaction> all = env.aol.transactions();
        assertThat(all.get(0).connectReply()).contains("DYN:T1");
        Duration hold = Duration.between(all.get(0).time(), all.get(1).time());
        assertThat(hold).isBetween(Duration.ofSeconds(5), Duration.ofSeconds(21));
    }

    @Test
    void firstRetryComesWithinTenSeconds() throws Exception {
        env.aol.setMode(Mode.DROP_IN_DATA, Duration.ofSeconds(2));
        env.send("sandbox-retry", "ok-sb2@aol.com");

        Poll.until(Duration.ofSeconds(30), "ok-sb2 delivered on its retry", env.aol::messages,
                messages -> messages.stream().anyMatch(m -> m.recipients().contains("ok-sb2@aol.com")));
        List<Transaction> attempts = env.rcptsFor("ok-sb2@aol.com");
        assertThat(attempts).hasSizeGreaterThanOrEqualTo(2);
        assertThat(Duration.between(attempts.get(0).time(), attempts.get(1).time())).isLessThanOrEqualTo(Duration.ofSeconds(11));
    }
}
