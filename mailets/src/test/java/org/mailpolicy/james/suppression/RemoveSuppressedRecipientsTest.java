package org.mailpolicy.james.suppression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.MimeMultipart;
import org.apache.james.core.MailAddress;
import org.apache.mailet.DsnParameters.Notify;
import org.apache.mailet.DsnParameters.RecipientDsnParameters;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.dsn.PolicyDsnBounce;
import org.mailpolicy.james.dsn.RecordingRepositoryStore;
import org.mailpolicy.james.dsn.ReportAttribute;
import org.mailpolicy.jdbc.StoreException;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;

/** Against a real policy file and a real H2 suppression store in a temporary folder. */
class RemoveSuppressedRecipientsTest {
    private static final Instant SINCE = Instant.parse("2026-11-01T09:30:00Z");
    private static final String BOB_REPLY = "550 5.1.1 <bob@aol.com>: Recipient address rejected: aol.com";

    @TempDir
    Path folder;
    private String policyFile;
    private FakeMailContext context;

    @BeforeEach
    void setUp() throws Exception {
        Path policy = folder.resolve("delivery-policy.yaml");
        Files.write(policy, ("version: 1\n"
                + "suppression:\n"
                + "  store: h2\n"
                + "  path: " + folder.resolve("suppressions").toAbsolutePath() + "\n").getBytes(StandardCharsets.UTF_8));
        policyFile = policy.toString();
        context = FakeMailContext.builder().postmaster(new MailAddress("postmaster@example.org")).build();
    }

    @AfterEach
    void tearDown() {
        PolicyRuntime.forgetForTesting(policyFile);
    }

    private RemoveSuppressedRecipients mailet() throws MessagingException {
        RemoveSuppressedRecipients m = new RemoveSuppressedRecipients();
        m.init(FakeMailetConfig.builder().mailetName("suppress").mailetContext(context)
                .setProperty("policy", policyFile)
                .setProperty("reportingMta", "mx1.example.org")
                .build());
        return m;
    }

    private void suppress(String address, SuppressionEntry.Source source) throws MessagingException {
        PolicyRuntime.forPolicyFile(policyFile).suppressions().add(SuppressionEntry.of(address, SINCE, "userunknown",
                BOB_REPLY, "aol.mailbox-not-found", source, Optional.of("<earlier@example.org>")));
    }

    @Test
    void removesSuppressedRecipientsAndReportsThemToTheBounceProcessor() throws Exception {
        RemoveSuppressedRecipients mailet = mailet();
        suppress("bob@aol.com", SuppressionEntry.Source.LIVE_REPLY);
        DsnParameters dsn = DsnParameters.builder()
                .addRcptParameter(new MailAddress("bob@aol.com"),
                        RecipientDsnParameters.of(EnumSet.of(Notify.FAILURE), new MailAddress("bob.orig@example.net")))
                .build().get();
        Mail mail = mail("bob@aol.com", "carol@aol.com");
        dsn.toAttributes().asAttributes().forEach(mail::setAttribute);

        mailet.service(mail);

        assertThat(mail.getRecipients()).containsExactly(new MailAddress("carol@aol.com"));
        assertThat(mail.getState()).isNotEqualTo(Mail.GHOST);

        assertThat(context.getSentMails()).hasSize(1);
        FakeMailContext.SentMail report = context.getSentMails().get(0);
        assertThat(report.getState()).isEqualTo("bounces");
        assertThat(report.getSender()).isEqualTo(new MailAddress("alice@example.org"));
        assertThat(report.getRecipients()).containsExactly(new MailAddress("bob@aol.com"));
        assertThat(report.getSubject()).contains("Quarterly numbers");

        DeliveryReport parsed = DeliveryReport.fromJson((String) report.getAttributes().get(ReportAttribute.NAME)
                .getValue().value());
        assertThat(parsed.reportingMta()).isEqualTo("mx1.example.org");
        assertThat(parsed.originalMessageId()).contains("<quarterly.42@example.org>");
        assertThat(parsed.recipients()).hasSize(1);
        RecipientReport bob = parsed.recipients().get(0);
        assertThat(bob.finalRecipient()).isEqualTo("bob@aol.com");
        assertThat(bob.action()).isEqualTo(DsnAction.FAILED);
        assertThat(bob.status().toString()).isEqualTo("5.1.1");
        assertThat(bob.reason()).isEqualTo("userunknown");
        assertThat(bob.ruleId()).isEqualTo("aol.mailbox-not-found");
        assertThat(bob.diagnostic()).contains(BOB_REPLY);
        assertThat(bob.lastAttempt()).isEmpty();
        assertThat(bob.explanation()).contains("since Sun 1 Nov 2026 09:30 UTC",
                "a receiving server said during an earlier delivery that the mailbox does not exist",
                "no connection was made");
        assertThat(bob.remedy()).contains("DELETE /delivery-policy/suppressions/bob@aol.com");

        // The sender's DSN parameters travel with the report, so the DSN honours NOTIFY and ORCPT.
        Optional<DsnParameters> carried = DsnParameters.fromAttributeValue(
                DsnParameters.DsnAttributeValues.extract(report.getAttributes()));
        assertThat(carried).isPresent();
        assertThat(carried.get().getRcptParameters().get(new MailAddress("bob@aol.com")).getOrcptParameter())
                .contains(new MailAddress("bob.orig@example.net"));
    }

