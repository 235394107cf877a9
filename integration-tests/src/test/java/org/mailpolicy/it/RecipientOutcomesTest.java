package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import javax.mail.BodyPart;
import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ReceivedMessage;
import org.mailpolicy.fakeaol.Transaction;

/**
 * Per-recipient and per-message outcomes on a real James 3.8.1 with the plugin, against the fake AOL in NORMAL mode or
 * a greeting-rejecting mode; DSNs are read back from alice's INBOX over IMAP and checked field by field.
 */
class RecipientOutcomesTest {
    private static final Duration DSN_WAIT = Duration.ofSeconds(30);
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

    @BeforeEach
    void freshFake() {
        env.reset();
    }

    @Test
    void mixedTransactionGivesEachRecipientItsOwnOutcome() throws Exception {
        String subject = "mixed-" + System.nanoTime();
        env.send(subject, "ok-m1@aol.com", "unknown-m1@aol.com", "full-m1@aol.com");

        // The accepted recipient is delivered once; the unknown one gets a DSN; the full one is tried again later.
        Poll.until(DSN_WAIT, "full-m1 to be tried a second time", () -> env.rcptsFor("full-m1@aol.com"), t -> t.size() >= 2);
        MimeMessage dsn = env.awaitDsnAbout(subject, DSN_WAIT);
        List<ReceivedMessage> delivered = env.aol.messages().stream()
                .filter(m -> m.recipients().contains("ok-m1@aol.com")).toList();
        assertThat(delivered).hasSize(1);
        assertThat(env.rcptsFor("unknown-m1@aol.com")).hasSize(1);
        assertThat(env.rcptsFor("ok-m1@aol.com")).hasSize(1);

        Dsns.DeliveryStatus status = Dsns.status(dsn);
        assertThat(status.finalRecipients()).hasSize(1);
        InternetHeaders unknown = status.recipient("unknown-m1@aol.com");
        assertThat(unknown.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(unknown.getHeader("Status", null)).startsWith("5.");
        assertThat(unknown.getHeader("Diagnostic-Code", null)).containsIgnoringCase("smtp;").contains("550")
                .contains("MAILBOX NOT FOUND");
        assertThat(unknown.getHeader("Final-Recipient", null)).isEqualToIgnoringCase("rfc822; unknown-m1@aol.com");
        assertThat(unknown.getHeader("Remote-MTA", null)).isNotBlank();
        assertThat(unknown.getHeader("Last-Attempt-Date", null)).isNotBlank();
        assertThat(status.perMessage().getHeader("Reporting-MTA", null)).startsWith("dns;");
        assertThat(status.perMessage().getHeader("Arrival-Date", null)).isNotBlank();

        assertThat(dsn.getHeader("Auto-Submitted", null)).isEqualToIgnoringCase("auto-replied");
        assertThat(Dsns.humanText(dsn)).contains("unknown-m1@aol.com");
        BodyPart returned = Dsns.returnedContent(dsn);
        assertThat(returned.isMimeType("message/rfc822") || returned.isMimeType("text/rfc822-headers")).isTrue();
        assertThat(Dsns.text(dsn)).contains(subject);

        // Still no second delivery to the accepted recipient while the full one is retried.
        Poll.during(Duration.ofSeconds(3), "ok-m1 delivered exactly once",
                () -> env.aol.messages().stream().filter(m -> m.recipients().contains("ok-m1@aol.com")).count(),
                count -> count == 1);
    }

    @Test
    void greetingTextReachesTheClassifierAndTheDsn() throws Exception {
        env.aol.setMode(Mode.RTR_BB);
        String subject = "rtr-bb-" + System.nanoTime();
        env.send(subject, "ok-r1@aol.com");

        MimeMessage dsn = env.awaitDsnAbout(subject, DSN_WAIT);
        assertThat(env.aol.transactions()).isNotEmpty()
                .allSatisfy(t -> assertThat(t.connectReply()).startsWith("554 RTR:BB"));
        InternetHeaders recipient = Dsns.status(dsn).recipient("ok-r1@aol.com");
        assertThat(recipient.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(recipient.getHeader("Status", null)).isEqualTo("5.7.1");
        assertThat(recipient.getHeader("Diagnostic-Code", null)).contains("RTR:BB");
        // The explanation and remedy of the AOL rule, for the sender's administrator.
        assertThat(Dsns.humanText(dsn)).contains("reverse DNS").contains("dynamic or residential");
    }

    @Test
    void connectionBlockCONB1Bounces() throws Exception {
        env.aol.setMode(Mode.CON_B1);
        String subject = "con-b1-" + System.nanoTime();
        env.send(subject, "ok-c1@aol.com");

        MimeMessage dsn = env.awaitDsnAbout(subject, DSN_WAIT);
        InternetHeaders recipient = Dsns.status(dsn).recipient("ok-c1@aol.com");
        assertThat(recipient.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(recipient.getHeader("Status", null)).startsWith("5.");
        assertThat(recipient.getHeader("Diagnostic-Code", null)).contains("CON:B1");
        assertThat(env.aol.transactions()).extracting(Transaction::connectReply)
                .allMatch(reply -> reply.startsWith("521"));
    }

    @Test
    void rejectedRecipientIsSuppressedLikeAnUnknownOne() throws Exception {
        String subject = "rejected-" + System.nanoTime();
        env.send(subject, "rejected-x1@aol.com");
        MimeMessage dsn = env.awaitDsnAbout(subject, DSN_WAIT);
        InternetHeaders recipient = Dsns.status(dsn).recipient("rejected-x1@aol.com");
        assertThat(recipient.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(recipient.getHeader("Diagnostic-Code", null)).contains("Recipient address rejected");

        String again = "rejected-again-" + System.nanoTime();
        env.send(again, "rejected-x1@aol.com");
        env.awaitDsnAbout(again, DSN_WAIT);
        assertThat(env.rcptsFor("rejected-x1@aol.com")).hasSize(1);
    }

    @Test
    void contentRejectionHVUB1BouncesButNeverSuppresses() throws Exception {
        String subject = "hvu-" + System.nanoTime();
        env.send(subject, "hvu-h1@aol.com");
        MimeMessage dsn = env.awaitDsnAbout(subject, DSN_WAIT);
        InternetHeaders recipient = Dsns.status(dsn).recipient("hvu-h1@aol.com");
        assertThat(recipient.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(recipient.getHeader("Diagnostic-Code", null)).contains("HVU:B1");

        // A content block says nothing about the address: the next mail to it is tried.
        String again = "hvu-again-" + System.nanoTime();
        env.send(again, "hvu-h1@aol.com");
        env.awaitDsnAbout(again, DSN_WAIT);
        assertThat(env.rcptsFor("hvu-h1@aol.com")).hasSize(2);
    }

    @Test
    void flakyRecipientIsRetriedAndDeliveredOnce() throws Exception {
        env.send("flaky-" + System.nanoTime(), "flaky-f1@aol.com");
        Poll.until(DSN_WAIT, "flaky-f1 to be delivered after its 421 HVU:B2",
                () -> env.aol.messages().stream().filter(m -> m.recipients().contains("flaky-f1@aol.com")).count(),
                count -> count == 1);
        assertThat(env.rcptsFor("flaky-f1@aol.com")).hasSizeGreaterThanOrEqualTo(2);
        assertThat(env.aol.transactions()).anySatisfy(t -> assertThat(t.dataReply()).hasValueSatisfying(
                reply -> assertThat(reply).contains("HVU:B2")));
    }

    @Test
    void messageOverSixteenMegabytesBouncesAsTooBig() throws Exception {
        String subject = "big-" + System.nanoTime();
        StringBuilder body = new StringBuilder(17 * 1024 * 1024 + 100);
        String line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n";
        while (body.length() < 17 * 1024 * 1024) {
            body.append(line);
        }
        env.client().send(TestPolicy.ALICE, subject, body.toString(), "ok-big@aol.com");

        MimeMessage dsn = env.awaitDsnAbout(subject, Duration.ofSeconds(60));
        InternetHeaders recipient = Dsns.status(dsn).recipient("ok-big@aol.com");
        assertThat(recipient.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(recipient.getHeader("Status", null)).startsWith("5.");
        assertThat(recipient.getHeader("Diagnostic-Code", null)).contains("552");
        assertThat(dsn.getSize()).as("a DSN for a 17 MB message returns its headers only").isLessThan(2 * 1024 * 1024);
        assertThat(env.rcptsFor("ok-big@aol.com")).hasSize(1);
    }
}
