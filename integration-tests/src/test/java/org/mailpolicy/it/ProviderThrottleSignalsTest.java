package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.fakeaol.ReplyStage;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.state.DestinationState;

/**
 * The throttle signals of other providers, in the delivery path of a real James 3.8.1: the fake answers each one in
 * the provider's words at the stage the provider uses, and the plugin acts on the whole destination as the built-in
 * rule says. A hold lasts what the provider documents (the destination's maximum is above it here), no other
 * connection is opened meanwhile, and the mail waits instead of bouncing; "too many connections" holds nothing, lowers
 * the concurrency and delivers soon. Each signal has its own destination, so holds and pace do not carry over.
 */
class ProviderThrottleSignalsTest {
    /** How long a held destination is watched for connections it must not open. */
    private static final Duration WATCH = Duration.ofSeconds(2);
    private static PluginEnvironment env;

    static Stream<Arguments> holdingSignals() {
        return Stream.of(
                Arguments.of("yahoo-tss04", ReplyStage.CONNECT, "421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily"
                        + " deferred due to unexpected volume or user complaints - 4.16.55.1; see"
                        + " https://postmaster.yahooinc.com/error-codes", "yahoo.reputation-deferred", Duration.ofHours(1)),
                Arguments.of("yahoo-ts02", ReplyStage.MAIL, "421 4.7.0 [TS02] Messages from 127.0.0.1 temporarily"
                        + " deferred due to unexpected volume or user complaints - 4.16.56.1", "yahoo.tss-deferred",
                        Duration.ofMinutes(30)),
                Arguments.of("yahoo-ts03", ReplyStage.CONNECT, "421 4.7.1 [TS03] All messages from 127.0.0.1 will be"
                        + " permanently deferred; Retrying will NOT succeed.", "yahoo.ts03-deferred", Duration.ofHours(4)),
                Arguments.of("yahoo-ipts04", ReplyStage.MAIL, "421 4.7.0 [IPTS04] Messages from 127.0.0.1 temporarily"
                        + " deferred due to unexpected volume or user complaints", "yahoo.reputation-deferred",
                        Duration.ofHours(1)),
                Arguments.of("yahoo-gl01", ReplyStage.RCPT, "421 4.7.0 [GL01] Message from (127.0.0.1) temporarily"
                        + " deferred - 4.16.50", "yahoo.tss-deferred", Duration.ofMinutes(30)),
                Arguments.of("yahoo-per-connection", ReplyStage.MAIL, "421 Max message per connection reached, closing"
                        + " transmission channel", "yahoo.max-messages-per-connection", Duration.ofMinutes(1)),
                Arguments.of("microsoft-650", ReplyStage.CONNECT, "451 4.7.650 The mail server [127.0.0.1] has been"
                        + " temporarily rate limited due to IP reputation. For e-mail delivery information, see"
                        + " https://postmaster.live.com (S775)", "microsoft.ip-reputation-rate-limit", Duration.ofHours(1)),
                Arguments.of("gmail-4728", ReplyStage.DATA, "421 4.7.28 Our system has detected an unusual rate of"
                        + " unsolicited mail originating from your IP address. To protect our users from spam, mail sent"
                        + " from your IP address has been temporarily rate limited.", "gmail.unusual-rate",
                        Duration.ofMinutes(30)),
                Arguments.of("gmail-try-later", ReplyStage.CONNECT, "421 4.7.0 Try again later, closing connection."
                        + " (EHLO) a1si123 - gsmtp", "generic.service-unavailable-try-later", Duration.ofMinutes(5)));
    }

    static Stream<Arguments> connectionSignals() {
        return Stream.of(
                Arguments.of("microsoft-652", ReplyStage.MAIL, "451 4.7.652 The mail server [127.0.0.1] has exceeded"
                        + " the maximum number of connections. (S3115)"),
                Arguments.of("postfix-connections", ReplyStage.CONNECT, "421 4.7.0 Error: too many connections from"
                        + " 127.0.0.1"),
                Arguments.of("exim-connections", ReplyStage.CONNECT, "421 Too many concurrent SMTP connections; please"
                        + " try again later."));
    }

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.start(ProviderThrottleSignalsTest::withADestinationPerSignal, s -> s);
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

