package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.PolicyRuntime;

/**
 * Destination holds on a real James 3.8.1 with the plugin: while the fake AOL throttles (DYN:T1, RLY:NW, the rate
 * limit, "not accepting connections"), mail for aol.com waits without hammering, then all of it is delivered once.
 * The test policy holds aol.com 4 s on the first throttle, growing by 1.5 up to 8 s.
 */
class ThrottleTest {
    private static final Duration INITIAL_HOLD = Duration.ofSeconds(4);
    /** Scheduling slack: a hold of 4 s must never let two connections through less than this apart. */
    private static final Duration HOLD_FLOOR = INITIAL_HOLD.minusMillis(800);
    /** it-policy.yaml's concurrency for aol: that many attempts may be in flight when the first throttle reply comes. */
    private static final int CONCURRENCY = 2;
    /** Connections started this close together were both admitted before either was refused. */
    private static final Duration SAME_WAVE = Duration.ofMillis(500);
    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(45);
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    /**
     * A fresh fake, and no hold left over from the previous test: a leftover hold would delay this test's first
     * connection past the end of its throttle mode, so the throttle it is about would never be seen.
     */
    @BeforeEach
    void freshFakeAndDestination() throws Exception {
        env.reset();
        PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString())
                .destinations().releaseHold("aol");
    }

    @Test
    void dynT1HoldsTheWholeDestinationThenDelivers() throws Exception {
        env.aol.setMode(Mode.DYN_T1, Duration.ofSeconds(7));
        List<String> recipients = List.of("ok-d1@aol.com", "ok-d2@aol.com", "ok-d3@aol.com");
        env.send("dyn-1", recipients.get(0));
        Poll.until(Duration.ofSeconds(10), "the first DYN:T1 rejection", env.aol::transactions, t -> !t.isEmpty());
        // Mail queued during the hold must wait for it, not open connections of its own.
        env.send("dyn-2", recipients.get(1));
        env.send("dyn-3", recipients.get(2));

        awaitDelivered(recipients);
        List<Transaction> throttled = env.aol.transactions().stream()
                .filter(t -> t.connectReply().contains("DYN:T1")).toList();
        // 7 s of DYN:T1 against a 4 s hold growing by 1.5: the first refusal, at most two probes. Without a hold, three
        // messages retried every 1-2 s would have connected about a dozen times.
        assertThat(throttled).hasSizeBetween(1, 3);
        assertGapsAtLeast(throttled, HOLD_FLOOR);
        env.assertDeliveredOnce(recipients);
    }

    @Test
    void rlyNwNewIpLimitHoldsThenDelivers() throws Exception {
        // Long enough that mail waiting for a concurrency slot still meets the limit: two accepted, the rest refused.
        env.aol.setMode(ModeSetting.of(Mode.RLY_NW).perMinute(2).lasting(Duration.ofSeconds(15)));
        List<String> recipients = List.of("ok-n1@aol.com", "ok-n2@aol.com", "ok-n3@aol.com", "ok-n4@aol.com");
        for (String recipient : recipients) {
            env.send("rly-nw-" + recipient, recipient);
        }

        awaitDelivered(recipients);
        List<Transaction> refused = env.aol.transactions().stream().filter(ThrottleTest::mentionsRlyNw).toList();
        // At most the first wave and two probes (holds of 4 s then 6 s inside 15 s); retries every 1-2 s without a
        // hold would have connected a dozen times.
        assertThat(refused).isNotEmpty().hasSizeLessThanOrEqualTo(CONCURRENCY + 2);
        assertGapsAtLeast(refused, HOLD_FLOOR);
        env.assertDeliveredOnce(recipients);
    }

    @Test
    void rateLimitIsRespectedWithoutEarningTheDynamicBlock() throws Exception {
        // One message a minute: the second one is refused with DYN:T1 for as long as the mode lasts.
        env.aol.setMode(ModeSetting.of(Mode.RATE_LIMIT).perMinute(1).lasting(Duration.ofSeconds(9)));
        List<String> recipients = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            recipients.add("ok-rl" + i + "@aol.com");
        }
        for (String recipient : recipients) {
            env.send("rate-" + recipient, recipient);
        }

        awaitDelivered(recipients);
        List<Transaction> refused = env.aol.transactions().stream().filter(t -> mentions(t, "DYN:T1")).toList();
        assertThat(refused).as("refusals over the rate limit").isNotEmpty().hasSizeLessThanOrEqualTo(3);
        assertGapsAtLeast(refused, HOLD_FLOOR);
        // AOL turns repeated connections during a throttle into 554 RLY:B1; a held destination never earns it.
        assertThat(env.aol.transactions()).noneMatch(t -> mentions(t, "RLY:B1"));
        env.assertDeliveredOnce(recipients);
    }

    @Test
    void notAcceptingConnectionsIsWaitedOut() throws Exception {
        env.aol.setMode(Mode.DOWN, Duration.ofSeconds(5));
        env.send("down-1", "ok-down1@aol.com");

        awaitDelivered(List.of("ok-down1@aol.com"));
        List<Transaction> refused = env.aol.transactions().stream()
                .filter(t -> t.connectReply().startsWith("554")).toList();
        assertThat(refused).isNotEmpty().hasSizeLessThanOrEqualTo(3);
        assertGapsAtLeast(refused, HOLD_FLOOR);
        assertThat(env.dsnsAbout("down-1")).as("a passing outage is not a bounce").isEmpty();
    }

    private static boolean mentionsRlyNw(Transaction t) {
        return mentions(t, "RLY:NW");
    }

    private static boolean mentions(Transaction t, String token) {
        return t.mentions(token);
    }

    private static void awaitDelivered(List<String> recipients) {
        env.awaitDelivered(recipients, DELIVERY_WAIT);
    }

    /**
     * Refusals come in waves: the attempts already in flight when the first throttle reply arrives (at most the
     * destination's concurrency, all started before any hold existed) are refused together; after that the hold lets
     * only one probe through at a time. So connections that started within {@link #SAME_WAVE} of each other count as
     * one wave, no wave is larger than the concurrency, and waves are at least {@code floor} apart.
     */
    private static void assertGapsAtLeast(List<Transaction> refusals, Duration floor) {
        List<List<Transaction>> waves = new ArrayList<>();
        for (Transaction refusal : refusals) {
            List<Transaction> last = waves.isEmpty() ? null : waves.get(waves.size() - 1);
            if (last != null && Duration.between(last.get(0).time(), refusal.time()).compareTo(SAME_WAVE) < 0) {
                last.add(refusal);
            } else {
                List<Transaction> wave = new ArrayList<>();
                wave.add(refusal);
                waves.add(wave);
            }
        }
        for (int i = 0; i < waves.size(); i++) {
            assertThat(waves.get(i)).as("refused connections started together (wave %d of %s)", i + 1, refusals)
                    .hasSizeLessThanOrEqualTo(CONCURRENCY);
            if (i > 0) {
                Duration gap = Duration.between(waves.get(i - 1).get(0).time(), waves.get(i).get(0).time());
                assertThat(gap).as("time between refusal waves %d and %d: %s", i, i + 1, refusals)
                        .isGreaterThanOrEqualTo(floor);
            }
        }
    }
}
