package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.testing.FixedDns;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RunningJames;
import org.mailpolicy.postfix.PostfixReceiver;

/**
 * A real Postfix as the receiving site, side by side: James with the plugin (a destination routed to Postfix, no more
 * connections than Postfix allows a client) and stock James (RemoteDelivery with Postfix as its gateway) each deliver
 * six mails to known users and one to an unknown user, who comes back in a DSN. Each system gets its own Postfix
 * (2 connections, 60 messages a minute per client): the limits count per client, and both are 127.0.0.1.
 */
class PostfixDeliveryTest {
    private static final String DOMAIN = "postfix.test";
    private static final List<String> USERS = List.of("ann", "ben", "cat", "dan", "eve", "fay");
    private static final String UNKNOWN = "nobody@" + DOMAIN;
    private static final FixedDns DNS = FixedDns.loopbackMx(List.of(DOMAIN));

    @BeforeAll
    static void needsPostfix() {
        Optional<String> whyNot = PostfixReceiver.whyUnavailable();
        Assumptions.assumeTrue(whyNot.isEmpty(), () -> "no Postfix receiver: " + whyNot.get());
    }

    @Test
    void thePluginDeliversWithinPostfixsLimitsAndReportsTheUnknownUserInPostfixsWords() throws Exception {
        try (PostfixReceiver postfix = receiver()) {
            String policy = String.join("\n",
                    "version: 1",
                    "suppression: { store: h2, path: \"" + JamesSetup.JAMES_HOME_TOKEN
                            + "/var/delivery-policy/suppressions\" }",
                    "rules: []",
                    "default: { retry: { schedule: [1s, 2s] }, maxAge: 60s, delayWarning: 50s,"
                            + " throttle: { initial: 3s, growth: 2.0, max: 10s }, concurrency: 2 }",
                    "destinations:",
                    "  - name: postfix",
                    "    domains: [" + DOMAIN + "]",
                    "    route: 127.0.0.1:" + postfix.port(),
                    "    concurrency: 2",
                    "");
            String dsn = deliverThrough(postfix, policy, Optional.empty());

            assertThat(dsn).contains(UNKNOWN).contains("User unknown in virtual mailbox table");
            assertThat(postfix.refusedConnections()).as("421 too many connections").isZero();
            assertThat(postfix.refusedMessages()).as("450 too much mail").isZero();
        }
    }

