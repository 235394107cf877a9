package org.mailpolicy.james.bounces;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Collectors;
import javax.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SentMessage;

/**
 * Bounces as Postfix, Exim, Exchange / Office 365, Gmail and qmail write them (built from their
 * documented formats), about a message this server sent, read with the built-in rules: what each
 * reported recipient becomes. A failure report is final (never a retry), and only a definite
 * unknown user is suppressed.
 */
class MtaBounceFormatsTest {
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    private static final String SENT_ID = "<20261122100000.5150@mail.example.com>";
    private static final List<String> SENT_TO = ImmutableList.of("bob@example.net", "carl@example.net",
            "dora@example.net", "emil@example.net", "fred@example.net", "gus@example.net", "hank@example.org",
            "ivy@example.org", "jack@example.org", "kim@example.org", "lee@example.org", "max@example.org",
            "frank@contoso.com", "olga@contoso.com", "pia@contoso.com", "gina@gmail.com", "quinn@gmail.com");

    @TempDir
    Path dir;
    private JdbcSuppressionList suppressions;
    private JdbcSentMessageLedger ledger;
    private BounceIngestion ingestion;
    private MimeMessage original;

    @BeforeEach
    void open() throws Exception {
        Path base = dir.resolve("suppressions");
        suppressions = JdbcSuppressionList.openH2(base);
        ledger = JdbcSentMessageLedger.openH2(base);
        ingestion = BounceIngestion.of((recipient, reply) -> ReplyClassifier.builtIn().classify(reply), suppressions,
                ledger, Clock.fixed(NOW, ZoneOffset.UTC));
        ledger.record(SentMessage.of(SENT_ID, SENT_TO, NOW.minusSeconds(3600)));
        original = Bounces.original(SENT_ID, SENT_TO.toArray(new String[0]));
    }

    @AfterEach
    void close() {
        ledger.close();
        suppressions.close();
    }

    // ---- Postfix: bounce(8) writes multipart/report; X-Postfix diagnostics are its own prose ----

    @Test
    void postfixOwnProseIsReadWithItsStatusAndIsFinal() throws Exception {
        // The report of issue 13: ingested as retry/undefined (class.none) when the Status was ignored.
        BounceIngestion.Result result = ingest(postfix("bob@example.net", "failed", "5.1.1",
                "X-Postfix; mailbox unknown (user moved away)"));

        assertThat(result.bounce().form()).isEqualTo(Bounce.Form.DELIVERY_STATUS);
        assertThat(result.matched()).isPresent();
        assertThat(outcomes(result)).containsExactly("bob@example.net RECORDED bounce/userunknown rfc3463.5.1.1");
        // "mailbox unknown" beside a moved-away user is not a definite "no such user": never suppressed
        assertThat(suppressions.find("bob@example.net")).isEmpty();
    }

    @Test
    void postfixRelayingTheRemoteUnknownUserReplySuppresses() throws Exception {
        ingest(postfix("carl@example.net", "failed", "5.1.1",
                "smtp; 550 5.1.1 <carl@example.net>: Recipient address rejected: User unknown in virtual mailbox table"));
        ingest(postfix("dora@example.net", "failed", "5.1.1",
                "X-Postfix; host mx.example.net[192.0.2.1] said: 550 5.1.1 <dora@example.net>: Recipient address"
                        + " rejected: User unknown in local recipient table (in reply to RCPT TO command)"));

        assertThat(suppressions.find("carl@example.net").get().reason()).isEqualTo("userunknown");
        assertThat(suppressions.find("dora@example.net").get().reason()).isEqualTo("userunknown");
    }

    @Test
    void postfixGivingUpAfterTimeoutsOrOnAMissingDomainBouncesWithTheProsesReason() throws Exception {
        // Postfix keeps the last deferral's 4.x.x Status when the queue lifetime ends (Action: failed).
        BounceIngestion.Result expired = ingest(postfix("emil@example.net", "failed", "4.4.1",
                "X-Postfix; connect to mx.example.net[192.0.2.1]:25: Connection timed out"));
        BounceIngestion.Result noDomain = ingest(postfix("fred@example.net", "failed", "5.4.4",
                "X-Postfix; Host or domain name not found. Name service error for name=example.net type=A: Host not found"));

        assertThat(outcomes(expired)).containsExactly("emil@example.net RECORDED bounce/expired prose.connect-timed-out");
        assertThat(outcomes(noDomain)).containsExactly("fred@example.net RECORDED bounce/hostunknown prose.host-unknown");
    }

    @Test
    void postfixPipeFailureBouncesAsAMailerError() throws Exception {
        BounceIngestion.Result result = ingest(postfix("gus@example.net", "failed", "5.3.0",
                "X-Postfix; Command died with status 1: \"/usr/bin/procmail\". Command output: procmail: Couldn't"
                        + " create \"/var/mail/gus\""));

        assertThat(outcomes(result)).containsExactly("gus@example.net RECORDED bounce/mailererror prose.mailer-error");
    }

