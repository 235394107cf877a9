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
import org.mailpolicy.fakeaol.RawSmtpClient;
import org.mailpolicy.fakeaol.RecipientReply;
import org.mailpolicy.fakeaol.Transaction;

/**
 * RFC 3461 parameters from a real SMTP client to James 3.8.1 (its DSN hooks enabled by {@code config/sandbox/smtpserver.xml},
 * as an operator enables them), through the plugin to the fake AOL and back as DSNs in alice's INBOX. Sent as a raw SMTP
 * conversation: JavaMail sets NOTIFY per message, never per recipient, and cannot send ORCPT.
 */
class DsnParametersEndToEndTest {
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
    void jamesOffersDsnAndTakesItsParameters() throws Exception {
        try (RawSmtpClient smtp = RawSmtpClient.connect(env.james().smtpPort())) {
            assertThat(smtp.readReply()).startsWith("220");
            assertThat(smtp.send("EHLO client.example").lines()).anyMatch(line -> line.matches("250[- ]DSN"));
            assertThat(smtp.send("MAIL FROM:<" + TestPolicy.ALICE + "> RET=HDRS ENVID=probe")).startsWith("250");
            // Without DSNRcptParameterHook James answers "504 Unrecognized or unsupported option: NOTIFY".
            assertThat(smtp.send("RCPT TO:<ok-p0@aol.com> NOTIFY=FAILURE ORCPT=rfc822;ok-p0@aol.com")).startsWith("250");
            assertThat(smtp.send("RSET")).startsWith("250");
        }
    }

