package org.mailpolicy.james.dsn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.junit.jupiter.api.Test;
import org.mailpolicy.decision.RecipientDecision;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.ReplyClassifier;

class DeliveryReportBuilderTest {
    private static final Instant ARRIVAL = Instant.parse("2026-12-06T10:00:00Z");
    private static final Instant ATTEMPT = Instant.parse("2026-12-06T11:00:00Z");
    private static final Instant EXPIRY = Instant.parse("2026-12-11T10:00:00Z");

    private static Mail mailWithDsnParameters() throws Exception {
        Mail mail = FakeMail.builder().name("m1").sender("alice@example.org").recipients("bob@aol.com", "carol@aol.com")
                .build();
        mail.setDsnParameters(DsnParameters.builder()
                .envId(DsnParameters.EnvId.of("env-7"))
                .addRcptParameter(new MailAddress("Bob@aol.com"), DsnParameters.RecipientDsnParameters.of(
                        EnumSet.of(DsnParameters.Notify.SUCCESS), new MailAddress("bob.original@example.net")))
                .build().get());
        return mail;
    }

    private static DeliveryReportBuilder builder() throws Exception {
        return DeliveryReportBuilder.forMail(mailWithDsnParameters(), "mx.example.org", ARRIVAL,
                Optional.of("<m1@example.org>"), ATTEMPT);
    }

    @Test
    void carriesTheEnvelopeIdArrivalAndEachRecipientsOriginalRecipient() throws Exception {
        Mail reportMail = FakeMail.builder().name("report").build();
        reportMail.setAttribute(builder()
                .relayed("bob@aol.com", Optional.of("mx1.aol.test"), Optional.of("250 2.0.0 queued"))
                .relayed("carol@aol.com", Optional.empty(), Optional.empty())
                .buildAttribute());

        DeliveryReport report = ReportAttribute.read(reportMail).get();

        assertThat(report.reportingMta()).isEqualTo("mx.example.org");
        assertThat(report.arrivalDate()).contains(ARRIVAL);
        assertThat(report.envelopeId()).contains("env-7");
        RecipientReport bob = report.recipients().get(0);
        assertThat(bob.action()).isEqualTo(DsnAction.RELAYED);
        assertThat(bob.status()).isEqualTo(EnhancedStatus.of(2, 0, 0));
        assertThat(bob.originalRecipient()).contains("rfc822;bob.original@example.net");
        assertThat(bob.diagnostic()).contains("250 2.0.0 queued");
        assertThat(bob.explanation()).contains("(mx1.aol.test)");
        RecipientReport carol = report.recipients().get(1);
        assertThat(carol.originalRecipient()).isEmpty();
        assertThat(carol.diagnostic()).isEmpty();
        assertThat(carol.lastAttempt()).contains(ATTEMPT);
    }

    @Test
    void aDelayCarriesWillRetryUntilAndAFailureDoesNot() throws Exception {
        Classification full = ReplyClassifier.builtIn().classify("452 4.2.2 mailbox full", Stage.RCPT);
        RecipientDecision retry = RecipientDecision.retryAt(ATTEMPT.plusSeconds(600), full);
        RecipientDecision bounce = RecipientDecision.bounce(
                ReplyClassifier.builtIn().classify("550 5.1.1 no such user", Stage.RCPT));

        DeliveryReport report = builder()
                .failedOrDelayed("bob@aol.com", DsnAction.DELAYED, retry, Optional.of("mx1.aol.test"), EXPIRY)
                .failedOrDelayed("carol@aol.com", DsnAction.FAILED, bounce, Optional.empty(), EXPIRY)
                .build();

        RecipientReport delayed = report.recipients().get(0);
        assertThat(delayed.action()).isEqualTo(DsnAction.DELAYED);
        assertThat(delayed.willRetryUntil()).contains(EXPIRY);
        assertThat(delayed.diagnostic()).contains("452 4.2.2 mailbox full");
        assertThat(delayed.remoteMta()).contains("mx1.aol.test");
        assertThat(delayed.originalRecipient()).contains("rfc822;bob.original@example.net");
        RecipientReport failed = report.recipients().get(1);
        assertThat(failed.action()).isEqualTo(DsnAction.FAILED);
        assertThat(failed.willRetryUntil()).isEmpty();
        assertThat(failed.status().toString()).startsWith("5.");
    }

    @Test
    void onlyFailuresAndDelaysComeFromADecision() throws Exception {
        RecipientDecision bounce = RecipientDecision.bounce(
                ReplyClassifier.builtIn().classify("550 5.1.1 no such user", Stage.RCPT));

        assertThatThrownBy(() -> builder().failedOrDelayed("bob@aol.com", DsnAction.RELAYED, bounce, Optional.empty(),
                EXPIRY)).isInstanceOf(IllegalArgumentException.class);
    }
}
