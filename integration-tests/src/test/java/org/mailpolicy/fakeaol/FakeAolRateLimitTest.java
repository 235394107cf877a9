package org.mailpolicy.fakeaol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The per-client rate modes and mode expiry, on a clock the test moves, so no test waits for a minute to pass. */
class FakeAolRateLimitTest {
    private static final MutableClock clock = new MutableClock(Instant.parse("2026-01-05T10:00:00Z"));
    private static FakeAol aol;

    @BeforeAll
    static void start() throws IOException {
        aol = FakeAol.start(FakeAolSettings.ephemeralPorts().withClock(clock));
    }

    @AfterAll
    static void stop() {
        aol.close();
    }

    @BeforeEach
    void reset() {
        aol.reset();
    }

    @Test
    void rlyNwAcceptsTwoMessagesAMinuteByDefault() throws IOException {
        aol.setMode(Mode.RLY_NW);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            assertThat(client.data("Subject: 1\r\n\r\none\r\n")).isEqualTo("250 OK");
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo("250 OK");
            client.send("RCPT TO:<ok-1@aol.com>");
            assertThat(client.data("Subject: 2\r\n\r\ntwo\r\n")).isEqualTo("250 OK");
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo("421 RLY:NW");
            assertThat(client.readReply()).isEqualTo(RawSmtpClient.CLOSED);
        }
        assertThat(aol.transactions()).last().satisfies(t -> {
            assertThat(t.mailFrom()).contains("bob@sender.example");
            assertThat(t.mailFromReply()).contains("421 RLY:NW");
            assertThat(t.recipients()).isEmpty();
        });

        clock.advance(Duration.ofSeconds(59));
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("421 RLY:NW");
        clock.advance(Duration.ofSeconds(2));
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("250 OK");
    }

    @Test
    void rlyNwBudgetIsConfigurable() throws IOException {
        aol.setMode(ModeSetting.of(Mode.RLY_NW).perMinute(1));
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("250 OK");
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("421 RLY:NW");
    }

    @Test
    void rateLimitDefersBeyondTheBudgetThenBlocksAClientThatKeepsConnecting() throws IOException {
        aol.setMode(Mode.RATE_LIMIT);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            for (int i = 1; i <= 3; i++) {
                client.send("RCPT TO:<ok-1@aol.com>");
                assertThat(client.data("Subject: " + i + "\r\n\r\nbody\r\n")).isEqualTo("250 OK");
                String next = client.send("MAIL FROM:<bob@sender.example>");
                assertThat(next).isEqualTo(i < 3 ? "250 OK" : "421 4.7.1 : (DYN:T1)");
            }
            assertThat(client.readReply()).isEqualTo(RawSmtpClient.CLOSED);
        }

        // Connecting again while over the limit: deferred at the greeting three times, then the dynamic block.
        for (int i = 0; i < 3; i++) {
            assertThat(greeting()).isEqualTo("421 4.7.1 : (DYN:T1)");
        }
        assertThat(greeting()).isEqualTo("554 RLY:B1");
        assertThat(greeting()).isEqualTo("554 RLY:B1");
        assertThat(aol.messages()).hasSize(3);

        // Once the minute has passed the client is within budget again, and forgiven.
        clock.advance(Duration.ofSeconds(61));
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("250 OK");
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("250 OK");
    }

    @Test
    void settingARateModeAgainStartsAFreshBudget() throws IOException {
        aol.setMode(ModeSetting.of(Mode.RATE_LIMIT).perMinute(1));
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("250 OK");
        assertThat(greeting()).isEqualTo("421 4.7.1 : (DYN:T1)");
        aol.setMode(ModeSetting.of(Mode.RATE_LIMIT).perMinute(1));
        assertThat(mailFromReplyOnNewConnection()).isEqualTo("250 OK");
    }

    @Test
    void aModeEndsWhenItsDurationHasPassed() throws IOException {
        aol.setMode(Mode.RTR_BB, Duration.ofSeconds(20));
        assertThat(aol.mode().until()).contains(clock.instant().plusSeconds(20));
        assertThat(greeting()).isEqualTo("554 RTR:BB");
        clock.advance(Duration.ofSeconds(19));
        assertThat(greeting()).isEqualTo("554 RTR:BB");
        clock.advance(Duration.ofSeconds(1));
        assertThat(greeting()).startsWith("220-");
        assertThat(aol.mode().mode()).isEqualTo(Mode.NORMAL);
    }

    private static String greeting() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            return client.readReply().split("\n")[0];
        }
    }

    private static String mailFromReplyOnNewConnection() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            String greeting = client.readReply();
            assertThat(greeting).startsWith("220-");
            client.send("EHLO client.example");
            return client.send("MAIL FROM:<bob@sender.example>");
        }
    }
}