    /**
     * Postfix allows 10 messages a minute and 2 connections; the policy's ceilings say 60 a minute over 5. The plugin
     * must find the limits out: one "too much mail" refusal (the first minute fills at once), at most a couple of "too
     * many connections", then every mail delivered once at a rate just under Postfix's, never refused again.
     */
    @Test
    void aPostfixStricterThanThePolicyIsFoundOutWithoutRepeatedRefusals() throws Exception {
        List<String> users = new ArrayList<>();
        for (int i = 1; i <= 15; i++) {
            users.add("user" + i);
        }
        try (PostfixReceiver postfix = PostfixReceiver.builder().domain(DOMAIN).users(users).connectionCountLimit(2)
                .messageRatePerMinute(10).start()) {
            String policy = String.join("\n",
                    "version: 1",
                    "suppression: { store: h2, path: \"" + JamesSetup.JAMES_HOME_TOKEN
                            + "/var/delivery-policy/suppressions\" }",
                    "rules: []",
                    "default: { retry: { schedule: [1s, 2s] }, maxAge: 5m, delayWarning: 4m,"
                            + " throttle: { initial: 3s, growth: 2.0, max: 10s }, concurrency: 2 }",
                    "destinations:",
                    "  - name: postfix",
                    "    domains: [" + DOMAIN + "]",
                    "    route: 127.0.0.1:" + postfix.port(),
                    "    concurrency: 5",
                    "    rate: 60/m",
                    "");
            Path workDir = Files.createTempDirectory("james-it-postfix-");
            try (RunningJames james = RunningJames.start(JamesSetup.of(workDir, JamesPorts.EPHEMERAL, DNS, policy))) {
                james.addUser(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD);
                MailClient client = new MailClient(james.smtpPort(), james.imapPort());
                for (String address : postfix.addresses()) {
                    client.send(TestPolicy.ALICE, "to " + address, "Hello from James.", address);
                }
                Poll.until(Duration.ofSeconds(180), "every user's mail at Postfix", postfix::usersWithMail,
                        n -> n == users.size());

                assertThat(postfix.deliveredMessages()).as("one copy each").isEqualTo(users.size());
                assertThat(postfix.refusedMessages()).as("450 too much mail").isBetween(1, 2);
                assertThat(postfix.refusedConnections()).as("421 too many connections").isLessThanOrEqualTo(2);
                PolicyRuntime runtime = PolicyRuntime.forPolicyFile(workDir.resolve("conf/delivery-policy.yaml")
                        .toString());
                DestinationPolicy destination = runtime.policy().destination("postfix").get();
                assertThat(runtime.destinations().get("postfix").get().paceUnder(destination, java.time.Instant.now())
                        .effectiveRate(destination)).as("the rate learned under the 60/m ceiling").isLessThanOrEqualTo(10);
                assertThat(client.inbox(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD)).as("no DSN: nothing failed")
                        .isEmpty();
            } finally {
                try (Stream<Path> files = Files.walk(workDir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    @Test
    void stockRemoteDeliveryDeliversToTheSamePostfix() throws Exception {
        try (PostfixReceiver postfix = receiver()) {
            // Postfix's anvil may still count a connection stock James just closed, and answer the next one "421 too
            // many connections"; with the baseline's single retry that bounced a known user's mail now and then.
            // Stock gets the retries an operator would give it against a real receiver.
            String stock = StockJamesBaselineTest.resource("stock-mailetcontainer.xml")
                    .replace("@FAKE_AOL_PORT@", String.valueOf(postfix.port()))
                    .replace("<maxRetries>1</maxRetries>", "<maxRetries>10</maxRetries>");
            assertThat(stock).contains("<maxRetries>10</maxRetries>");
            String dsn = deliverThrough(postfix, "version: 1\n", Optional.of(stock));

            assertThat(dsn).contains(UNKNOWN);
        }
    }

    private static PostfixReceiver receiver() throws Exception {
        return PostfixReceiver.builder().domain(DOMAIN).users(USERS).connectionCountLimit(2).messageRatePerMinute(60)
                .start();
    }

    /**
     * Boots James with this policy (and mailet container, if given), sends one mail to each known user and one to the
     * unknown user, waits until Postfix has every known user's mail; returns the DSN alice gets for the unknown one.
     */
    private static String deliverThrough(PostfixReceiver postfix, String policy, Optional<String> mailetContainer)
            throws Exception {
        Path workDir = Files.createTempDirectory("james-it-postfix-");
        JamesSetup setup = JamesSetup.of(workDir, JamesPorts.EPHEMERAL, DNS, policy);
        if (mailetContainer.isPresent()) {
            setup = setup.withMailetContainer(mailetContainer.get());
        }
        try (RunningJames james = RunningJames.start(setup)) {
            james.addUser(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD);
            MailClient client = new MailClient(james.smtpPort(), james.imapPort());
            for (String address : postfix.addresses()) {
                client.send(TestPolicy.ALICE, "to " + address, "Hello from James.", address);
            }
            client.send(TestPolicy.ALICE, "to " + UNKNOWN, "Hello from James.", UNKNOWN);

            Poll.until(Duration.ofSeconds(60), "every known user's mail at Postfix", postfix::usersWithMail,
                    n -> n == USERS.size());
            assertThat(postfix.deliveredMessages()).as("one copy each").isEqualTo(USERS.size());
            List<MimeMessage> inbox = Poll.until(Duration.ofSeconds(60), "a DSN in alice's INBOX",
                    () -> client.inbox(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD), m -> !m.isEmpty());
            assertThat(inbox).hasSize(1);
            return Dsns.text(inbox.get(0));
        } finally {
            try (Stream<Path> files = Files.walk(workDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