    @Test
    void postfixDelayWarningStaysARetryAndIsNotAFailure() throws Exception {
        BounceIngestion.Result result = ingest(postfix("emil@example.net", "delayed", "4.4.1",
                "X-Postfix; connect to mx.example.net[192.0.2.1]:25: Connection timed out"));

        assertThat(outcomes(result)).containsExactly("emil@example.net NOT_A_FAILURE retry/expired prose.connect-timed-out");
    }

    // ---- Exim: its own text bounce, not RFC 3464 ----

    @Test
    void eximTextBounceGivesEachFailedAddressItsReason() throws Exception {
        MimeMessage bounce = Bounces.textBounce("Mailer-Daemon@mx.example.org",
                "This message was created automatically by mail delivery software.\r\n\r\n"
                        + "A message that you sent could not be delivered to one or more of its\r\n"
                        + "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
                        + "  hank@example.org\r\n"
                        + "    SMTP error from remote mail server after RCPT TO:<hank@example.org>:\r\n"
                        + "    host mx.example.org [192.0.2.25]: 550 5.1.1 <hank@example.org>: Recipient address rejected:"
                        + " User unknown in virtual mailbox table\r\n\r\n"
                        + "  ivy@example.org\r\n"
                        + "    retry time not reached for any host after a long failure period\r\n\r\n"
                        + "  jack@example.org\r\n"
                        + "    (generated from sales@example.org)\r\n"
                        + "    all hosts have been failing for a long time (and retry time not reached)\r\n\r\n"
                        + "------ This is a copy of the message, including all the headers. ------\r\n\r\n"
                        + Bounces.quoted(original));

        BounceIngestion.Result result = ingest(bounce);

        assertThat(result.bounce().form()).isEqualTo(Bounce.Form.EXIM_TEXT);
        assertThat(result.recipients().get(0).recipient().diagnostic()).isEqualTo(
                "SMTP error from remote mail server after RCPT TO:<hank@example.org>: host mx.example.org [192.0.2.25]:"
                        + " 550 5.1.1 <hank@example.org>: Recipient address rejected: User unknown in virtual mailbox table");
        assertThat(outcomes(result)).containsExactly(
                "hank@example.org SUPPRESSED suppress/userunknown postfix.user-unknown-table",
                "ivy@example.org RECORDED bounce/expired prose.gave-up",
                "jack@example.org RECORDED bounce/expired prose.gave-up");
        assertThat(suppressions.find("ivy@example.org")).isEmpty();
        assertThat(suppressions.find("jack@example.org")).isEmpty();
    }

    // ---- Exchange / Office 365 ----

    @Test
    void exchangeRecipientNotFoundSuppressesAndAFullMailboxBouncesWithoutSuppressing() throws Exception {
        ingest(exchange("frank@contoso.com", "5.1.10",
                "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"));
        ingest(exchange("olga@contoso.com", "5.4.1",
                "smtp;550 5.4.1 Recipient address rejected: Access denied. AS(201806281)"
                        + " [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]"));
        BounceIngestion.Result full = ingest(exchange("pia@contoso.com", "5.2.2",
                "smtp;554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
                        + "MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception"));

        assertThat(suppressions.find("frank@contoso.com").get().ruleId()).isEqualTo("microsoft.recipient-not-found");
        assertThat(suppressions.find("olga@contoso.com")).isPresent();
        assertThat(outcomes(full)).hasSize(1).allMatch(o -> o.startsWith("pia@contoso.com RECORDED bounce/mailboxfull "));
        assertThat(suppressions.find("pia@contoso.com")).isEmpty();
    }

    // ---- Gmail ----

    @Test
    void gmailAccountThatDoesNotExistSuppressesAndOverQuotaBounces() throws Exception {
        ingest(gmail("gina@gmail.com", "5.1.1",
                "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
                        + " 550-5.1.1 double-checking the recipient's email address for typos or\r\n"
                        + " 550-5.1.1 unnecessary spaces. For more information, go to\r\n"
                        + " 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a-a9a0f2bsi1234.66 - gsmtp"));
        BounceIngestion.Result full = ingest(gmail("quinn@gmail.com", "5.2.2",
                "smtp; 552-5.2.2 The recipient's inbox is out of storage space. Please direct the\r\n"
                        + " 552-5.2.2 recipient to\r\n"
                        + " 552 5.2.2  https://support.google.com/mail/?p=OverQuotaTemp a640c23a62f3a-a9a0f2bsi1235.67 - gsmtp"));

        assertThat(suppressions.find("gina@gmail.com").get().reason()).isEqualTo("userunknown");
        assertThat(outcomes(full)).hasSize(1).allMatch(o -> o.startsWith("quinn@gmail.com RECORDED bounce/mailboxfull "));
        assertThat(suppressions.find("quinn@gmail.com")).isEmpty();
    }

    // ---- qmail: QSBMF text ----

