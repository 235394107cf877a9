package org.mailpolicy.james.dsn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import javax.mail.MessagingException;
import javax.mail.Part;
import javax.mail.Session;
import javax.mail.internet.ContentType;
import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.MimeMultipart;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.DsnParameters.Notify;
import org.apache.mailet.DsnParameters.RecipientDsnParameters;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;

class PolicyDsnBounceTest {
    private static final Instant NOW = Instant.parse("2026-11-22T21:00:00Z");
    private static final Instant ARRIVED = Instant.parse("2026-11-22T08:15:00Z");
    private static final Instant LAST_ATTEMPT = Instant.parse("2026-11-22T20:55:07Z");
    private static final Instant RETRY_UNTIL = Instant.parse("2026-11-27T08:15:00Z");
    private static final String ERROR_REPOSITORY = "memory://var/mail/error/";
    private static final String ORIGINAL_ID = "<quarterly.42@example.org>";

    private FakeMailContext context;
    private RecordingRepositoryStore repositories;
    private PolicyDsnBounce mailet;

    @BeforeEach
    void setUp() throws Exception {
        context = FakeMailContext.builder().postmaster(new MailAddress("postmaster@example.org")).build();
        repositories = new RecordingRepositoryStore();
        mailet = init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("errorRepository", ERROR_REPOSITORY));
    }

    private PolicyDsnBounce init(FakeMailetConfig.Builder config) throws MessagingException {
        PolicyDsnBounce m = new PolicyDsnBounce(repositories, Clock.fixed(NOW, ZoneOffset.UTC));
        m.init(config.build());
        return m;
    }

    @Test
    void writesAnRfc3464ReportCheckedFieldByField() throws Exception {
        DsnParameters dsn = DsnParameters.builder()
                .envId(DsnParameters.EnvId.of("env-42"))
                .addRcptParameter(new MailAddress("bob@aol.com"),
                        RecipientDsnParameters.of(new MailAddress("Bob.Original@example.net")))
                .build().get();
        Mail mail = reportMail(report(failedBob(), delayedCarol()), dsn);

        mailet.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(context.getSentMails()).hasSize(1);
        FakeMailContext.SentMail sent = context.getSentMails().get(0);
        assertThat(sent.getSender()).isNull();
        assertThat(sent.getRecipients()).containsExactly(new MailAddress("alice@example.org"));
        assertThat(sent.getState()).isEqualTo(Mail.DEFAULT);

        MimeMessage dsnMessage = reparse(sent.getMsg());
        assertThat(dsnMessage.getHeader("From", null)).contains("MAILER-DAEMON@example.org");
        assertThat(dsnMessage.getHeader("To", null)).isEqualTo("alice@example.org");
        assertThat(dsnMessage.getSubject()).isEqualTo("Undelivered and delayed mail: Quarterly numbers");
        assertThat(dsnMessage.getHeader("Auto-Submitted", null)).isEqualTo("auto-replied");
        assertThat(dsnMessage.getHeader("In-Reply-To", null)).isEqualTo(ORIGINAL_ID);
        assertThat(dsnMessage.getHeader("References", null)).isEqualTo(ORIGINAL_ID);
        assertThat(dsnMessage.getMessageID()).endsWith("@mx1.example.org>");

        ContentType type = new ContentType(dsnMessage.getContentType());
        assertThat(type.getBaseType()).isEqualTo("multipart/report");
        assertThat(type.getParameter("report-type")).isEqualTo("delivery-status");
        MimeMultipart parts = (MimeMultipart) dsnMessage.getContent();
        assertThat(parts.getCount()).isEqualTo(3);

        Part text = parts.getBodyPart(0);
        assertThat(text.isMimeType("text/plain")).isTrue();
        String human = (String) text.getContent();
        assertThat(human).contains("bob@aol.com", "carol@aol.com", "Quarterly numbers",
                "The mailbox does not exist.", "Check the address",
                "will keep trying until Fri 27 Nov 2026 08:15 UTC");

        Part status = parts.getBodyPart(1);
        assertThat(status.isMimeType("message/delivery-status")).isTrue();
        List<InternetHeaders> groups = groups(status);
        assertThat(groups).hasSize(3);
        InternetHeaders perMessage = groups.get(0);
        assertThat(field(perMessage, "Reporting-MTA")).isEqualTo("dns; mx1.example.org");
        assertThat(field(perMessage, "Original-Envelope-Id")).isEqualTo("env-42");
        assertThat(field(perMessage, "Arrival-Date")).isEqualTo("Sun, 22 Nov 2026 08:15:00 +0000");

        InternetHeaders bob = groups.get(1);
        assertThat(field(bob, "Original-Recipient")).isEqualTo("rfc822; Bob.Original@example.net");
        assertThat(field(bob, "Final-Recipient")).isEqualTo("rfc822; bob@aol.com");
        assertThat(field(bob, "Action")).isEqualTo("failed");
        assertThat(field(bob, "Status")).isEqualTo("5.1.1");
        assertThat(field(bob, "Remote-MTA")).isEqualTo("dns; mx-aol.mail.gm0.yahoodns.net");
        assertThat(unfold(field(bob, "Diagnostic-Code")))
                .isEqualTo("smtp; 550 5.1.1 <bob@aol.com>: Recipient address rejected: aol.com");
        assertThat(field(bob, "Last-Attempt-Date")).isEqualTo("Sun, 22 Nov 2026 20:55:07 +0000");
        assertThat(bob.getHeader("Will-Retry-Until")).isNull();

        InternetHeaders carol = groups.get(2);
        assertThat(carol.getHeader("Original-Recipient")).isNull();
        assertThat(field(carol, "Final-Recipient")).isEqualTo("rfc822; carol@aol.com");
        assertThat(field(carol, "Action")).isEqualTo("delayed");
        assertThat(field(carol, "Status")).isEqualTo("4.7.0");
        assertThat(unfold(field(carol, "Diagnostic-Code")))
                .isEqualTo("smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred DYN:T1");
        assertThat(field(carol, "Will-Retry-Until")).isEqualTo("Fri, 27 Nov 2026 08:15:00 +0000");
        // RFC 3464's order, which people reading the part expect.
        String raw = read(status.getInputStream());
        assertThat(raw.indexOf("Final-Recipient: rfc822; bob@aol.com")).isLessThan(raw.indexOf("Action: failed"));
        assertThat(raw.indexOf("Action: failed")).isLessThan(raw.indexOf("Status: 5.1.1"));
        assertThat(raw.indexOf("Status: 5.1.1")).isLessThan(raw.indexOf("Diagnostic-Code: smtp; 550"));

        Part returned = parts.getBodyPart(2);
        assertThat(returned.isMimeType("message/rfc822")).isTrue();
        assertThat(returned.getHeader("Content-Transfer-Encoding")).containsExactly("7bit");
        MimeMessage original = (MimeMessage) returned.getContent();
        assertThat(original.getSubject()).isEqualTo("Quarterly numbers");
        assertThat((String) original.getContent()).contains("The figures are attached.");
    }

    @Test
    void anEightBitOriginalIsReturnedByteForByteAsEightBit() throws Exception {
        MimeMessage eightBit = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(
                ("From: alice@example.org\r\nTo: bob@aol.com\r\nSubject: Hello\r\nMessage-ID: " + ORIGINAL_ID
                        + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                        + "Content-Transfer-Encoding: 8bit\r\n\r\nH\u00e9llo\r\n").getBytes(StandardCharsets.UTF_8)));
        Mail mail = FakeMail.builder().name("m8").sender("alice@example.org").recipient("bob@aol.com")
                .mimeMessage(eightBit).attribute(ReportAttribute.of(report(failedBob()))).build();

        mailet.service(mail);

        Part returned = parts(onlySentDsn()).getBodyPart(2);
        assertThat(returned.getHeader("Content-Transfer-Encoding")).containsExactly("8bit");
        MimeMessage back = (MimeMessage) returned.getContent();
        assertThat(back.getMessageID()).isEqualTo(ORIGINAL_ID);
        assertThat(((String) back.getContent()).trim()).isEqualTo("H\u00e9llo");
    }

    @Test
    void retHdrsReturnsOnlyTheHeaders() throws Exception {
        DsnParameters dsn = DsnParameters.builder().ret(DsnParameters.Ret.HDRS).build().get();
        mailet.service(reportMail(report(failedBob()), dsn));

        Part returned = parts(onlySentDsn()).getBodyPart(2);
        assertThat(returned.isMimeType("text/rfc822-headers")).isTrue();
        String headers = read(returned.getInputStream());
        assertThat(headers).contains("Subject: Quarterly numbers", "Message-ID: " + ORIGINAL_ID)
                .doesNotContain("The figures are attached.");
    }

    @Test
    void aMessageAboveMaxReturnSizeComesBackAsHeadersOnly() throws Exception {
        PolicyDsnBounce small = init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("errorRepository", ERROR_REPOSITORY).setProperty("maxReturnSize", "10"));
        Mail mail = FakeMail.builder().name("big").sender("alice@example.org").recipient("bob@aol.com")
                .mimeMessage(original()).size(11).attribute(ReportAttribute.of(report(failedBob()))).build();
        small.service(mail);

        assertThat(parts(onlySentDsn()).getBodyPart(2).isMimeType("text/rfc822-headers")).isTrue();
    }

    @Test
    void notifyNeverForTheOnlyRecipientSendsNothing() throws Exception {
        DsnParameters dsn = DsnParameters.builder()
                .addRcptParameter(new MailAddress("bob@aol.com"), RecipientDsnParameters.of(EnumSet.of(Notify.NEVER)))
                .build().get();
        Mail mail = reportMail(report(failedBob()), dsn);

        mailet.service(mail);

        assertThat(context.getSentMails()).isEmpty();
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(repositories.storedNames(ERROR_REPOSITORY)).isEmpty();
    }

    @Test
    void eachRecipientIsReportedOnlyForTheActionsItsNotifyNames() throws Exception {
        DsnParameters dsn = DsnParameters.builder()
                // Asked for failures only: a delay is not news for this sender.
                .addRcptParameter(new MailAddress("carol@aol.com"), RecipientDsnParameters.of(EnumSet.of(Notify.FAILURE)))
                .addRcptParameter(new MailAddress("bob@aol.com"),
                        RecipientDsnParameters.of(EnumSet.of(Notify.FAILURE, Notify.DELAY)))
                .build().get();
        mailet.service(reportMail(report(failedBob(), delayedCarol()), dsn));

        MimeMessage sent = onlySentDsn();
        assertThat(sent.getSubject()).isEqualTo("Undelivered mail returned to sender: Quarterly numbers");
        List<InternetHeaders> groups = groups(parts(sent).getBodyPart(1));
        assertThat(groups).hasSize(2);
        assertThat(field(groups.get(1), "Final-Recipient")).isEqualTo("rfc822; bob@aol.com");
        assertThat((String) parts(sent).getBodyPart(0).getContent()).doesNotContain("carol@aol.com");
    }

    @Test
    void aRelayedReportTellsTheSenderTheMessageWasDeliveredAndNoMoreNewsWillCome() throws Exception {
        RecipientReport relayed = RecipientReport.builder("bob@aol.com", DsnAction.RELAYED, EnhancedStatus.of(2, 0, 0))
                .remoteMta("mx-aol.mail.gm0.yahoodns.net")
                .diagnostic("250 2.0.0 Ok: queued as 4XyZ1")
                .lastAttempt(LAST_ATTEMPT)
                .explanation("The message was delivered to the recipient's mail server, which does not report"
                        + " delivery itself; this is the last report you will get for this recipient.")
                .build();
        DsnParameters dsn = DsnParameters.builder()
                .addRcptParameter(new MailAddress("bob@aol.com"), RecipientDsnParameters.of(EnumSet.of(Notify.SUCCESS)))
                .build().get();
        mailet.service(reportMail(report(relayed), dsn));

        MimeMessage sent = onlySentDsn();
        assertThat(sent.getSubject()).isEqualTo("Delivery report: Quarterly numbers");
        String human = unfold((String) parts(sent).getBodyPart(0).getContent()).replaceAll("\\s+", " ");
        assertThat(human).contains("was delivered as shown below",
                "Delivered: relayed to a mail server", "does not send delivery reports", "(status 2.0.0)",
                "does not report delivery itself", "250 2.0.0 Ok: queued as 4XyZ1", "Nothing more to do.");
        assertThat(human).doesNotContain("could not be delivered", "Not delivered", "What to do", "keep trying");
        List<InternetHeaders> groups = groups(parts(sent).getBodyPart(1));
        assertThat(groups).hasSize(2);
        InternetHeaders bob = groups.get(1);
        assertThat(field(bob, "Final-Recipient")).isEqualTo("rfc822; bob@aol.com");
        assertThat(field(bob, "Action")).isEqualTo("relayed");
        assertThat(field(bob, "Status")).isEqualTo("2.0.0");
        assertThat(field(bob, "Remote-MTA")).isEqualTo("dns; mx-aol.mail.gm0.yahoodns.net");
        assertThat(unfold(field(bob, "Diagnostic-Code"))).isEqualTo("smtp; 250 2.0.0 Ok: queued as 4XyZ1");
        assertThat(bob.getHeader("Will-Retry-Until")).isNull();
    }

    @Test
    void aRelayedReportIsLeftOutForASenderWhoAskedOnlyForFailures() throws Exception {
        RecipientReport relayed = RecipientReport.builder("bob@aol.com", DsnAction.RELAYED, EnhancedStatus.of(2, 0, 0))
                .build();
        DsnParameters dsn = DsnParameters.builder()
                .addRcptParameter(new MailAddress("bob@aol.com"), RecipientDsnParameters.of(EnumSet.of(Notify.FAILURE)))
                .build().get();
        Mail mail = reportMail(report(relayed), dsn);

        mailet.service(mail);

        assertThat(context.getSentMails()).isEmpty();
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
    }

    @Test
    void delaysAloneAreReportedWhenTheSenderGaveNoNotify() throws Exception {
        mailet.service(reportMail(report(delayedCarol()), null));

        MimeMessage sent = onlySentDsn();
        assertThat(sent.getSubject()).isEqualTo("Delayed mail (still trying): Quarterly numbers");
        assertThat(field(groups(parts(sent).getBodyPart(1)).get(1), "Action")).isEqualTo("delayed");
    }

    @Test
    void aNullSenderReportGoesToTheErrorRepositoryNeverToADsn() throws Exception {
        Mail mail = FakeMail.builder().name("failed-dsn")
                .sender(MaybeSender.nullSender())
                .recipient("bob@aol.com")
                .mimeMessage(original())
                .attribute(ReportAttribute.of(report(failedBob())))
                .build();

        mailet.service(mail);

        assertThat(context.getSentMails()).isEmpty();
        assertThat(repositories.storedNames(ERROR_REPOSITORY)).containsExactly("failed-dsn");
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
    }

    @Test
    void anUnreadableReportIsKeptInTheErrorRepositoryNotGuessedAt() throws Exception {
        Mail mail = FakeMail.builder().name("garbled")
                .sender("alice@example.org")
                .recipient("bob@aol.com")
                .mimeMessage(original())
                .attribute(new Attribute(ReportAttribute.NAME, AttributeValue.of("{\"version\":1,\"recipients\":")))
                .build();

        mailet.service(mail);

        assertThat(context.getSentMails()).isEmpty();
        assertThat(repositories.storedNames(ERROR_REPOSITORY)).containsExactly("garbled");
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
    }

    @Test
    void remoteTextCannotInjectFieldsOrHeaders() throws Exception {
        RecipientReport hostile = RecipientReport.builder("bob@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 1, 1))
                .remoteMta("mx.evil.example\r\nX-Injected: 2")
                .diagnostic("550 5.1.1 nope\r\nX-Injected: 1\r\n\r\nFinal-Recipient: rfc822; mallory@evil.example")
                .lastAttempt(LAST_ATTEMPT)
                .build();
        MimeMessage original = original();
        original.setSubject("hello\r\nBcc: victim@example.net");
        Mail mail = FakeMail.builder().name("m1").sender("alice@example.org").recipient("bob@aol.com")
                .mimeMessage(original).attribute(ReportAttribute.of(report(hostile))).build();

        mailet.service(mail);

        MimeMessage sent = onlySentDsn();
        assertThat(sent.getHeader("X-Injected")).isNull();
        assertThat(sent.getHeader("Bcc")).isNull();
        List<InternetHeaders> groups = groups(parts(sent).getBodyPart(1));
        assertThat(groups).hasSize(2);
        InternetHeaders bob = groups.get(1);
        assertThat(bob.getHeader("X-Injected")).isNull();
        assertThat(bob.getHeader("Final-Recipient")).containsExactly("rfc822; bob@aol.com");
        assertThat(unfold(field(bob, "Diagnostic-Code")))
                .isEqualTo("smtp; 550 5.1.1 nope X-Injected: 1 Final-Recipient: rfc822; mallory@evil.example");
        assertThat(field(bob, "Remote-MTA")).isEqualTo("dns; mx.evil.example X-Injected: 2");
        String raw = read(parts(sent).getBodyPart(1).getInputStream());
        assertThat(raw).doesNotContain("\nX-Injected").doesNotContain("\nFinal-Recipient: rfc822; mallory");
    }

    @Test
    void aLongOrNonAsciiReplyStaysWithinLineLimitsAndPrintableAscii() throws Exception {
        StringBuilder longReply = new StringBuilder("550 5.7.1 \u00e9chec ");
        for (int i = 0; i < 400; i++) {
            longReply.append("word").append(i).append(' ');
        }
        longReply.append("\u202eevil\u0000");
        RecipientReport r = RecipientReport.builder("bob@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 7, 1))
                .diagnostic(longReply.toString()).build();
        mailet.service(reportMail(report(r), null));

        byte[] raw = parts(onlySentDsn()).getBodyPart(1).getInputStream().readAllBytes();
        String status = new String(raw, StandardCharsets.US_ASCII);
        for (byte b : raw) {
            assertThat(b >= 0x20 && b < 0x7f || b == '\r' || b == '\n' || b == ' ' || b == '\t')
                    .as("printable US-ASCII only, got %s", b).isTrue();
        }
        for (String line : status.split("\r\n")) {
            assertThat(line.length()).isLessThanOrEqualTo(998);
        }
        String diagnostic = unfold(field(groups(parts(onlySentDsn()).getBodyPart(1)).get(1), "Diagnostic-Code"));
        assertThat(diagnostic).startsWith("smtp; 550 5.7.1 ?chec word0 word1").endsWith("...")
                .hasSizeLessThanOrEqualTo("smtp; ".length() + DeliveryStatusFields.MAX_DIAGNOSTIC_CHARS);
    }

    @Test
    void aStockJamesBounceGetsADsnFromItsDeliveryErrorAttributes() throws Exception {
        Mail mail = FakeMail.builder().name("stock")
                .sender("alice@example.org")
                .recipients("bob@aol.com", "dan@aol.com")
                .mimeMessage(original())
                .attribute(new Attribute(StockBounceReport.DELIVERY_ERROR,
                        AttributeValue.of("554 5.7.1 Service unavailable; client host blocked")))
                .attribute(new Attribute(StockBounceReport.DELIVERY_ERROR_CODE, AttributeValue.of(554)))
                .build();
        PolicyDsnBounce stock = init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("errorRepository", ERROR_REPOSITORY).setProperty("reportingMta", "james.example.org"));

        stock.service(mail);

        List<InternetHeaders> groups = groups(parts(onlySentDsn()).getBodyPart(1));
        assertThat(field(groups.get(0), "Reporting-MTA")).isEqualTo("dns; james.example.org");
        assertThat(groups).hasSize(3);
        for (InternetHeaders r : groups.subList(1, 3)) {
            assertThat(field(r, "Action")).isEqualTo("failed");
            assertThat(field(r, "Status")).isEqualTo("5.7.1");
            assertThat(unfold(field(r, "Diagnostic-Code"))).isEqualTo("smtp; 554 5.7.1 Service unavailable; client host blocked");
        }
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
    }

    @Test
    void aStockRetryExhaustionIsReportedAsExpiredWithoutAFakeDiagnostic() throws Exception {
        Mail mail = FakeMail.builder().name("stock")
                .sender("alice@example.org")
                .recipient("bob@aol.com")
                .mimeMessage(original())
                .attribute(new Attribute(StockBounceReport.DELIVERY_ERROR,
                        AttributeValue.of("Too many retries failure. Message will be bounced")))
                .attribute(new Attribute(StockBounceReport.IS_DELIVERY_PERMANENT_ERROR, AttributeValue.of(false)))
                .build();

        mailet.service(mail);

        MimeMessage sent = onlySentDsn();
        InternetHeaders bob = groups(parts(sent).getBodyPart(1)).get(1);
        assertThat(field(bob, "Status")).isEqualTo("4.4.7");
        assertThat(bob.getHeader("Diagnostic-Code")).isNull();
        assertThat((String) parts(sent).getBodyPart(0).getContent()).contains("Too many retries failure");
    }

    @Test
    void successIsReportedOnlyWhenAskedForAndTheReportsOwnOrcptWins() throws Exception {
        RecipientReport delivered = RecipientReport.builder("erin@aol.com", DsnAction.DELIVERED, EnhancedStatus.of(2, 0, 0))
                .originalRecipient("rfc822;Erin@Example.NET")
                .remoteMta("mx-aol.mail.gm0.yahoodns.net")
                .diagnostic("250 2.0.0 OK")
                .build();
        mailet.service(reportMail(report(delivered), null));
        assertThat(context.getSentMails()).as("no NOTIFY: success is not news").isEmpty();

        DsnParameters dsn = DsnParameters.builder()
                .addRcptParameter(new MailAddress("erin@aol.com"), RecipientDsnParameters.of(
                        EnumSet.of(Notify.SUCCESS, Notify.FAILURE), new MailAddress("other@example.net")))
                .build().get();
        mailet.service(reportMail(report(delivered), dsn));

        MimeMessage sent = onlySentDsn();
        assertThat(sent.getSubject()).isEqualTo("Delivery report: Quarterly numbers");
        InternetHeaders erin = groups(parts(sent).getBodyPart(1)).get(1);
        assertThat(field(erin, "Action")).isEqualTo("delivered");
        assertThat(field(erin, "Status")).isEqualTo("2.0.0");
        assertThat(field(erin, "Original-Recipient")).isEqualTo("rfc822; Erin@Example.NET");
    }

    @Test
    void aReportThatCannotBeStoredIsThrownBackToJamesNotDropped() throws Exception {
        RecordingRepositoryStore failing = new RecordingRepositoryStore() {
            @Override
            public synchronized MailRepository select(
                    MailRepositoryUrl url) {
                MailRepository real = super.select(url);
                return (MailRepository) Proxy.newProxyInstance(
                        getClass().getClassLoader(),
                        new Class<?>[] {MailRepository.class},
                        (proxy, method, args) -> {
                            if (method.getName().equals("store")) {
                                throw new MessagingException("disk full");
                            }
                            return method.invoke(real, args);
                        });
            }
        };
        PolicyDsnBounce m = new PolicyDsnBounce(failing, Clock.fixed(NOW, ZoneOffset.UTC));
        m.init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("errorRepository", ERROR_REPOSITORY).build());
        Mail mail = FakeMail.builder().name("failed-dsn").sender(MaybeSender.nullSender()).recipient("bob@aol.com")
                .mimeMessage(original()).attribute(ReportAttribute.of(report(failedBob()))).build();

        assertThatThrownBy(() -> m.service(mail)).isInstanceOf(MessagingException.class).hasMessageContaining("disk full");
        // Not GHOSTed: James's onMailetException handling moves it to the error processor.
        assertThat(mail.getState()).isNotEqualTo(Mail.GHOST);
    }

    @Test
    void initDoesNotNeedThePostmasterWhichJamesSetsOnlyLater() throws Exception {
        FakeMailContext early = FakeMailContext.builder().build();
        PolicyDsnBounce m = init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(early)
                .setProperty("errorRepository", ERROR_REPOSITORY));
        m.service(reportMail(report(failedBob()), null));

        assertThat(early.getSentMails()).hasSize(1);
        assertThat(reparse(early.getSentMails().get(0).getMsg()).getHeader("From", null))
                .contains("MAILER-DAEMON@localhost");
    }

    @Test
    void aConfiguredSenderSignsTheDsn() throws Exception {
        PolicyDsnBounce m = init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("errorRepository", ERROR_REPOSITORY).setProperty("sender", "bounces@example.org"));
        m.service(reportMail(report(failedBob()), null));

        assertThat(onlySentDsn().getHeader("From", null)).contains("<bounces@example.org>");
    }

    @Test
    void misconfigurationIsAClearInitError() {
        assertThatThrownBy(() -> init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("maxReturnSize", "1MB")))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining("maxReturnSize").hasMessageContaining("1MB");
        assertThatThrownBy(() -> init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("errorRepositry", ERROR_REPOSITORY)))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining("errorRepositry");
        assertThatThrownBy(() -> init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(context)
                .setProperty("sender", "not an address")))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining("sender");
    }

    // ---- hostile replies: the DSN keeps its own headers and parts whatever the remote server says

    /** Remote replies that try to add a header, a MIME part or a status group, or to break line limits. */
    private static final String[] HOSTILE_REPLIES = {
        "550 5.1.1 nope\r\nBcc: someone@example.net",
        "550 5.1.1 nope\r\n--boundary\r\nContent-Type: text/html\r\n\r\n<b>click here</b>\r\n--boundary--",
        "550 5.1.1 nope\r\n\r\nFinal-Recipient: rfc822; mallory@evil.example\r\nAction: delivered\r\nStatus: 2.0.0",
        "550 5.1.1 nope\nSubject: free money\rTo: victim@example.net\r\n.\r\nMAIL FROM:<x@evil.example>",
        "550 5.1.1 nope\r\n\tContent-Transfer-Encoding: base64\r\n MIME-Version: 1.0",
        "550 5.1.1 \u0000nul\u0007bell\u001b[31mred\u202eevil\u2028line\u0085next\ufeffbom \u00e9chec \ud800lone",
    };

    /** A 20,000-character line, with spaces or without, and 500 continuation lines of header-looking text. */
    private static String[] longReplies() {
        StringBuilder noSpaces = new StringBuilder("550 5.1.1 ");
        StringBuilder words = new StringBuilder("550 5.1.1 ");
        StringBuilder lines = new StringBuilder();
        while (noSpaces.length() < 20_000) {
            noSpaces.append("x");
            words.append("word ");
        }
        for (int i = 0; i < 500; i++) {
            lines.append("550-5.1.1 X-Header-").append(i).append(": value\r\n");
        }
        lines.append("550 5.1.1 end");
        return new String[] {noSpaces.toString(), words.toString(), lines.toString()};
    }

    @Test
    void aHostileReplyLeavesTheDsnHeadersAndPartsIntact() throws Exception {
        List<String> replies = new ArrayList<>(List.of(HOSTILE_REPLIES));
        replies.addAll(List.of(longReplies()));
        for (String reply : replies) {
            // As the delivery mailet passes it (the parser's safe raw form), and raw as received.
            for (String diagnostic : List.of(SmtpReply.parse(reply).raw(), reply)) {
                context.resetSentMails();
                RecipientReport bob = RecipientReport.builder("bob@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 1, 1))
                        .remoteMta("mx-aol.mail.gm0.yahoodns.net")
                        .diagnostic(diagnostic)
                        .lastAttempt(LAST_ATTEMPT)
                        .build();
                mailet.service(reportMail(report(bob), null));
                assertIntactDsn(context.getSentMails().get(0).getMsg(), diagnostic);
            }
        }
    }

    /**
     * What a recipient's client sees: the DSN's own headers only (no Bcc, no Subject or To from the
     * reply), exactly three parts, the status part with exactly one per-message and one per-recipient
     * group of the expected fields, the reply only inside Diagnostic-Code (unfolded: the cleaned
     * reply) and inside the quoted sentence of the text part, no line over 998 octets, no NUL or
     * bare CR/LF, and no line starting with "--" that is not the DSN's own boundary.
     */
    private static void assertIntactDsn(MimeMessage produced, String diagnostic) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        produced.writeTo(out);
        byte[] bytes = out.toByteArray();
        String what = "DSN for reply " + diagnostic.substring(0, Math.min(60, diagnostic.length())).replace("\r\n", "\\r\\n");
        String raw = new String(bytes, StandardCharsets.ISO_8859_1);
        // Up to the returned message, which is the original's own bytes (this test's original has LF lines).
        int ours = raw.indexOf("Content-Type: message/rfc822");
        assertThat(ours).as(what).isPositive();
        for (int i = 0; i < ours; i++) {
            assertThat(bytes[i]).as("%s: NUL at %s", what, i).isNotEqualTo((byte) 0);
            if (bytes[i] == '\r') {
                assertThat(i + 1 < bytes.length && bytes[i + 1] == '\n').as("%s: bare CR at %s", what, i).isTrue();
            }
            if (bytes[i] == '\n') {
                assertThat(i > 0 && bytes[i - 1] == '\r').as("%s: bare LF at %s", what, i).isTrue();
            }
        }
        MimeMessage dsn = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(bytes));

        List<String> headerNames = new ArrayList<>();
        for (javax.mail.Header h : Collections.list(dsn.getAllHeaders())) {
            headerNames.add(h.getName());
        }
        assertThat(headerNames).as(what).containsExactlyInAnyOrder("Date", "From", "To", "Message-ID", "Subject",
                "Auto-Submitted", "In-Reply-To", "References", "MIME-Version", "Content-Type");
        assertThat(dsn.getAllRecipients()).as(what).extracting(Object::toString).containsExactly("alice@example.org");
        assertThat(dsn.getSubject()).as(what).isEqualTo("Undelivered mail returned to sender: Quarterly numbers");

        String boundary = new ContentType(dsn.getContentType()).getParameter("boundary");
        for (String line : raw.split("\r\n", -1)) {
            assertThat(line.length()).as("%s: line length", what).isLessThanOrEqualTo(998);
            if (line.startsWith("--")) {
                assertThat(line).as("%s: a line that looks like a MIME boundary", what)
                        .isIn("--" + boundary, "--" + boundary + "--");
            }
        }

        MimeMultipart parts = parts(dsn);
        assertThat(parts.getCount()).as(what).isEqualTo(3);
        assertThat(parts.getBodyPart(0).isMimeType("text/plain")).as(what).isTrue();
        assertThat(parts.getBodyPart(1).isMimeType("message/delivery-status")).as(what).isTrue();
        assertThat(parts.getBodyPart(2).isMimeType("message/rfc822")).as(what).isTrue();
        for (int i = 0; i < 3; i++) {
            List<String> partHeaders = new ArrayList<>();
            for (javax.mail.Header h : Collections.list(parts.getBodyPart(i).getAllHeaders())) {
                partHeaders.add(h.getName());
            }
            assertThat(partHeaders).as("%s: headers of part %s", what, i)
                    .isSubsetOf("Content-Type", "Content-Transfer-Encoding", "Content-Description", "Content-Disposition");
        }

        String cleaned = FieldText.ascii(diagnostic, DeliveryStatusFields.MAX_DIAGNOSTIC_CHARS);
        List<InternetHeaders> groups = groups(parts.getBodyPart(1));
        assertThat(groups).as(what).hasSize(2);
        List<String> fields = new ArrayList<>();
        for (javax.mail.Header h : Collections.list(groups.get(1).getAllHeaders())) {
            fields.add(h.getName());
        }
        assertThat(fields).as(what).containsExactly("Final-Recipient", "Action", "Status", "Remote-MTA",
                "Diagnostic-Code", "Last-Attempt-Date");
        assertThat(field(groups.get(1), "Final-Recipient")).isEqualTo("rfc822; bob@aol.com");
        assertThat(field(groups.get(1), "Action")).isEqualTo("failed");
        assertThat(field(groups.get(1), "Status")).isEqualTo("5.1.1");
        assertThat(unfold(field(groups.get(1), "Diagnostic-Code"))).as(what).isEqualTo("smtp; " + cleaned);

        String human = (String) parts.getBodyPart(0).getContent();
        for (String line : human.split("\r?\n")) {
            assertThat(line).as("%s: a line of the text part", what)
                    .doesNotStartWith("Bcc:").doesNotStartWith("--").doesNotStartWith("Content-Type:")
                    .doesNotStartWith("Final-Recipient:").doesNotStartWith("Subject:").doesNotStartWith(".")
                    .hasSizeLessThanOrEqualTo(76);
        }
        String sentence = human.replaceAll("\\s+", " ");
        int said = sentence.indexOf("mx-aol.mail.gm0.yahoodns.net said: \"550");
        assertThat(said).as("%s: the reply is quoted in the text part", what).isGreaterThanOrEqualTo(0);
        for (String planted : List.of("Bcc:", "Content-Type: text/html", "Final-Recipient: rfc822; mallory",
                "Subject: free money", "X-Header-")) {
            int at = sentence.indexOf(planted);
            if (at >= 0) {
                // Only inside the quotation, which ends where the next sentence of ours starts.
                assertThat(at).as("%s: %s outside the quoted reply", what, planted).isGreaterThan(said);
                assertThat(at).as("%s: %s outside the quoted reply", what, planted)
                        .isLessThan(sentence.indexOf("\" Last attempt:", said));
            }
        }
    }

    // ---- backscatter, NOTIFY and RET

    @ParameterizedTest(name = "null sender, {0} report")
    @ValueSource(strings = {"failed", "delayed", "stock-bounce", "unreadable"})
    void noDsnIsEverSentForANullSenderMailWhateverItsReport(String kind) throws Exception {
        FakeMail.Builder b = FakeMail.builder().name("null-" + kind)
                .sender(MaybeSender.nullSender())
                .recipient(kind.equals("delayed") ? "carol@aol.com" : "bob@aol.com")
                .mimeMessage(original());
        switch (kind) {
            case "failed":
                b.attribute(ReportAttribute.of(report(failedBob())));
                break;
            case "delayed":
                b.attribute(ReportAttribute.of(report(delayedCarol())));
                break;
            case "stock-bounce":
                b.attribute(new Attribute(StockBounceReport.DELIVERY_ERROR, AttributeValue.of("550 5.1.1 unknown")));
                break;
            default:
                b.attribute(new Attribute(ReportAttribute.NAME, AttributeValue.of("not json")));
                break;
        }
        Mail mail = b.build();

        mailet.service(mail);

        assertThat(context.getSentMails()).as("mails sent").isEmpty();
        assertThat(repositories.storedNames(ERROR_REPOSITORY)).containsExactly("null-" + kind);
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
    }

    /** RFC 3461 section 4.1, per recipient: which outcomes each NOTIFY asks to hear about. */
    @ParameterizedTest(name = "NOTIFY={0}, {1}: DSN {2}")
    @CsvSource({
        "NEVER,          failed,    no",
        "NEVER,          delayed,   no",
        "NEVER,          delivered, no",
        "FAILURE,        failed,    yes",
        "FAILURE,        delayed,   no",
        "FAILURE,        delivered, no",
        "DELAY,          failed,    no",
        "DELAY,          delayed,   yes",
        "SUCCESS,        delivered, yes",
        "SUCCESS,        failed,    no",
        "FAILURE+DELAY,  delayed,   yes",
        "FAILURE+DELAY,  delivered, no",
        "(none),         failed,    yes",
        "(none),         delayed,   yes",
        "(none),         delivered, no",
    })
    void notifyDecidesWhichOutcomesAreReported(String notify, String action, String sent) throws Exception {
        RecipientReport r = RecipientReport.builder("bob@aol.com", DsnAction.valueOf(action.toUpperCase(java.util.Locale.ROOT)),
                        action.equals("failed") ? EnhancedStatus.of(5, 1, 1)
                                : action.equals("delayed") ? EnhancedStatus.of(4, 7, 0) : EnhancedStatus.of(2, 0, 0))
                .diagnostic(action.equals("delivered") ? "250 2.0.0 OK" : "550 5.1.1 unknown")
                .willRetryUntil(RETRY_UNTIL)
                .build();
        DsnParameters dsn = null;
        if (!notify.equals("(none)")) {
            EnumSet<Notify> set = EnumSet.noneOf(Notify.class);
            for (String n : notify.split("\\+")) {
                set.add(Notify.valueOf(n));
            }
            dsn = DsnParameters.builder().addRcptParameter(new MailAddress("bob@aol.com"), RecipientDsnParameters.of(set))
                    .build().get();
        }
        Mail mail = reportMail(report(r), dsn);

        mailet.service(mail);

        assertThat(context.getSentMails()).hasSize(sent.equals("yes") ? 1 : 0);
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(repositories.storedNames(ERROR_REPOSITORY)).isEmpty();
        if (sent.equals("yes")) {
            assertThat(field(groups(parts(onlySentDsn()).getBodyPart(1)).get(1), "Action")).isEqualTo(action);
        }
    }

    @Test
    void retFullReturnsTheWholeMessageAndRetHdrsOnlyItsHeaders() throws Exception {
        ByteArrayOutputStream originalBytes = new ByteArrayOutputStream();
        original().writeTo(originalBytes);

        mailet.service(reportMail(report(failedBob()), DsnParameters.builder().ret(DsnParameters.Ret.FULL).build().get()));
        Part full = parts(onlySentDsn()).getBodyPart(2);
        assertThat(full.isMimeType("message/rfc822")).isTrue();
        assertThat(new String(full.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo(originalBytes.toString(StandardCharsets.UTF_8));

        context.resetSentMails();
        mailet.service(reportMail(report(failedBob()), DsnParameters.builder().ret(DsnParameters.Ret.HDRS).build().get()));
        Part headers = parts(onlySentDsn()).getBodyPart(2);
        assertThat(headers.isMimeType("text/rfc822-headers")).isTrue();
        String returned = read(headers.getInputStream());
        String originalText = originalBytes.toString(StandardCharsets.UTF_8);
        assertThat(returned).isEqualTo(originalText.substring(0, originalText.indexOf("\r\n\r\n") + 2));
        assertThat(returned).doesNotContain("The figures are attached.");
    }

    // ---- fixtures

    private static RecipientReport failedBob() {
        return RecipientReport.builder("bob@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 1, 1))
                .remoteMta("mx-aol.mail.gm0.yahoodns.net")
                .diagnostic("550 5.1.1 <bob@aol.com>: Recipient address rejected: aol.com")
                .lastAttempt(LAST_ATTEMPT)
                .reason("userunknown")
                .ruleId("aol.mailbox-not-found")
                .explanation("The mailbox does not exist.")
                .remedy("Check the address for typing errors.")
                .build();
    }

    private static RecipientReport delayedCarol() {
        return RecipientReport.builder("carol@aol.com", DsnAction.DELAYED, EnhancedStatus.of(4, 7, 0))
                .remoteMta("mx-aol.mail.gm0.yahoodns.net")
                .diagnostic("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred DYN:T1")
                .lastAttempt(LAST_ATTEMPT)
                .willRetryUntil(RETRY_UNTIL)
                .reason("throttled")
                .explanation("AOL is limiting how fast this server may send.")
                .build();
    }

    private static DeliveryReport report(RecipientReport... recipients) {
        return DeliveryReport.of("mx1.example.org", Optional.of(ARRIVED), Optional.empty(), Optional.of(ORIGINAL_ID),
                List.of(recipients));
    }

    private static Mail reportMail(DeliveryReport report, DsnParameters dsn) throws MessagingException {
        FakeMail.Builder b = FakeMail.builder().name("report-1")
                .sender("alice@example.org")
                .mimeMessage(original())
                .attribute(ReportAttribute.of(report));
        for (RecipientReport r : report.recipients()) {
            b.recipient(r.finalRecipient());
        }
        if (dsn != null) {
            b.attributes(dsn.toAttributes().asAttributes());
        }
        return b.build();
    }

    private static MimeMessage original() throws MessagingException {
        MimeMessage m = new MimeMessage(Session.getInstance(new Properties())) {
            @Override
            protected void updateMessageID() throws MessagingException {
                setHeader("Message-ID", ORIGINAL_ID);
            }
        };
        m.setFrom("alice@example.org");
        m.setRecipients(MimeMessage.RecipientType.TO, "bob@aol.com, carol@aol.com");
        m.setSubject("Quarterly numbers");
        m.setText("The figures are attached.\n");
        // Fixed, or saveChanges stamps the current second and two copies made a second apart differ.
        m.setHeader("Date", "Fri, 20 Nov 2026 09:00:00 +0000");
        m.saveChanges();
        return m;
    }

    private MimeMessage onlySentDsn() throws Exception {
        assertThat(context.getSentMails()).hasSize(1);
        return reparse(context.getSentMails().get(0).getMsg());
    }

    /** As the recipient's client will see it: written out and parsed again. */
    private static MimeMessage reparse(MimeMessage message) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        message.writeTo(out);
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(out.toByteArray()));
    }

    private static MimeMultipart parts(MimeMessage message) throws Exception {
        return (MimeMultipart) message.getContent();
    }

    /** The field groups of a message/delivery-status body, each read as InternetHeaders. */
    private static List<InternetHeaders> groups(Part status) throws Exception {
        byte[] body = status.getInputStream().readAllBytes();
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        List<InternetHeaders> groups = new ArrayList<>();
        while (in.available() > 0) {
            InternetHeaders group = new InternetHeaders(in);
            if (Collections.list(group.getAllHeaders()).isEmpty()) {
                continue;
            }
            groups.add(group);
        }
        return groups;
    }

    private static String field(InternetHeaders group, String name) {
        String[] values = group.getHeader(name);
        assertThat(values).as(name).isNotNull().hasSize(1);
        return values[0];
    }

    private static String unfold(String value) {
        return value.replaceAll("\r?\n([ \t])", "$1");
    }

    private static String read(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
