package org.mailpolicy.fakeaol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import javax.mail.Message;
import javax.mail.MessagingException;
import javax.mail.SendFailedException;
import javax.mail.Session;
import javax.mail.Transport;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.mail.smtp.SMTPAddressFailedException;
import com.sun.mail.smtp.SMTPSendFailedException;

/** Real SMTP conversations with the fake, over a raw socket where the exact lines matter and JavaMail elsewhere. */
class FakeAolSmtpTest {
    private static final String MESSAGE = "From: bob@sender.example\r\nTo: ok-1@aol.com\r\nSubject: hello\r\n"
            + "Message-ID: <m1@sender.example>\r\n\r\nHi.\r\n.leading dot\r\n";

    private static FakeAol aol;

    @BeforeAll
    static void start() throws IOException {
        aol = FakeAol.start(FakeAolSettings.ephemeralPorts());
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
    void greetsWithAolsMultiLineBannerAndAnswersInAolsWords() throws IOException {
        String greeting;
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            greeting = client.readReply();
            List<String> banner = List.of(greeting.split("\n"));
            assertThat(banner.get(0)).matches(
                    "220-rly-dd08\\.mx\\.aol\\.com ESMTP mail_relay_in-dd08\\.6; \\w{3}, \\d{2} \\w{3} \\d{4} [0-9:]{8} \\+0000");
            assertThat(banner.subList(1, banner.size() - 1)).containsExactly(
                    "220-America Online (AOL) and its affiliated companies do not",
                    "220- authorize the use of its proprietary computers and computer",
                    "220- networks to accept, transmit, or distribute unsolicited bulk",
                    "220- e-mail sent from the internet. Effective immediately: AOL",
                    "220- may no longer accept connections from IP addresses which",
                    "220-have no reverse-DNS (PTR record) assigned.");
            assertThat(banner.get(banner.size() - 1)).isEqualTo("220 rly-dd08.mx.aol.com ESMTP mail_relay_in-dd08.6");

            assertThat(client.send("EHLO client.example")).isEqualTo("250-rly-dd08.mx.aol.com client.example\n250 HELP");
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo("250 OK");
            assertThat(client.send("RCPT TO:<ok-1@aol.com>")).isEqualTo("250 OK");
            assertThat(client.send("DATA")).isEqualTo("354 START MAIL INPUT, END WITH \".\" ON A LINE BY ITSELF");
            client.write(MESSAGE.replace("\r\n.", "\r\n..") + ".\r\n");
            assertThat(client.readReply()).isEqualTo("250 OK");
            assertThat(client.send("BDAT 10 LAST")).isEqualTo("500 Syntax error, command unrecognized");
        }

        assertThat(aol.transactions()).singleElement()
                .satisfies(t -> assertThat(t.connectReply()).as("recorded as sent").isEqualTo(greeting));
        assertThat(aol.messages()).singleElement().satisfies(message -> {
            assertThat(message.mailFrom()).isEqualTo("bob@sender.example");
            assertThat(message.recipients()).containsExactly("ok-1@aol.com");
            assertThat(new String(message.raw(), StandardCharsets.UTF_8)).isEqualTo(MESSAGE);
            assertThat(message.size()).isEqualTo(MESSAGE.length());
            assertThat(message.subject()).contains("hello");
            assertThat(message.messageId()).contains("<m1@sender.example>");
        });
    }

