package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.ConnectionSummary;
import org.mailpolicy.fakeaol.Transaction;

/**
 * Connection reuse on a real James 3.8.1 with the plugin, against the fake AOL: several mails go over one connection,
 * never more than the destination's {@code maxMessages}, never after a 421, and a connection the receiver dropped while
 * it was idle is replaced without losing or duplicating mail. The test policy's aol destination gets
 * {@code connections: { maxMessages: 5, idleTimeout: 5s }} (concurrency 2).
 */
class ConnectionReuseTest {
    private static final int MAX_MESSAGES = 5;
    private static final int CONCURRENCY = 2;
    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(45);
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        String aolConcurrency = "    concurrency: " + CONCURRENCY + "\n    # The built-in rule";
        env = PluginEnvironment.startWithPolicy(port -> {
            String policy = TestPolicy.forFakeAol(port);
            assertThat(policy).contains(aolConcurrency);
            return policy.replace(aolConcurrency, "    concurrency: " + CONCURRENCY + "\n    connections: { maxMessages: "
                    + MAX_MESSAGES + ", idleTimeout: 5s }\n    # The built-in rule");
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    /** A fresh fake, which drops the connections James keeps from the previous test: each test starts without any. */
    @BeforeEach
    void freshFake() {
        env.reset();
    }

    @Test
    void manyMailsShareFewConnectionsEachWithinItsMessageLimit() throws Exception {
        List<String> recipients = new ArrayList<>();
        for (int i = 1; i <= 30; i++) {
            recipients.add("ok-reuse" + i + "@aol.com");
        }
        for (String recipient : recipients) {
            env.send("reuse-" + recipient, recipient);
        }

        int mostOpen = awaitDeliveredWatchingOpenConnections(recipients);

        List<ConnectionSummary> connections = env.aol.connections();
        System.out.println("ConnectionReuseTest: " + recipients.size() + " mails over " + connections.size()
                + " connections, transactions per connection " + connections.stream().map(ConnectionSummary::transactions)
                .toList() + ", at most " + mostOpen + " open at once");
        assertThat(connections.size()).as("connections opened for %s mails: %s", recipients.size(), connections)
                .isLessThanOrEqualTo(recipients.size() / MAX_MESSAGES + CONCURRENCY);
        assertThat(connections).allSatisfy(c -> assertThat(c.transactions()).isLessThanOrEqualTo(MAX_MESSAGES));
        assertThat(connections).anySatisfy(c -> assertThat(c.transactions()).isGreaterThan(1));
        assertThat(mostOpen).as("connections open at once at the fake, idle ones included").isLessThanOrEqualTo(CONCURRENCY);
        env.assertDeliveredOnce(recipients);
    }

    @Test
    void aConnectionThatGotA421IsNotReusedAndItsMailIsRetried() throws Exception {
        env.send("before-421", "ok-before421@aol.com");
        awaitDelivered(List.of("ok-before421@aol.com"));
        // "flaky" recipients get 421 HVU:B2 once at the end of DATA, and the fake keeps the connection open.
        env.send("flaky-421", "flaky-reuse@aol.com");
        awaitDelivered(List.of("flaky-reuse@aol.com"));

        List<Transaction> flaky = env.rcptsFor("flaky-reuse@aol.com");
        assertThat(flaky).hasSize(2);
        Transaction refused = flaky.get(0);
        assertThat(refused.dataReply()).hasValueSatisfying(reply -> assertThat(reply).startsWith("421"));
        assertThat(env.aol.transactions()).as("nothing more on the connection that said 421")
                .filteredOn(t -> t.connection() == refused.connection()).last().isEqualTo(refused);
        assertThat(flaky.get(1).connection()).isNotEqualTo(refused.connection());
        env.assertDeliveredOnce(List.of("ok-before421@aol.com", "flaky-reuse@aol.com"));
    }

    @Test
    void aDeadIdleConnectionIsReplacedAndTheMailGoesOnce() throws Exception {
        env.send("first", "ok-first@aol.com");
        awaitDelivered(List.of("ok-first@aol.com"));
        int first = env.rcptsFor("ok-first@aol.com").get(0).connection();
        assertThat(env.aol.connections()).filteredOn(c -> c.connection() == first)
                .singleElement().satisfies(c -> assertThat(c.open()).as("kept open for the next mail").isTrue());

        assertThat(env.aol.dropIdleConnections()).isPositive();
        env.send("second", "ok-second@aol.com");
        awaitDelivered(List.of("ok-second@aol.com"));

        List<Transaction> second = env.rcptsFor("ok-second@aol.com");
        assertThat(second).as("one transaction, on a fresh connection").singleElement()
                .satisfies(t -> assertThat(t.connection()).isNotEqualTo(first));
        env.assertDeliveredOnce(List.of("ok-first@aol.com", "ok-second@aol.com"));
    }

    @Test
    void theNextMailOfABurstTakesTheIdleConnection() throws Exception {
        env.send("burst-1", "ok-burst1@aol.com");
        awaitDelivered(List.of("ok-burst1@aol.com"));
        env.send("burst-2", "ok-burst2@aol.com");
        awaitDelivered(List.of("ok-burst2@aol.com"));

        Set<Integer> used = env.aol.transactions().stream().map(Transaction::connection).collect(Collectors.toSet());
        assertThat(used).as("both mails on one connection").hasSize(1);
    }

    /** Waits for every recipient, sampling how many connections the fake has open; returns the most seen at once. */
    private static int awaitDeliveredWatchingOpenConnections(List<String> recipients) throws InterruptedException {
        long deadline = System.nanoTime() + DELIVERY_WAIT.toNanos();
        int mostOpen = 0;
        while (env.deliveredTo(recipients) < recipients.size()) {
            assertThat(System.nanoTime()).as("delivery to %s within %s", recipients, DELIVERY_WAIT).isLessThan(deadline);
            mostOpen = Math.max(mostOpen, (int) env.aol.connections().stream().filter(ConnectionSummary::open).count());
            Thread.sleep(20);
        }
        return mostOpen;
    }

    private static void awaitDelivered(List<String> recipients) {
        env.awaitDelivered(recipients, DELIVERY_WAIT);
    }

}
