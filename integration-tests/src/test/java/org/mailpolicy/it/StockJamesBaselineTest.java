package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.FakeAol;
import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.testing.FixedDns;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RunningJames;

/**
 * The harness itself, and what stock James 3.8.1 does without the plugin: its own RemoteDelivery delivers to the fake
 * AOL, and a rejected greeting comes back as a DSN that has lost AOL's words (the problem the plugin solves).
 */
class StockJamesBaselineTest {
    private static FakeAol aol;
    private static RunningJames james;
    private static MailClient client;
    private static Path workDir;

    @BeforeAll
    static void boot() throws Exception {
        aol = FakeAol.start(FakeAolSettings.ephemeralPorts());
        workDir = Files.createTempDirectory("james-stock-");
        String stock = resource("stock-mailetcontainer.xml").replace("@FAKE_AOL_PORT@", String.valueOf(aol.smtpPort()));
        james = RunningJames.start(JamesSetup.of(workDir, JamesPorts.EPHEMERAL, FixedDns.loopbackMx(List.of("aol.com")),
                "version: 1\n").withMailetContainer(stock));
        james.addUser(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD);
        client = new MailClient(james.smtpPort(), james.imapPort());
    }

    @AfterAll
    static void stop() {
        if (james != null) {
            james.close();
        }
        if (aol != null) {
            aol.close();
        }
    }

    @Test
    void stockRemoteDeliveryDeliversToTheFakeAol() throws Exception {
        aol.reset();
        client.send(TestPolicy.ALICE, "hello", "plain delivery", "ok-stock@aol.com");

        Poll.until(Duration.ofSeconds(20), "the fake AOL to accept the message", aol::messages, m -> !m.isEmpty());
        assertThat(aol.messages().get(0).recipients()).containsExactly("ok-stock@aol.com");
        assertThat(aol.messages().get(0).mailFrom()).isEqualTo(TestPolicy.ALICE);
    }

    @Test
    void stockJamesLosesTheGreetingTextOfARejection() throws Exception {
        aol.reset();
        aol.setMode(Mode.RTR_BB);
        client.send(TestPolicy.ALICE, "rtr", "greeting rejected", "ok-rtr@aol.com");

        List<MimeMessage> inbox = Poll.until(Duration.ofSeconds(30), "a DSN in alice's INBOX",
                () -> client.inbox(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD), m -> !m.isEmpty());
        assertThat(aol.transactions()).extracting(Transaction::connectReply).allMatch(reply -> reply.startsWith("554 RTR:BB"));
        String dsn = Dsns.text(inbox.get(0));
        assertThat(dsn).doesNotContain("RTR:BB");
    }

    static String resource(String name) throws IOException {
        try (InputStream in = StockJamesBaselineTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("no test resource " + name + " next to " + StockJamesBaselineTest.class.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