    @Test
    void aMailWhoseRecipientsAreAllSuppressedIsGhostedAfterItsReport() throws Exception {
        RemoveSuppressedRecipients mailet = mailet();
        suppress("bob@aol.com", SuppressionEntry.Source.LIVE_REPLY);
        suppress("dan@aol.com", SuppressionEntry.Source.MANUAL);
        Mail mail = mail("bob@aol.com", "DAN@aol.com");

        mailet.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(context.getSentMails()).hasSize(1);
        DeliveryReport parsed = DeliveryReport.fromJson((String) context.getSentMails().get(0).getAttributes()
                .get(ReportAttribute.NAME).getValue().value());
        assertThat(parsed.recipients()).extracting(RecipientReport::finalRecipient)
                .containsExactly("bob@aol.com", "DAN@aol.com");
        assertThat(parsed.recipients().get(1).explanation()).contains("an administrator added it");
    }

    @Test
    void aMailWithoutSuppressedRecipientsIsUntouched() throws Exception {
        RemoveSuppressedRecipients mailet = mailet();
        suppress("bob@aol.com", SuppressionEntry.Source.LIVE_REPLY);
        Mail mail = mail("carol@aol.com", "erin@example.net");

        mailet.service(mail);

        assertThat(mail.getRecipients()).containsExactly(new MailAddress("carol@aol.com"),
                new MailAddress("erin@example.net"));
        assertThat(mail.getState()).isNotEqualTo(Mail.GHOST);
        assertThat(context.getSentMails()).isEmpty();
    }

    @Test
    void suppressionSurvivesARestartOfTheStore() throws Exception {
        mailet();
        suppress("bob@aol.com", SuppressionEntry.Source.BOUNCE);
        PolicyRuntime.forgetForTesting(policyFile);

        RemoveSuppressedRecipients afterRestart = mailet();
        Mail mail = mail("bob@aol.com", "carol@aol.com");
        afterRestart.service(mail);

        assertThat(mail.getRecipients()).containsExactly(new MailAddress("carol@aol.com"));
        assertThat(context.getSentMails()).hasSize(1);
    }

