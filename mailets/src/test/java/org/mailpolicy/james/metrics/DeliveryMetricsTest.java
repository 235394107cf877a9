package org.mailpolicy.james.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.junit.jupiter.api.Test;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.Scope;
import org.mailpolicy.suppression.SuppressionEntry;

class DeliveryMetricsTest {
    private final RecordingMetricFactory factory = new RecordingMetricFactory();
    private final DeliveryMetrics metrics = DeliveryMetrics.of(factory);

    private static Classification classification(Action action, String reason) {
        return new Classification(SmtpReply.parse("550 MAILBOX NOT FOUND"), action, reason, Scope.RECIPIENT, "r1",
                "e", "r", "s", null, null);
    }

    @Test
    void countsAttemptsAndTimesThem() {
        DeliveryMetrics.Attempt a = metrics.attemptStarted("aol");
        a.stop();
        a.stop();
        metrics.attemptStarted("gmail").stop();

        assertThat(factory.countFor("delivery-policy.attempts")).isEqualTo(2);
        assertThat(factory.countFor("delivery-policy.attempts.aol")).isEqualTo(1);
        assertThat(factory.executionTimesFor(DeliveryMetrics.ATTEMPT_TIMER)).hasSize(2);
    }

    @Test
    void countsOutcomesByActionReasonAndPolicyNameNotDomain() {
        metrics.outcome("<m1@example.com>", "aol", "aol", "bob@aol.com", classification(Action.SUPPRESS, "userunknown"));
        metrics.outcome("<m2@example.com>", "aol", "aol", "ann@aol.com", classification(Action.SUPPRESS, "userunknown"));
        metrics.outcome("<m3@example.com>", "aol", "aol", "cy@aol.com", classification(Action.BOUNCE, "mailboxfull"));
        metrics.delivered("<m4@example.com>", "aol", "aol", "di@aol.com", "250 OK", "TLSv1.3/TLS_AES_128_GCM_SHA256/unverified");
        metrics.outcome("<m5@example.com>", "example.org", "default", "ed@example.org",
                classification(Action.RETRY, "mailboxfull"));

        assertThat(factory.countFor("delivery-policy.outcome.suppress.userunknown.aol")).isEqualTo(2);
        assertThat(factory.countFor("delivery-policy.outcome.bounce.mailboxfull.aol")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.outcome.delivered.aol")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.outcome.retry.mailboxfull.default")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.outcome.retry.mailboxfull.example_org")).isZero();
    }

    @Test
    void aReasonIsLettersAndDigitsSoTheDestinationAfterItCanBeFound() {
        metrics.outcome("<m1@example.com>", "my-relay", "my-relay", "x@example.org",
                classification(Action.RETRY, "odd_reason-2"));

        assertThat(factory.countFor("delivery-policy.outcome.retry.oddreason2.my-relay")).isEqualTo(1);
        assertThat(DeliveryMetrics.reasonPart("__")).isEqualTo("unknown");
    }

    @Test
    void countsWaits() {
        metrics.waited("aol");
        metrics.waited("aol");

        assertThat(factory.countFor("delivery-policy.waits.aol")).isEqualTo(2);
    }

    @Test
    void countsHoldsSuppressionsAndDsns() {
        metrics.holdStarted("aol");
        metrics.suppressionAdded(SuppressionEntry.Source.BOUNCE);
        metrics.suppressionAdded(SuppressionEntry.Source.LIVE_REPLY);
        metrics.dsnSent(DsnAction.FAILED);
        metrics.dsnSent(DsnAction.DELAYED);
        metrics.connectionTls("aol", "unverified");
        metrics.connectionTls("aol", "none");
        metrics.connectionTls("aol", "none");

        assertThat(factory.countFor("delivery-policy.holds.started.aol")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.suppressions.added.bounce")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.suppressions.added.live_reply")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.dsn.sent.failed")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.dsn.sent.delayed")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.connections.tls.unverified.aol")).isEqualTo(1);
        assertThat(factory.countFor("delivery-policy.connections.tls.none.aol")).isEqualTo(2);
    }

    @Test
    void remoteTextNeverBecomesAMetricNameOrABrokenLogLine() {
        assertThat(DeliveryMetrics.namePart("Spam Detected.\r\nX")).isEqualTo("spam_detected___x");
        assertThat(DeliveryMetrics.namePart(null)).isEqualTo("unknown");
        assertThat(DeliveryMetrics.quoted("550 \"no\"\r\nFAKE: line")).isEqualTo("\"550 \\\"no\\\"\\u000d\\u000aFAKE: line\"");
    }
}