    @Test
    void recordsOneTransactionPerMailFromAndKeepsConnectionsWithoutMail() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.send("RCPT TO:<unknown-7@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo("250 OK");
            assertThat(client.send("MAIL FROM:<>")).isEqualTo("250 OK");
            client.send("RCPT TO:<other@aol.com>");
            assertThat(client.send("RSET")).isEqualTo("250 OK");
            assertThat(client.send("NOOP")).isEqualTo("250 OK");
            client.send("QUIT");
        }
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.readReply();
            client.send("QUIT");
        }

        List<Transaction> transactions = aol.transactions();
        assertThat(transactions).hasSize(3);
        Transaction first = transactions.get(0);
        assertThat(first.client()).isEqualTo("127.0.0.1");
        assertThat(first.connectReply()).startsWith("220-rly-dd08.mx.aol.com").endsWith("\n220 rly-dd08.mx.aol.com ESMTP mail_relay_in-dd08.6");
        assertThat(first.mailFrom()).contains("bob@sender.example");
        assertThat(first.mailFromReply()).contains("250 OK");
        assertThat(first.recipients()).containsExactly(new RecipientReply("ok-1@aol.com", "250 OK"),
                new RecipientReply("unknown-7@aol.com", "550 MAILBOX NOT FOUND"));
        assertThat(first.dataReply()).contains("250 OK");

        Transaction second = transactions.get(1);
        assertThat(second.connectReply()).isEqualTo(first.connectReply());
        assertThat(second.mailFrom()).contains("");
        assertThat(second.recipients()).containsExactly(new RecipientReply("other@aol.com", "250 OK"));
        assertThat(second.dataReply()).isEmpty();
        assertThat(second.time()).isAfterOrEqualTo(first.time());

        Transaction connectOnly = transactions.get(2);
        assertThat(connectOnly.connectReply()).startsWith("220-");
        assertThat(connectOnly.mailFrom()).isEmpty();
        assertThat(connectOnly.mailFromReply()).isEmpty();
        assertThat(connectOnly.recipients()).isEmpty();
        assertThat(connectOnly.dataReply()).isEmpty();

        aol.clearTransactions();
        assertThat(aol.transactions()).isEmpty();
    }

    @Test
    void recipientScenariosAtRcpt() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            assertThat(client.send("RCPT TO:<ok-2@aol.com>")).isEqualTo("250 OK");
            assertThat(client.send("RCPT TO:<Unknown-1@aol.com>")).isEqualTo("550 MAILBOX NOT FOUND");
            assertThat(client.send("RCPT TO:<rejected-1@aol.com>"))
                    .isEqualTo("500 5.1.1 : Recipient address rejected: aol.com");
            assertThat(client.send("RCPT TO:<full-1@aol.com>")).isEqualTo("552 Mailbox full");
            assertThat(client.send("RCPT TO:<somebody@aol.com>")).isEqualTo("250 OK");
            assertThat(client.data(MESSAGE)).isEqualTo("250 OK");
        }
        assertThat(aol.messages()).singleElement()
                .satisfies(m -> assertThat(m.recipients()).containsExactly("ok-2@aol.com", "somebody@aol.com"));
    }

    @Test
    void countsDistinctRecipientsAndTheLatestArrivalUntilCleared() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.send("RCPT TO:<ok-2@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo("250 OK");
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo("250 OK");
            client.send("RCPT TO:<OK-1@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo("250 OK");
        }

        assertThat(aol.distinctRecipients()).isEqualTo(2);
        assertThat(aol.lastArrival()).isEqualTo(aol.messages().get(1).receivedAt());
        aol.clearMessages();
        assertThat(aol.distinctRecipients()).isZero();
        assertThat(aol.lastArrival()).isEqualTo(java.time.Instant.EPOCH);
    }

    @Test
    void aDirectoryOutageAnswersUnknownForEveryone() throws IOException {
        aol.setMode(Mode.DIRECTORY_OUTAGE);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            assertThat(client.send("RCPT TO:<ok-2@aol.com>")).isEqualTo("550 MAILBOX NOT FOUND");
            assertThat(client.send("RCPT TO:<somebody@aol.com>")).isEqualTo("550 MAILBOX NOT FOUND");
        }
        assertThat(aol.messages()).isEmpty();
    }

    @Test
    void dataNeedsAnAcceptedRecipient() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<unknown-1@aol.com>");
            assertThat(client.send("DATA")).startsWith("503");
        }
        assertThat(aol.messages()).isEmpty();
    }

    @Test
    void hvuRejectsTheWholeMessageAtEndOfData() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.send("RCPT TO:<hvu-1@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo("554 HVU:B1");
            // The connection goes on after a 554.
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo("250 OK");
        }
        assertThat(aol.messages()).isEmpty();
        assertThat(aol.transactions().get(0).dataReply()).contains("554 HVU:B1");
    }

    @Test
    void flakyDefersOnceThenAccepts() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.send("RCPT TO:<flaky-1@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo("421 HVU:B2");
            assertThat(client.readReply()).isEqualTo(RawSmtpClient.CLOSED);
        }
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<FLAKY-1@aol.com>");
            client.send("RCPT TO:<flaky-2@aol.com>");
            assertThat(client.data(MESSAGE)).as("flaky-2 has not had its first try yet").isEqualTo("421 HVU:B2");
        }
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<flaky-1@aol.com>");
            client.send("RCPT TO:<flaky-2@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo("250 OK");
        }
        assertThat(aol.messages()).hasSize(1);
    }

    @Test
    void messagesOverSixteenMegabytesGet552AndTheConnectionGoesOn() throws IOException {
        long limit = 16L * 1024 * 1024;
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort(), 30_000)) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            assertThat(client.send("DATA")).startsWith("354");
            client.write("Subject: big\r\n\r\n");
            byte[] line = ("x".repeat(998) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            for (long sent = 0; sent <= limit; sent += line.length) {
                client.write(line, line.length);
            }
            client.write(".\r\n");
            assertThat(client.readReply()).isEqualTo("552 Message exceeds maximum fixed size");

            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo("250 OK");
            client.send("RCPT TO:<ok-1@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo("250 OK");
        }
        assertThat(aol.messages()).singleElement().satisfies(m -> assertThat(m.size()).isEqualTo(MESSAGE.length()));
    }

    @Test
    void readsTheMessageUpToTheLimitAndNoFurther() throws IOException {
        byte[] exactly = new byte[1000];
        assertThat(AolSmtpServer.readUpTo(new java.io.ByteArrayInputStream(exactly), 1000)).hasValueSatisfying(
                bytes -> assertThat(bytes).hasSize(1000));
        assertThat(AolSmtpServer.readUpTo(new java.io.ByteArrayInputStream(new byte[1001]), 1000)).isEmpty();
    }

    @Test
    void connectTimeModesRejectTheGreetingAndClose() throws IOException {
        assertGreetingRejected(Mode.DYN_T1, "421 4.7.1 : (DYN:T1)");
        assertGreetingRejected(Mode.RTR_BB, "554 RTR:BB");
        assertGreetingRejected(Mode.CON_B1, "521 5.2.1 : (CON:B1)");
        assertGreetingRejected(Mode.DOWN, "554 ESMTP not accepting connections");

        assertThat(aol.transactions()).extracting(Transaction::connectReply).containsExactly(
                "421 4.7.1 : (DYN:T1)", "554 RTR:BB", "521 5.2.1 : (CON:B1)", "554 ESMTP not accepting connections");
        assertThat(aol.transactions()).allSatisfy(t -> {
            assertThat(t.mailFrom()).isEmpty();
            assertThat(t.recipients()).isEmpty();
            assertThat(t.dataReply()).isEmpty();
        });
    }

    @Test
    void aModeForOneClientAddressLeavesTheOthersNormal() throws IOException {
        aol.setMode(ModeSetting.of(Mode.DYN_T1).onlyForClient("127.0.0.2"));
        try (RawSmtpClient throttled = RawSmtpClient.connectFrom("127.0.0.2", aol.smtpPort())) {
            assertThat(throttled.readReply()).isEqualTo("421 4.7.1 : (DYN:T1)");
        }
        try (RawSmtpClient other = RawSmtpClient.connectFrom("127.0.0.3", aol.smtpPort())) {
            assertThat(other.readReply()).startsWith("220");
            other.send("EHLO client.example");
            assertThat(other.send("MAIL FROM:<bob@sender.example>")).isEqualTo("250 OK");
            assertThat(other.send("RCPT TO:<ok-1@aol.com>")).isEqualTo("250 OK");
            assertThat(other.data(MESSAGE)).isEqualTo("250 OK");
        }
        assertThat(aol.transactions()).extracting(Transaction::client, Transaction::connectReply).first()
                .isEqualTo(org.assertj.core.groups.Tuple.tuple("127.0.0.2", "421 4.7.1 : (DYN:T1)"));
        assertThat(aol.messages()).extracting(ReceivedMessage::client).containsExactly("127.0.0.3");
        assertThatThrownBy(() -> ModeSetting.of(Mode.DYN_T1).onlyForClient("node-a"))
                .hasMessageContaining("client must be an IP address");
    }

    private static void assertGreetingRejected(Mode mode, String greeting) throws IOException {
        aol.setMode(mode);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            assertThat(client.readReply()).isEqualTo(greeting);
            assertThat(client.readReply()).isEqualTo(RawSmtpClient.CLOSED);
        }
    }

    @Test
    void dropInDataClosesWithoutAReply() throws IOException {
        aol.setMode(Mode.DROP_IN_DATA);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            assertThat(client.data(MESSAGE)).isEqualTo(RawSmtpClient.CLOSED);
        }
        assertThat(aol.messages()).isEmpty();
        assertThat(aol.transactions()).singleElement().satisfies(t -> {
            assertThat(t.recipients()).hasSize(1);
            assertThat(t.dataReply()).isEmpty();
        });
    }

    @Test
    void slowHoldsTheGreetingPastTheClientsTimeoutWithoutBlockingOtherSessions() throws IOException {
        aol.setMode(ModeSetting.of(Mode.SLOW).delay(Duration.ofSeconds(20)));
        try (RawSmtpClient slow = RawSmtpClient.connect(aol.smtpPort(), 300)) {
            assertThatThrownBy(slow::readReply).isInstanceOf(SocketTimeoutException.class);

            aol.setMode(Mode.NORMAL);
            try (RawSmtpClient other = RawSmtpClient.connect(aol.smtpPort(), 2_000)) {
                assertThat(other.readReply()).startsWith("220-");
            }
        }
    }

    @Test
    void slowGreetsOnceTheDelayHasPassed() throws IOException {
        aol.setMode(ModeSetting.of(Mode.SLOW).delay(Duration.ofMillis(400)));
        long start = System.nanoTime();
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort(), 5_000)) {
            assertThat(client.readReply()).startsWith("220-");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
    }

    @Test
    void aModeWithADurationReturnsToNormal() throws IOException, InterruptedException {
        aol.setMode(Mode.DYN_T1, Duration.ofSeconds(1));
        assertThat(aol.mode().mode()).isEqualTo(Mode.DYN_T1);
        assertThat(aol.mode().until()).isPresent();
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            assertThat(client.readReply()).isEqualTo("421 4.7.1 : (DYN:T1)");
        }

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String greeting;
        do {
            Thread.sleep(100);
            try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
                greeting = client.readReply();
            }
        } while (!greeting.startsWith("220") && System.nanoTime() < deadline);
        assertThat(greeting).startsWith("220-");
        assertThat(aol.mode().mode()).isEqualTo(Mode.NORMAL);
        assertThat(aol.mode().until()).isEmpty();
    }

    @Test
    void javaMailDeliversAndSeesAolsRejections() throws MessagingException {
        Session session = javaMailSession();
        Transport.send(message(session, "ok-9@aol.com"));
        assertThat(aol.messages()).singleElement().satisfies(m -> {
            assertThat(m.recipients()).containsExactly("ok-9@aol.com");
            assertThat(m.subject()).contains("from JavaMail");
        });

        assertThatThrownBy(() -> Transport.send(message(session, "unknown-3@aol.com")))
                .isInstanceOf(SendFailedException.class)
                .satisfies(e -> assertThat(e.getCause()).isInstanceOf(SMTPAddressFailedException.class)
                        .satisfies(cause -> {
                            SMTPAddressFailedException failed = (SMTPAddressFailedException) cause;
                            assertThat(failed.getReturnCode()).isEqualTo(550);
                            assertThat(failed.getMessage()).contains("MAILBOX NOT FOUND");
                        }));

        assertThatThrownBy(() -> Transport.send(message(session, "hvu-3@aol.com")))
                .isInstanceOf(SMTPSendFailedException.class)
                .satisfies(e -> {
                    assertThat(((SMTPSendFailedException) e).getReturnCode()).isEqualTo(554);
                    assertThat(e.getMessage()).contains("HVU:B1");
                });

        aol.setMode(Mode.DYN_T1);
        assertThatThrownBy(() -> Transport.send(message(session, "ok-9@aol.com")))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining("421");

        aol.setMode(Mode.DROP_IN_DATA);
        assertThatThrownBy(() -> Transport.send(message(session, "ok-9@aol.com")))
                .isInstanceOf(MessagingException.class);
        assertThat(aol.messages()).hasSize(1);
    }

    private static Session javaMailSession() {
        Properties properties = new Properties();
        properties.setProperty("mail.smtp.host", "127.0.0.1");
        properties.setProperty("mail.smtp.port", Integer.toString(aol.smtpPort()));
        properties.setProperty("mail.smtp.connectiontimeout", "5000");
        properties.setProperty("mail.smtp.timeout", "5000");
        properties.setProperty("mail.smtp.localhost", "sender.example");
        return Session.getInstance(properties);
    }

    private static MimeMessage message(Session session, String to) throws MessagingException {
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress("bob@sender.example"));
        message.setRecipient(Message.RecipientType.TO, new InternetAddress(to));
        message.setSubject("from JavaMail");
        message.setText("Hello AOL.");
        return message;
    }

    @Test
    void messagesCanBeCleared() throws IOException {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.data(MESSAGE);
        }
        assertThat(aol.messages()).hasSize(1);
        aol.clearMessages();
        assertThat(aol.messages()).isEmpty();
        assertThat(Optional.of(aol.transactions().size())).contains(1);
    }

    @Test
    void replyModeAnswersItsReplyAtItsStageAndA421Closes() throws IOException {
        String yahoo = "421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred";
        aol.setMode(ModeSetting.replying(yahoo, ReplyStage.CONNECT));
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            assertThat(client.readReply()).isEqualTo(yahoo);
            assertThat(client.readReply()).isEqualTo(RawSmtpClient.CLOSED);
        }

        String microsoft = "451 4.7.652 The mail server [127.0.0.1] has exceeded the maximum number of connections.";
        aol.setMode(ModeSetting.replying(microsoft, ReplyStage.MAIL));
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.readReply();
            client.send("EHLO client.example");
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo(microsoft);
        }

        String gmail = "421 4.7.28 Our system has detected an unusual rate of unsolicited mail.";
        aol.setMode(ModeSetting.replying(gmail, ReplyStage.RCPT));
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            assertThat(client.send("RCPT TO:<ok-1@aol.com>")).isEqualTo(gmail);
            assertThat(client.readReply()).as("a 421 closes").isEqualTo(RawSmtpClient.CLOSED);
        }

        String postfix = "450 4.7.1 Error: too much mail from 127.0.0.1";
        aol.setMode(ModeSetting.replying(postfix, ReplyStage.DATA));
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            assertThat(client.send("RCPT TO:<ok-1@aol.com>")).isEqualTo("250 OK");
            assertThat(client.data(MESSAGE)).isEqualTo(postfix);
        }
        assertThat(aol.messages()).as("a refused end of DATA keeps nothing").isEmpty();

        aol.setMode(ModeSetting.replying(microsoft, ReplyStage.MAIL).times(1));
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.readReply();
            client.send("EHLO client.example");
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).isEqualTo(microsoft);
            assertThat(client.send("MAIL FROM:<bob@sender.example>")).as("then as NORMAL").isEqualTo("250 OK");
        }
        assertThatThrownBy(() -> ModeSetting.replying("250 fine", ReplyStage.MAIL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4xx or 5xx");
        assertThatThrownBy(() -> ModeSetting.of(Mode.REPLY)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("replying");
    }
}
