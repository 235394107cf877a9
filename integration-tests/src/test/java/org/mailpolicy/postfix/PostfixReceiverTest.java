package org.mailpolicy.postfix;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.RawSmtpClient;

/**
 * The Postfix receiver harness does what the pacing tests and benchmarks rely on: a known user's mail lands in its
 * Maildir, an unknown user is refused, and Postfix's per-client limits apply to 127.0.0.1 (which Postfix exempts unless
 * told otherwise). Each test gets a fresh instance: the limits count per client across connections.
 */
class PostfixReceiverTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String MESSAGE = "Subject: receiver test\r\n\r\nHello.\r\n";

    private PostfixReceiver postfix;

    @BeforeEach
    void start() throws Exception {
        Optional<String> whyNot = PostfixReceiver.whyUnavailable();
        Assumptions.assumeTrue(whyNot.isEmpty(), () -> "no Postfix receiver: " + whyNot.get());
        postfix = PostfixReceiver.builder().domain("postfix.test").users("alice", "bob")
                .connectionCountLimit(2).messageRatePerMinute(60).start();
    }

    @AfterEach
    void stop() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
    }

    @Test
    void aKnownUsersMailLandsInItsMaildir() throws Exception {
        try (RawSmtpClient smtp = RawSmtpClient.connect(postfix.port())) {
            smtp.startMail("sender@sandbox.test");
            assertThat(smtp.send("RCPT TO:<alice@postfix.test>")).startsWith("250 2.1.5");
            assertThat(smtp.data(MESSAGE)).startsWith("250 2.0.0 Ok: queued");
            smtp.send("QUIT");
        }
        awaitAtLeast(1, () -> postfix.delivered("alice"), "alice's mail in her Maildir");
        assertThat(postfix.delivered("bob")).isZero();
        assertThat(postfix.connections()).isEqualTo(1);
    }

    @Test
    void transactionsAreCountedPerMailCommandNotPerConnection() throws Exception {
        try (RawSmtpClient smtp = RawSmtpClient.connect(postfix.port())) {
            smtp.startMail("sender@sandbox.test");
            assertThat(smtp.send("RCPT TO:<alice@postfix.test>")).startsWith("250 2.1.5");
            assertThat(smtp.data(MESSAGE)).startsWith("250 2.0.0 Ok: queued");
            assertThat(smtp.send("MAIL FROM:<sender@sandbox.test>")).startsWith("250 ");
            assertThat(smtp.send("RCPT TO:<bob@postfix.test>")).startsWith("250 2.1.5");
            assertThat(smtp.data(MESSAGE)).startsWith("250 2.0.0 Ok: queued");
            assertThat(smtp.send("MAIL FROM:<sender@sandbox.test>")).startsWith("250 ");
            assertThat(smtp.send("RCPT TO:<carol@postfix.test>")).startsWith("550 5.1.1");
            smtp.send("QUIT");
        }
        awaitAtLeast(3, postfix::transactions, "the session's disconnect line");
        assertThat(postfix.transactions()).isEqualTo(3);
        assertThat(postfix.connections()).isEqualTo(1);
    }

    @Test
    void anUnknownUserIsRefusedAtRcpt() throws Exception {
        try (RawSmtpClient smtp = RawSmtpClient.connect(postfix.port())) {
            smtp.startMail("sender@sandbox.test");
            assertThat(smtp.send("RCPT TO:<carol@postfix.test>"))
                    .startsWith("550 5.1.1 <carol@postfix.test>")
                    .contains("User unknown in virtual mailbox table");
        }
    }

    @Test
    void aThirdConcurrentConnectionIsRefused() throws Exception {
        try (RawSmtpClient first = RawSmtpClient.connect(postfix.port());
                RawSmtpClient second = RawSmtpClient.connect(postfix.port())) {
            assertThat(first.readReply()).startsWith("220 ");
            assertThat(second.readReply()).startsWith("220 ");
            try (RawSmtpClient third = RawSmtpClient.connect(postfix.port())) {
                assertThat(third.readReply()).startsWith("421 4.7.0 ").contains("too many connections from 127.0.0.1");
            }
        }
        awaitAtLeast(1, postfix::refusedConnections, "the refusal in Postfix's log");
        assertThat(postfix.refusedConnections()).isEqualTo(1);
        assertThat(postfix.connections()).isEqualTo(3);
    }

    @Test
    void theSixtyFirstMessageWithinAMinuteIsRefused() throws Exception {
        // Sixty messages over both allowed connections, as fast as Postfix takes them: well inside one minute.
        List<String> sixtyFirst = new ArrayList<>();
        try (RawSmtpClient first = RawSmtpClient.connect(postfix.port());
                RawSmtpClient second = RawSmtpClient.connect(postfix.port())) {
            RawSmtpClient[] connections = {first, second};
            for (RawSmtpClient smtp : connections) {
                assertThat(smtp.readReply()).startsWith("220 ");
                assertThat(smtp.send("EHLO client.sandbox.test")).startsWith("250");
            }
            Instant start = Instant.now();
            for (int i = 0; i < 60; i++) {
                RawSmtpClient smtp = connections[i % 2];
                assertThat(smtp.send("MAIL FROM:<sender@sandbox.test>")).as("MAIL FROM %d", i + 1).startsWith("250");
                assertThat(smtp.send("RCPT TO:<bob@postfix.test>")).startsWith("250");
                assertThat(smtp.data(MESSAGE)).startsWith("250");
            }
            sixtyFirst.add(first.send("MAIL FROM:<sender@sandbox.test>"));
            assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(50));
        }
        assertThat(sixtyFirst.get(0)).startsWith("450 4.7.1 ").contains("too much mail from 127.0.0.1");
        awaitAtLeast(60, () -> postfix.delivered("bob"), "the 60 accepted messages in bob's Maildir");
        awaitAtLeast(1, postfix::refusedMessages, "the refusal in Postfix's log");
        assertThat(postfix.refusedMessages()).isEqualTo(1);
    }

    /** Postfix delivers and logs asynchronously: wait for a count to reach {@code expected}. */
    private void awaitAtLeast(int expected, IntSupplier count, String what) throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (count.getAsInt() < expected) {
            if (Instant.now().isAfter(deadline)) {
                List<String> log = postfix.logLines();
                throw new AssertionError("waited " + WAIT.toSeconds() + " s for " + what + ": " + count.getAsInt()
                        + " of " + expected + "; Postfix's log ends:\n"
                        + String.join("\n", log.subList(Math.max(0, log.size() - 15), log.size())));
            }
            Thread.sleep(100);
        }
    }
}
