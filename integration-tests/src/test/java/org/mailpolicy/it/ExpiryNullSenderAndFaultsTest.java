package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;

import org.apache.mailet.Mail;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.fakeaol.Transaction;

/**
 * Temporary failures over time: the expiry bounce (4.4.7), null-sender mail retried and finally kept in the error
 * repository, a connection dropped mid-DATA, and a server slower than the client's timeout. This class's policy gives
 * up after 8 s, and its SMTP client times out after 2 s.
 */
class ExpiryNullSenderAndFaultsTest {
    private static final Duration MAX_AGE = Duration.ofSeconds(8);
    private static final Duration WAIT = Duration.ofSeconds(40);
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.start(
                policy -> policy.replace("maxAge: 60s", "maxAge: " + MAX_AGE.toSeconds() + "s")
                        .replace("delayWarning: 50s", "delayWarning: 4s"),
                mailets -> replaceOnce(replaceOnce(mailets, "<timeout>180000</timeout>", "<timeout>2000</timeout>"),
                        "<connectiontimeout>60000</connectiontimeout>", "<connectiontimeout>2000</connectiontimeout>"));
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

    @Test
    void messageThatNeverGetsThroughExpiresWith447() throws Exception {
        env.aol.setMode(Mode.DROP_IN_DATA);
        String subject = "expiry-" + System.nanoTime();
        env.send(subject, "ok-e1@aol.com");

        MimeMessage expired = Poll.until(WAIT, "the expiry DSN about " + subject, () -> failedDsnsAbout(subject),
                list -> !list.isEmpty()).get(0);
        InternetHeaders recipient = Dsns.status(expired).recipient("ok-e1@aol.com");
        assertThat(recipient.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(recipient.getHeader("Status", null)).isEqualTo("4.4.7");
        assertThat(env.rcptsFor("ok-e1@aol.com")).as("attempts before giving up").hasSizeGreaterThanOrEqualTo(2);
        assertThat(env.aol.messages()).isEmpty();

        // The sender did not say (no NOTIFY), so it was also told once, when the delay-warning time passed, that the
        // message was late and until when James would keep trying.
        List<MimeMessage> warnings = new java.util.ArrayList<>();
        for (MimeMessage dsn : env.dsnsAbout(subject)) {
            if ("delayed".equalsIgnoreCase(Dsns.status(dsn).recipient("ok-e1@aol.com").getHeader("Action", null))) {
                warnings.add(dsn);
            }
        }
        assertThat(warnings).as("delay warnings").hasSize(1);
        InternetHeaders delayed = Dsns.status(warnings.get(0)).recipient("ok-e1@aol.com");
        assertThat(delayed.getHeader("Status", null)).startsWith("4.");
        assertThat(delayed.getHeader("Will-Retry-Until", null)).isNotBlank();
    }

    @Test
    void nullSenderMailIsRetriedAndKeptInTheErrorRepository() throws Exception {
        env.aol.setMode(Mode.DROP_IN_DATA);
        String subject = "null-sender-" + System.nanoTime();
        env.client().sendWithNullSender("mailer-daemon@sandbox.test", subject, "a DSN-like mail", "ok-ns1@aol.com");

        Poll.until(WAIT, "the null-sender mail in " + PluginEnvironment.ERROR_REPOSITORY, env::errorRepository,
                mails -> mails.stream().anyMatch(ExpiryNullSenderAndFaultsTest::isForNullSenderRecipient));
        List<Transaction> attempts = env.rcptsFor("ok-ns1@aol.com");
        assertThat(attempts).as("attempts of the null-sender mail").hasSizeGreaterThanOrEqualTo(2)
                .allSatisfy(t -> assertThat(t.mailFrom()).hasValue(""));
        Mail kept = env.errorRepository().stream().filter(ExpiryNullSenderAndFaultsTest::isForNullSenderRecipient)
                .findFirst().orElseThrow();
        assertThat(kept.hasSender()).isFalse();
        assertThat(kept.getMessage().getSubject()).isEqualTo(subject);

        // What an operator (and the sandbox's banner) uses to find it: WebAdmin's mail repository listing.
        java.net.http.HttpResponse<String> listing = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + env.james().webAdminPort()
                        + "/mailRepositories/var%2Fmail%2Ferror%2F/mails")).GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(listing.statusCode()).isEqualTo(200);
        assertThat(listing.body()).contains(kept.getName());
        java.net.http.HttpResponse<String> queue = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + env.james().webAdminPort()
                        + "/mailQueues/outgoing")).GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        // Not /mailQueues/outgoing/mails: in James 3.8.1 that route closes the memory queue twice, and the first call
        // disposes the outgoing queue's dequeuing thread, so delivery stops until James restarts.
        assertThat(queue.statusCode()).as("the sandbox banner's queue size").isEqualTo(200);
        assertThat(queue.body()).contains("\"name\":\"outgoing\"");
    }

    @Test
    void droppedConnectionInDataIsRetriedAndDeliveredOnce() throws Exception {
        env.aol.setMode(Mode.DROP_IN_DATA, Duration.ofSeconds(2));
        env.send("drop-" + System.nanoTime(), "ok-drop1@aol.com");

        Poll.until(WAIT, "ok-drop1 delivered", env.aol::messages,
                messages -> messages.stream().anyMatch(m -> m.recipients().contains("ok-drop1@aol.com")));
        assertThat(env.rcptsFor("ok-drop1@aol.com")).hasSizeGreaterThanOrEqualTo(2);
        assertThat(env.aol.messages()).filteredOn(m -> m.recipients().contains("ok-drop1@aol.com")).hasSize(1);
    }

    @Test
    void serverSlowerThanTheClientTimeoutIsRetried() throws Exception {
        env.aol.setMode(ModeSetting.of(Mode.SLOW).delay(Duration.ofSeconds(4)).lasting(Duration.ofSeconds(3)));
        String subject = "slow-" + System.nanoTime();
        java.time.Instant sent = java.time.Instant.now();
        env.send(subject, "ok-slow1@aol.com");

        Poll.until(WAIT, "ok-slow1 delivered", env.aol::messages,
                messages -> messages.stream().anyMatch(m -> m.recipients().contains("ok-slow1@aol.com")));
        List<org.mailpolicy.fakeaol.ReceivedMessage> delivered = env.aol.messages().stream()
                .filter(m -> m.recipients().contains("ok-slow1@aol.com")).toList();
        assertThat(delivered).hasSize(1);
        // The first attempt waited for a greeting that came after 4 s, gave up at the 2 s timeout, and was retried
        // (the fake logs no transaction for a connection closed before its greeting).
        assertThat(Duration.between(sent, delivered.get(0).receivedAt())).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(failedDsnsAbout(subject)).isEmpty();
    }

    private static boolean isForNullSenderRecipient(Mail mail) {
        return mail.getRecipients().stream().anyMatch(r -> r.asString().equals("ok-ns1@aol.com"));
    }

    /** DSNs whose recipients all failed (a delay warning, Action: delayed, may come first and is not the one wanted). */
    private static List<MimeMessage> failedDsnsAbout(String subject) throws Exception {
        List<MimeMessage> failed = new java.util.ArrayList<>();
        for (MimeMessage dsn : env.dsnsAbout(subject)) {
            boolean allFailed = Dsns.status(dsn).perRecipient().stream()
                    .allMatch(fields -> "failed".equalsIgnoreCase(fields.getHeader("Action", null)));
            if (allFailed) {
                failed.add(dsn);
            }
        }
        return failed;
    }

    private static String replaceOnce(String text, String literal, String replacement) {
        int at = text.indexOf(literal);
        if (at < 0 || text.indexOf(literal, at + 1) >= 0) {
            throw new IllegalStateException("config/mailetcontainer.xml: expected " + literal + " exactly once");
        }
        return text.replace(literal, replacement);
    }
}