    /**
     * Each signal's own destination, routed to the fake as aol is, its hold maximum above every provider's documented
     * hold (4 h), 4 connections at most (2 at first).
     */
    private static String withADestinationPerSignal(String policy) {
        Matcher route = Pattern.compile("route: (127\\.0\\.0\\.1:[0-9]+)").matcher(policy);
        assertThat(route.find()).as("the fake's route in the test policy").isTrue();
        StringBuilder added = new StringBuilder(policy);
        Stream.concat(holdingSignals(), connectionSignals()).forEach(a -> {
            String name = (String) a.get()[0];
            added.append("  - name: ").append(name).append('\n')
                    .append("    domains: [").append(name).append(".test]\n")
                    .append("    route: ").append(route.group(1)).append('\n')
                    .append("    throttle: { initial: 2s, growth: 2.0, max: 5h }\n")
                    .append("    concurrency: 4\n");
        });
        return added.toString();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("holdingSignals")
    void aProviderThrottleHoldsTheDestinationAsLongAsTheProviderSays(String destination, ReplyStage stage,
            String reply, String rule, Duration documentedHold) throws Exception {
        env.aol.setMode(ModeSetting.replying(reply, stage));
        String first = "ok-1@" + destination + ".test";
        env.send(destination + " first", first);
        DestinationState held = awaitReplyRecorded(destination, reply);

        assertThat(held.heldUntil()).as("held").isPresent();
        assertThat(Duration.between(held.holdStartedAt().get(), held.heldUntil().get()))
                .as("the hold of rule %s", rule).isEqualTo(documentedHold);
        assertThat(held.consecutiveThrottles()).isEqualTo(1);

        // Mail queued while the destination is held waits for the hold: no connection of its own.
        int seen = env.aol.transactions().size();
        env.send(destination + " second", "ok-2@" + destination + ".test");
        Thread.sleep(WATCH.toMillis());
        assertThat(env.aol.transactions()).as("connections while held").hasSize(seen);
        assertThat(env.dsnsAbout(destination + " first")).as("a throttle is not a bounce").isEmpty();
        assertThat(env.aol.messages()).isEmpty();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("connectionSignals")
    void tooManyConnectionsLowersTheConcurrencyAndDeliversSoonWithoutAHold(String destination, ReplyStage stage,
            String reply) throws Exception {
        // Once: the retry finds the receiver with room again. (With a single connection open, a second refusal would
        // rightly hold the destination: someone else uses the receiver's allowance.)
        env.aol.setMode(ModeSetting.replying(reply, stage).times(1));
        String recipient = "ok-1@" + destination + ".test";
        env.send(destination, recipient);
        Poll.until(Duration.ofSeconds(20), "delivery to " + recipient, () -> env.aol.messages().stream()
                .filter(m -> m.recipients().contains(recipient)).count(), n -> n == 1);

        assertThat(env.aol.transactions()).as("the refusal, then the delivery").hasSize(2)
                .first().satisfies(t -> assertThat(t.mentions(reply.substring(4, 30))).isTrue());
        DestinationState after = runtime().destinations().get(destination).get();
        assertThat(after.heldUntil()).as("no hold for a connection limit").isEmpty();
        assertThat(after.consecutiveThrottles()).isZero();
        DestinationPolicy policy = runtime().policy().destination(destination).get();
        assertThat(after.paceUnder(policy, Instant.now()).effectiveConcurrency(policy))
                .as("one connection fewer than were open, at least one").isEqualTo(1);
        assertThat(after.pace().get().recentSignals()).isEqualTo(1);
        assertThat(env.dsnsAbout(destination)).isEmpty();
    }

    private static DestinationState awaitReplyRecorded(String destination, String reply) {
        return Poll.until(Duration.ofSeconds(20), "the reply recorded for " + destination,
                () -> runtime().destinations().get(destination),
                s -> s.isPresent() && s.get().lastReply().map(r -> r.contains(reply.substring(4, 30))).orElse(false))
                .get();
    }

    private static PolicyRuntime runtime() throws Exception {
        return PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString());
    }
}
