package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.ConnectionSummary;
import org.mailpolicy.fakeaol.FakeAolSettings;

/**
 * SMTP AUTH over reused connections, on a real James 3.8.1 with the plugin: RemoteDelivery's {@code gatewayUsername} and
 * {@code gatewayPassword}, which the plugin takes as they are, against a fake AOL that offers AUTH and refuses MAIL FROM
 * (530) on a connection that has not logged in, as a smarthost does. A connection logs in once, when it opens; the
 * mails that reuse it go without a second AUTH (a server refuses one: RFC 4954 section 4, "503" after a successful AUTH).
 */
class AuthenticatedReuseTest {
    private static final String USER = "relay-user";
    private static final String PASSWORD = "relay-secret";
    private static final int MAX_MESSAGES = 4;
    private static final int CONCURRENCY = 2;
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        String aolConcurrency = "    concurrency: " + CONCURRENCY + "\n    # The built-in rule";
        String deliveryMailet = "<mailet match=\"All\" class=\"org.mailpolicy.james.delivery.PolicyRemoteDelivery\">";
        env = PluginEnvironment.startWithFakeAol(FakeAolSettings.ephemeralPorts().withRequiredLogin(USER, PASSWORD),
                port -> {
                    String policy = TestPolicy.forFakeAol(port);
                    assertThat(policy).contains(aolConcurrency);
                    return policy.replace(aolConcurrency, "    concurrency: " + CONCURRENCY + "\n    connections: { maxMessages: "
                            + MAX_MESSAGES + ", idleTimeout: 5s }\n    # The built-in rule");
                },
                port -> mailetContainer -> {
                    assertThat(mailetContainer).contains(deliveryMailet);
                    // The credentials are RemoteDelivery's, which James reads only with a gateway; the policy's route
                    // for aol.com leads to the same fake.
                    return mailetContainer.replace(deliveryMailet, deliveryMailet
                            + "\n<gateway>127.0.0.1</gateway><gatewayPort>" + port + "</gatewayPort>"
                            + "<gatewayUsername>" + USER + "</gatewayUsername><gatewayPassword>" + PASSWORD
                            + "</gatewayPassword>");
                });
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void eachConnectionLogsInOnceAndCarriesSeveralMails() throws Exception {
        List<String> recipients = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            recipients.add("ok-auth" + i + "@aol.com");
        }
        for (String recipient : recipients) {
            env.send("auth-" + recipient, recipient);
        }

        env.awaitDelivered(recipients, Duration.ofSeconds(60));

        List<ConnectionSummary> connections = env.aol.connections();
        System.out.println("AuthenticatedReuseTest: " + recipients.size() + " mails over " + connections.size()
                + " connections, transactions per connection " + connections.stream().map(ConnectionSummary::transactions)
                .toList() + ", logins " + env.aol.logins() + ", MAIL FROM refused for want of a login "
                + env.aol.mailsWithoutLogin());
        env.assertDeliveredOnce(recipients);
        assertThat(env.aol.mailsWithoutLogin()).as("MAIL FROM without a login").isZero();
        assertThat(connections.size()).as("connections for %s mails: %s", recipients.size(), connections)
                .isLessThanOrEqualTo(recipients.size() / MAX_MESSAGES + CONCURRENCY);
        assertThat(connections).anySatisfy(c -> assertThat(c.transactions()).isGreaterThan(1));
        assertThat(env.aol.logins()).as("logins: one per connection that carried mail, none per reused mail")
                .isEqualTo(connections.size());
    }
}