    @Test
    void theDsnCarriesTheEnvelopeIdAndOriginalRecipientReturnsHeadersOnlyAndLeavesOutNotifyNever() throws Exception {
        String subject = "dsn-params-" + System.nanoTime();
        String envelopeId = "env-" + System.nanoTime();
        send(subject, "RET=HDRS ENVID=" + envelopeId,
                "<unknown-e1@aol.com> NOTIFY=FAILURE ORCPT=rfc822;Unknown.Person@example.net",
                "<unknown-e2@aol.com> NOTIFY=NEVER");

        MimeMessage dsn = env.awaitDsnAbout(subject, DSN_WAIT);
        Dsns.DeliveryStatus status = Dsns.status(dsn);
        assertThat(status.perMessage().getHeader("Original-Envelope-Id", null)).isEqualTo(envelopeId);
        // Both recipients were refused; only the one whose NOTIFY asks for failures is reported.
        assertThat(env.rcptsFor("unknown-e2@aol.com")).hasSize(1);
        assertThat(status.finalRecipients()).hasSize(1);
        InternetHeaders failed = status.recipient("unknown-e1@aol.com");
        assertThat(failed.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(failed.getHeader("Original-Recipient", null)).isEqualTo("rfc822; Unknown.Person@example.net");
        // RET=HDRS: the header section only, although the message is far below maxReturnSize.
        BodyPart returned = Dsns.returnedContent(dsn);
        assertThat(returned.isMimeType("text/rfc822-headers")).isTrue();
        assertThat(Dsns.text(returned)).contains(subject).doesNotContain("Body of " + subject);
    }

    @Test
    void aRecipientAskingNeverGetsNoDsn() throws Exception {
        String never = "dsn-never-" + System.nanoTime();
        send(never, "", "<unknown-n1@aol.com> NOTIFY=NEVER");
        Poll.until(DSN_WAIT, "unknown-n1 refused by the fake", () -> env.rcptsFor("unknown-n1@aol.com"), t -> !t.isEmpty());
        // A later mail's DSN arriving shows the reports of the first were written by then.
        String later = "dsn-after-never-" + System.nanoTime();
        send(later, "", "<unknown-n2@aol.com> NOTIFY=FAILURE");
        env.awaitDsnAbout(later, DSN_WAIT);

        Poll.during(Duration.ofSeconds(3), "no DSN about " + never, () -> env.dsnsAbout(never), List::isEmpty);
    }

    @Test
    void notifyIsPassedOnToANextHopThatOffersDsn() throws Exception {
        env.aol.advertiseDsn(true);
        String subject = "dsn-pass-" + System.nanoTime();
        send(subject, "ENVID=pass-on", "<ok-p1@aol.com> NOTIFY=SUCCESS,FAILURE", "<ok-p2@aol.com> NOTIFY=NEVER");

        // One transaction per distinct NOTIFY: JavaMail sets NOTIFY per message.
        Poll.until(DSN_WAIT, "both recipients at the fake", () -> env.aol.messages(), m -> m.size() == 2);
        assertThat(rcptParameters("ok-p1@aol.com")).contains("NOTIFY=SUCCESS,FAILURE");
        assertThat(rcptParameters("ok-p2@aol.com")).contains("NOTIFY=NEVER");
        // The next hop reports success itself: no "relayed" report from James.
        Poll.during(Duration.ofSeconds(3), "no DSN about " + subject, () -> env.dsnsAbout(subject), List::isEmpty);
    }

    @Test
    void aNextHopWithoutDsnMakesJamesReportRelayedForNotifySuccess() throws Exception {
        String subject = "dsn-relayed-" + System.nanoTime();
        String envelopeId = "relayed-" + System.nanoTime();
        send(subject, "ENVID=" + envelopeId, "<ok-r1@aol.com> NOTIFY=SUCCESS ORCPT=rfc822;ok-r1@aol.com");

        MimeMessage dsn = env.awaitDsnAbout(subject, DSN_WAIT);
        // The fake does not offer DSN: nothing to pass NOTIFY in.
        assertThat(rcptParameters("ok-r1@aol.com")).isEmpty();
        Dsns.DeliveryStatus status = Dsns.status(dsn);
        assertThat(status.perMessage().getHeader("Original-Envelope-Id", null)).isEqualTo(envelopeId);
        InternetHeaders relayed = status.recipient("ok-r1@aol.com");
        assertThat(relayed.getHeader("Action", null)).isEqualToIgnoringCase("relayed");
        assertThat(relayed.getHeader("Status", null)).isEqualTo("2.0.0");
        assertThat(relayed.getHeader("Original-Recipient", null)).isEqualTo("rfc822; ok-r1@aol.com");
    }

    /** The parameters of the one RCPT TO the fake saw for {@code address}. */
    private static String rcptParameters(String address) {
        List<Transaction> transactions = env.rcptsFor(address);
        assertThat(transactions).hasSize(1);
        return transactions.get(0).recipients().stream().filter(r -> r.address().equalsIgnoreCase(address))
                .map(RecipientReply::parameters).findFirst().orElseThrow();
    }

    /**
     * One mail from alice through James's SMTP port: {@code mailParameters} after MAIL FROM, and one RCPT TO per
     * {@code rcptArguments} element (the path and its parameters).
     */
    private static void send(String subject, String mailParameters, String... rcptArguments) throws Exception {
        try (RawSmtpClient smtp = RawSmtpClient.connect(env.james().smtpPort())) {
            expect("220", smtp.readReply());
            expect("250", smtp.send("EHLO client.example"));
            expect("250", smtp.send(("MAIL FROM:<" + TestPolicy.ALICE + "> " + mailParameters).trim()));
            StringBuilder to = new StringBuilder();
            for (String rcpt : rcptArguments) {
                expect("250", smtp.send("RCPT TO:" + rcpt));
                to.append(to.length() == 0 ? "" : ", ").append(rcpt, 0, rcpt.indexOf('>') + 1);
            }
            expect("250", smtp.data("From: " + TestPolicy.ALICE + "\r\nTo: " + to + "\r\nSubject: " + subject
                    + "\r\nMessage-ID: <" + subject + "@sandbox.test>\r\n\r\nBody of " + subject + "\r\n"));
            smtp.send("QUIT");
        }
    }

    private static void expect(String code, String reply) {
        assertThat(reply).as("SMTP reply").startsWith(code);
    }
}
