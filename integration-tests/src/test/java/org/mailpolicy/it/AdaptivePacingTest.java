package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.state.DestinationState;

/**
 * Adaptive pacing on a real James 3.8.1: the policy allows aol.com 60 a minute over 2 connections, but the fake AOL
 * takes only 10 a minute (DYN:T1 beyond, RLY:B1 for a client that keeps connecting while over). The plugin must find
 * that out on its own: one refusal, then a rate just under what AOL took, every mail delivered once, no block.
 */
class AdaptivePacingTest {
    private static final int AOL_PER_MINUTE = 10;
    private static final int MAILS = 16;
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.start(policy -> edit(policy), mailets -> mailets);
    }

    /** The test policy, with a rate ceiling for aol, time to wait for AOL's minute, and DYN:T1 holding and slowing. */
    private static String edit(String policy) {
        String withRate = replaceOnce(policy, "    concurrency: 2\n    # The built-in rule waits an hour",
                "    concurrency: 2\n    rate: 60/m\n    # The built-in rule waits an hour");
        String longer = replaceOnce(withRate, "    maxAge: 60s\n    delayWarning: 50s\n    throttle: { initial: 4s,",
                "    maxAge: 5m\n    delayWarning: 4m\n    throttle: { initial: 4s,");
        return replaceOnce(longer, "        scope: destination\n        explanation: AOL is rate limiting the sending IP",
                "        scope: destination\n        effect: hold-and-slow\n        explanation: AOL is rate limiting the sending IP");
    }

    private static String replaceOnce(String text, String from, String to) {
        assertThat(text).as("the test policy has the text to edit").contains(from);
        return text.replace(from, to);
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void aReceiverSlowerThanThePolicyIsFoundOutWithoutEarningABlock() throws Exception {
        env.aol.setMode(ModeSetting.of(Mode.RATE_LIMIT).perMinute(AOL_PER_MINUTE).lasting(Duration.ofMinutes(5)));
        List<String> recipients = new ArrayList<>();
        for (int i = 1; i <= MAILS; i++) {
            recipients.add("ok-pace" + i + "@aol.com");
            env.send("pace-" + i, recipients.get(i - 1));
        }
        Instant start = Instant.now();

        Poll.until(Duration.ofSeconds(180), "delivery of every mail", () -> deliveredOnce(recipients),
                n -> n == MAILS);

        List<Transaction> all = env.aol.transactions();
        List<Transaction> refused = all.stream().filter(t -> t.mentions("DYN:T1")).toList();
        assertThat(all.stream().filter(t -> t.mentions("RLY:B1"))).as("AOL's block for a client that keeps connecting")
                .isEmpty();
        // The first refusal taught the limit; the probe after it waited for AOL's minute to have room.
        assertThat(refused).as("refusals").isNotEmpty().hasSizeLessThanOrEqualTo(2);
        for (String r : recipients) {
            assertThat(env.aol.messages().stream().filter(m -> m.recipients().contains(r)).count())
                    .as("deliveries to %s", r).isEqualTo(1);
        }
        PolicyRuntime runtime = PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString());
        DestinationPolicy aol = runtime.policy().destination("aol").get();
        DestinationState state = runtime.destinations().get("aol").get();
        double learned = state.paceUnder(aol, Instant.now()).effectiveRate(aol);
        assertThat(learned).as("the rate learned under the 60/m ceiling").isLessThanOrEqualTo(AOL_PER_MINUTE)
                .isGreaterThanOrEqualTo(AOL_PER_MINUTE * 0.5);
        // Never faster than AOL's limit once learned: the mails after the first ten took about the learned pace.
        assertThat(Duration.between(start, Instant.now())).isGreaterThan(Duration.ofSeconds(60));
    }

    private static long deliveredOnce(List<String> recipients) {
        return recipients.stream()
                .filter(r -> env.aol.messages().stream().anyMatch(m -> m.recipients().contains(r)))
                .count();
    }
}