    @Test
    void theReportBecomesADsnThatSaysWhenAndWhy() throws Exception {
        RemoveSuppressedRecipients mailet = mailet();
        suppress("bob@aol.com", SuppressionEntry.Source.LIVE_REPLY);
        mailet.service(mail("bob@aol.com", "carol@aol.com"));
        FakeMailContext.SentMail report = context.getSentMails().get(0);

        FakeMailContext dsnContext = FakeMailContext.builder().postmaster(new MailAddress("postmaster@example.org")).build();
        PolicyDsnBounce dsnMailet = new PolicyDsnBounce(new RecordingRepositoryStore());
        dsnMailet.init(FakeMailetConfig.builder().mailetName("dsn").mailetContext(dsnContext)
                .setProperty("errorRepository", "memory://var/mail/error/").build());
        Mail reportMail = FakeMail.builder().name("report").sender(report.getSender())
                .recipients(report.getRecipients().toArray(new MailAddress[0]))
                .mimeMessage(report.getMsg())
                .attributes(report.getAttributes().values())
                .build();
        dsnMailet.service(reportMail);

        assertThat(dsnContext.getSentMails()).hasSize(1);
        MimeMessage dsn = reparse(dsnContext.getSentMails().get(0).getMsg());
        assertThat(dsn.getSubject()).isEqualTo("Undelivered mail returned to sender: Quarterly numbers");
        MimeMultipart parts = (MimeMultipart) dsn.getContent();
        // Word-wrapped for people: compare with the line breaks taken out.
        String text = ((String) parts.getBodyPart(0).getContent()).replaceAll("\\s+", " ");
        assertThat(text).contains("bob@aol.com", "suppression list since Sun 1 Nov 2026 09:30 UTC",
                "DELETE /delivery-policy/suppressions/bob@aol.com").doesNotContain("carol@aol.com");
        String status = new String(parts.getBodyPart(1).getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(status).contains("Final-Recipient: rfc822; bob@aol.com", "Action: failed", "Status: 5.1.1",
                "Diagnostic-Code: smtp; 550 5.1.1").doesNotContain("Remote-MTA");
    }

    @Test
    void anUnreadableStoreLetsTheMailThroughForTheRemoteServerToJudge() throws Exception {
        String brokenPolicy = folder.resolve("broken-policy.yaml").toString();
        SuppressionList broken = new SuppressionList() {
            @Override
            public Optional<SuppressionEntry> find(String address) {
                throw new StoreException("cannot look up " + address + ": disk gone",
                        new java.sql.SQLException("disk gone"));
            }

            @Override
            public Optional<SuppressionEntry> findStored(String address) {
                return find(address);
            }

            @Override
            public boolean add(SuppressionEntry entry) {
                throw new UnsupportedOperationException();
            }

            @Override
            public long addAll(Iterable<SuppressionEntry> entries) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean remove(String address) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean removeReplyEntry(String address, java.time.Instant addedSince) {
                throw new UnsupportedOperationException();
            }

            @Override
            public List<SuppressionEntry> list(Optional<String> domain, int offset, int limit) {
                throw new UnsupportedOperationException();
            }

            @Override
            public long count(Optional<String> domain) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void close() {
            }
        };
        PolicyRuntime.registerForTesting(brokenPolicy, PolicyRuntime.of(DeliveryPolicy.builtInDefault(),
                ReplyClassifier.builtIn(), broken, JdbcSentMessageLedger.openH2(folder.resolve("ledger")),
                new InMemoryDestinationStateStore(), Clock.systemUTC()));
        try {
            RemoveSuppressedRecipients mailet = new RemoveSuppressedRecipients();
            mailet.init(FakeMailetConfig.builder().mailetName("suppress").mailetContext(context)
                    .setProperty("policy", brokenPolicy).build());
            Mail mail = mail("bob@aol.com", "carol@aol.com");

            mailet.service(mail);

            assertThat(mail.getRecipients()).hasSize(2);
            assertThat(mail.getState()).isNotEqualTo(Mail.GHOST);
            assertThat(context.getSentMails()).isEmpty();
        } finally {
            PolicyRuntime.forgetForTesting(brokenPolicy);
        }
    }

    @Test
    void theMatcherReturnsOnlySuppressedRecipients() throws Exception {
        IsSuppressed matcher = new IsSuppressed();
        matcher.init(FakeMatcherConfig.builder().matcherName("IsSuppressed").mailetContext(context)
                .condition(policyFile).build());
        suppress("bob@aol.com", SuppressionEntry.Source.LIVE_REPLY);

        assertThat(matcher.match(mail("bob@aol.com", "carol@aol.com"))).containsExactly(new MailAddress("bob@aol.com"));
        assertThat(matcher.match(mail("carol@aol.com"))).isEmpty();
    }

    @Test
    void configurationErrorsNameTheParameter() {
        assertThatThrownBy(() -> new RemoveSuppressedRecipients().init(FakeMailetConfig.builder()
                .mailetName("suppress").mailetContext(context).build()))
                .isInstanceOf(MessagingException.class).hasMessageContaining("policy");
        assertThatThrownBy(() -> new RemoveSuppressedRecipients().init(FakeMailetConfig.builder()
                .mailetName("suppress").mailetContext(context).setProperty("policy", policyFile)
                .setProperty("bounceprocessor", "bounces").build()))
                .isInstanceOf(MessagingException.class).hasMessageContaining("bounceprocessor");
        assertThatThrownBy(() -> new IsSuppressed().init(FakeMatcherConfig.builder().matcherName("IsSuppressed")
                .mailetContext(context).build()))
                .isInstanceOf(MessagingException.class).hasMessageContaining("policy");
    }

    private static Mail mail(String... recipients) throws MessagingException {
        MimeMessage m = new MimeMessage(Session.getInstance(new Properties())) {
            @Override
            protected void updateMessageID() throws MessagingException {
                setHeader("Message-ID", "<quarterly.42@example.org>");
            }
        };
        m.setFrom("alice@example.org");
        m.setRecipients(MimeMessage.RecipientType.TO, String.join(", ", recipients));
        m.setSubject("Quarterly numbers");
        m.setText("The figures are attached.\n");
        m.saveChanges();
        return FakeMail.builder().name("m1").sender("alice@example.org").recipients(recipients).mimeMessage(m).build();
    }

    private static MimeMessage reparse(MimeMessage message) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        message.writeTo(out);
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(out.toByteArray()));
    }
}