    @Test
    void qmailBounceGivesEachRecipientParagraphItsReason() throws Exception {
        MimeMessage bounce = Bounces.textBounce("MAILER-DAEMON@mail.example.org",
                "Hi. This is the qmail-send program at mail.example.org.\r\n"
                        + "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
                        + "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
                        + "<kim@example.org>:\r\n"
                        + "Sorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
                        + "<lee@example.org>:\r\n"
                        + "192.0.2.26 does not like recipient.\r\n"
                        + "Remote host said: 552 5.2.2 <lee@example.org>: Mailbox full\r\n"
                        + "Giving up on 192.0.2.26.\r\n\r\n"
                        + "<max@example.org>:\r\n"
                        + "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\r\n"
                        + "I'm not going to try again; this message has been in the queue too long.\r\n\r\n"
                        + "--- Below this line is a copy of the message.\r\n\r\n"
                        + Bounces.quoted(original));

        BounceIngestion.Result result = ingest(bounce);

        assertThat(result.bounce().form()).isEqualTo(Bounce.Form.QMAIL_TEXT);
        assertThat(result.recipients()).extracting(r -> r.recipient().diagnostic()).first()
                .isEqualTo("Sorry, no mailbox here by that name. (#5.1.1)");
        assertThat(outcomes(result)).hasSize(3);
        assertThat(outcomes(result).get(0)).isEqualTo("kim@example.org SUPPRESSED suppress/userunknown qmail.no-mailbox-here");
        assertThat(outcomes(result).get(1)).startsWith("lee@example.org RECORDED bounce/mailboxfull ");
        assertThat(outcomes(result).get(2)).isEqualTo("max@example.org RECORDED bounce/expired prose.gave-up");
        assertThat(suppressions.find("lee@example.org")).isEmpty();
        assertThat(suppressions.find("max@example.org")).isEmpty();
    }

    // ---- helpers ----

    private BounceIngestion.Result ingest(MimeMessage bounce) {
        BounceIngestion.Result result = ingestion.ingest(bounce).orElseThrow(() -> new AssertionError("not read as a bounce"));
        assertThat(result.matched()).as("matched the sent message").isPresent();
        return result;
    }

    /** "address DECISION action/reason rule" per reported recipient. */
    private static List<String> outcomes(BounceIngestion.Result result) {
        return result.recipients().stream()
                .map(r -> r.recipient().address() + " " + r.decision() + " " + r.classification().action().id() + "/"
                        + r.classification().reason() + " " + r.classification().ruleId())
                .collect(Collectors.toList());
    }

    /** Postfix bounce(8): its human text, then the per-message and per-recipient fields it writes. */
    private MimeMessage postfix(String recipient, String action, String status, String diagnosticCode) throws Exception {
        String human = "This is the mail system at host mail.example.com.\r\n\r\n"
                + "I'm sorry to have to inform you that your message could not\r\n"
                + "be delivered to one or more recipients. It's attached below.\r\n\r\n"
                + "                   The mail system\r\n\r\n"
                + "<" + recipient + ">: " + diagnosticCode.substring(diagnosticCode.indexOf(';') + 1).trim() + "\r\n";
        return Bounces.report(original, human, "Reporting-MTA: dns; mail.example.com\r\n"
                + "X-Postfix-Queue-ID: 4CfQ2K1bq5z9tWv\r\n"
                + "X-Postfix-Sender: rfc822; alice@example.com\r\n"
                + "Arrival-Date: Sun, 22 Nov 2026 10:00:00 +0000 (UTC)\r\n\r\n"
                + "Final-Recipient: rfc822; " + recipient + "\r\n"
                + "Original-Recipient: rfc822;" + recipient + "\r\n"
                + "Action: " + action + "\r\n"
                + "Status: " + status + "\r\n"
                + "Diagnostic-Code: " + diagnosticCode + "\r\n");
    }

    /** Exchange Online's NDR: its fields without spaces after the semicolons. */
    private MimeMessage exchange(String recipient, String status, String diagnosticCode) throws Exception {
        return Bounces.report(original, "Delivery has failed to these recipients or groups:\r\n\r\n" + recipient + "\r\n",
                "Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com\r\n"
                        + "Received-From-MTA: dns;AM0PR01MB5678.eurprd01.prod.exchangelabs.com\r\n"
                        + "Arrival-Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n"
                        + "Final-Recipient: rfc822;" + recipient + "\r\n"
                        + "Action: failed\r\n"
                        + "Status: " + status + "\r\n"
                        + "Diagnostic-Code: " + diagnosticCode + "\r\n");
    }

    /** Gmail's report, its Diagnostic-Code the folded multi-line reply. */
    private MimeMessage gmail(String recipient, String status, String diagnosticCode) throws Exception {
        return Bounces.report(original, "** Message not delivered **\r\n\r\nThere was a problem delivering your message to "
                        + recipient + ".\r\n",
                "Reporting-MTA: dns; googlemail.com\r\n"
                        + "Arrival-Date: Sun, 22 Nov 2026 10:00:00 -0800 (PST)\r\n\r\n"
                        + "Final-Recipient: rfc822; " + recipient + "\r\n"
                        + "Action: failed\r\n"
                        + "Status: " + status + "\r\n"
                        + "Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.102.27, the server for the domain gmail.com.)\r\n"
                        + "Diagnostic-Code: " + diagnosticCode + "\r\n"
                        + "Last-Attempt-Date: Sun, 22 Nov 2026 10:00:01 -0800 (PST)\r\n");
    }
}
