package org.mailpolicy.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RetrySchedule;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.Scope;
import org.mailpolicy.schedule.AttemptHistory;
import org.mailpolicy.state.DestinationState;

class DeliveryDeciderTest {
    private static final Instant QUEUED = Instant.parse("2026-11-20T10:00:00Z");
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol")
            .domains(ImmutableList.of("aol.com"))
            .retry(RetrySchedule.explicit(ImmutableList.of(Duration.ofMinutes(10), Duration.ofMinutes(30))))
            .maxAge(Duration.ofHours(24))
            .delayWarning(Duration.ofHours(2))
            .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4)))
            .build();

    private static Clock at(Instant t) {
        return Clock.fixed(t, ZoneOffset.UTC);
    }

    private static Classification classified(String reply, Stage stage, Action action, String reason,
                                             Duration holdHint, Duration retryHint) {
        return new Classification(SmtpReply.parse(reply, stage), action, reason, Scope.RECIPIENT, "test." + reason,
                "explanation", "remedy", "test", holdHint, retryHint);
    }

    private static final Classification USER_UNKNOWN = classified("550 5.1.1 <x@aol.com>: Recipient address rejected",
            Stage.RCPT, Action.SUPPRESS, "userunknown", null, null);
    private static final Classification POLICY_REJECT = classified("554 5.7.1 rejected", Stage.END_OF_DATA,
            Action.BOUNCE, "rejected", null, null);
    private static final Classification MAILBOX_FULL = classified("452 4.2.2 mailbox full", Stage.RCPT,
            Action.RETRY, "mailboxfull", null, null);
    private static final Classification DYN_T1 = classified("421 DYN:T1 too many connections", Stage.CONNECT,
            Action.THROTTLE, "speeding", Duration.ofMinutes(5), null);

    @Test
    void mixedTransactionGivesEachRecipientItsOwnDecision() {
        Instant now = QUEUED.plus(Duration.ofMinutes(1));
        AttemptHistory history = AttemptHistory.start("mail-1", QUEUED);
        AttemptOutcome outcome = AttemptOutcome.builder()
                .delivered("ok@aol.com")
                .failed("gone@aol.com", USER_UNKNOWN)
                .failed("full@aol.com", MAILBOX_FULL)
                .build();

        AttemptDecision d = DeliveryDecider.decide(AOL, history, outcome, Optional.empty(), at(now));

        assertThat(d.decisionFor("ok@aol.com")).isEqualTo(RecipientDecision.delivered());
        assertThat(d.decisionFor("gone@aol.com")).isEqualTo(RecipientDecision.suppress(USER_UNKNOWN));
        assertThat(d.decisionFor("full@aol.com"))
                .isEqualTo(RecipientDecision.retryAt(now.plus(Duration.ofMinutes(10)), MAILBOX_FULL));
        assertThat(d.nextHistory().failedAttempts()).isEqualTo(1);
        assertThat(d.nextHistory().lastAttempt()).contains(now);
        assertThat(d.retried()).containsExactly("full@aol.com");
        assertThat(d.finallyFailed()).containsExactly("gone@aol.com");
        assertThat(d.recipientsOf(RecipientDecision.Kind.DELIVERED)).containsExactly("ok@aol.com");
        assertThat(d.delayWarningDue()).isFalse();
        assertThat(d.expiresAt()).isEqualTo(QUEUED.plus(Duration.ofHours(24)));
    }

    @Test
    void secondFailureUsesTheSecondDelayAndARetryHintPushesLater() {
        Instant now = QUEUED.plus(Duration.ofMinutes(20));
        AttemptHistory history = AttemptHistory.start("m", QUEUED).withFailedAttempt(QUEUED.plus(Duration.ofMinutes(10)));
        Classification hinted = classified("421 RTR:GE try later", Stage.RCPT, Action.RETRY, "blocked",
                null, Duration.ofHours(3));

        AttemptDecision d = DeliveryDecider.decide(AOL, history,
                AttemptOutcome.builder().failed("a@aol.com", MAILBOX_FULL).failed("b@aol.com", hinted).build(),
                Optional.empty(), at(now));

        assertThat(d.decisionFor("a@aol.com").nextAttempt()).contains(now.plus(Duration.ofMinutes(30)));
        assertThat(d.decisionFor("b@aol.com").nextAttempt()).contains(now.plus(Duration.ofHours(3)));
    }

    @Test
    void throttleHoldsUntilTheStoresHoldEnds() {
        Instant now = QUEUED.plus(Duration.ofMinutes(1));
        DestinationState held = DestinationState.builder("aol")
                .heldUntil(Optional.of(now.plus(Duration.ofMinutes(30)))).currentHold(Duration.ofMinutes(30)).build();

        AttemptDecision d = DeliveryDecider.decide(AOL, AttemptHistory.start("m", QUEUED),
                AttemptOutcome.wholeAttempt(ImmutableList.of("a@aol.com", "b@aol.com"), DYN_T1),
                Optional.of(held), at(now));

        assertThat(d.decisionFor("a@aol.com"))
                .isEqualTo(RecipientDecision.holdDestination(now.plus(Duration.ofMinutes(30)), DYN_T1));
        assertThat(d.decisionFor("b@aol.com").kind()).isEqualTo(RecipientDecision.Kind.HOLD);
    }

    @Test
    void throttleWithoutStateUsesThePolicysFirstHoldOrTheLongerHint() {
        Instant now = QUEUED.plus(Duration.ofMinutes(1));
        Classification longHint = classified("421 RTR:BB", Stage.CONNECT, Action.THROTTLE, "blocked",
                Duration.ofHours(1), null);

        AttemptDecision d = DeliveryDecider.decide(AOL, AttemptHistory.start("m", QUEUED),
                AttemptOutcome.builder().failed("a@aol.com", DYN_T1).failed("b@aol.com", longHint).build(),
                Optional.empty(), at(now));

        assertThat(d.decisionFor("a@aol.com").nextAttempt()).contains(now.plus(Duration.ofMinutes(15)));
        assertThat(d.decisionFor("b@aol.com").nextAttempt()).contains(now.plus(Duration.ofHours(1)));
    }

    @Test
    void aMessageThatExpiredWaitingForRequiredTlsIsReturnedAs5710NotAs447() {
        Instant now = QUEUED.plus(Duration.ofHours(24));
        AttemptHistory history = AttemptHistory.start("m", QUEUED).withFailedAttempt(QUEUED.plus(Duration.ofHours(20)));
        Classification noTls = new Classification(SmtpReply.parse("TLS required by the delivery policy for"
                + " mx.aol.com (4.7.10 encryption needed), but the server offers no STARTTLS; nothing was sent",
                Stage.CONNECT), Action.THROTTLE, "securityerror", Scope.DESTINATION,
                "tls.policy-unmet", "explanation", "remedy", "test", null, null);

        AttemptDecision d = DeliveryDecider.decide(AOL, history,
                AttemptOutcome.builder().failed("a@aol.com", noTls).failed("b@aol.com", MAILBOX_FULL).build(),
                Optional.empty(), at(now));

        assertThat(d.decisionFor("a@aol.com").kind()).isEqualTo(RecipientDecision.Kind.EXPIRED);
        assertThat(d.decisionFor("a@aol.com").dsnStatus()).contains(EnhancedStatus.of(5, 7, 10));
        assertThat(d.decisionFor("b@aol.com").dsnStatus()).contains(EnhancedStatus.of(4, 4, 7));
    }

    @Test
    void temporaryFailuresAtMaxAgeExpireButFinalOnesKeepTheirOwnKind() {
        Instant now = QUEUED.plus(Duration.ofHours(24));
        AttemptHistory history = AttemptHistory.start("m", QUEUED).withFailedAttempt(QUEUED.plus(Duration.ofHours(20)));

        AttemptDecision d = DeliveryDecider.decide(AOL, history,
                AttemptOutcome.builder().failed("full@aol.com", MAILBOX_FULL).failed("t@aol.com", DYN_T1)
                        .failed("gone@aol.com", USER_UNKNOWN).failed("rej@aol.com", POLICY_REJECT).build(),
                Optional.empty(), at(now));

        RecipientDecision full = d.decisionFor("full@aol.com");
        assertThat(full).isEqualTo(RecipientDecision.expired(MAILBOX_FULL));
        assertThat(full.dsnStatus()).contains(EnhancedStatus.of(4, 4, 7));
        assertThat(full.reason()).contains("expired");
        assertThat(full.isFinalFailure()).isTrue();
        assertThat(d.decisionFor("t@aol.com").kind()).isEqualTo(RecipientDecision.Kind.EXPIRED);
        assertThat(d.decisionFor("gone@aol.com").kind()).isEqualTo(RecipientDecision.Kind.SUPPRESS);
        assertThat(d.decisionFor("rej@aol.com").kind()).isEqualTo(RecipientDecision.Kind.BOUNCE);
        assertThat(d.retried()).isEmpty();
        assertThat(d.delayWarningDue()).isFalse();
    }

    @Test
    void oneSecondBeforeMaxAgeStillRetriesButNotBeyondExpiry() {
        Instant expiry = QUEUED.plus(Duration.ofHours(24));
        Instant now = expiry.minusSeconds(1);
        AttemptDecision d = DeliveryDecider.decide(AOL, AttemptHistory.start("m", QUEUED),
                AttemptOutcome.builder().failed("a@aol.com", MAILBOX_FULL).build(), Optional.empty(), at(now));

        assertThat(d.decisionFor("a@aol.com")).isEqualTo(RecipientDecision.retryAt(expiry, MAILBOX_FULL));
    }

    @Test
    void delayWarningIsDueOnceAfterTheWarningTimeAndOnlyForRequeuedMail() {
        Instant late = QUEUED.plus(Duration.ofHours(3));
        AttemptHistory history = AttemptHistory.start("m", QUEUED).withFailedAttempt(QUEUED.plus(Duration.ofHours(2)));
        AttemptOutcome retry = AttemptOutcome.builder().failed("a@aol.com", MAILBOX_FULL).build();
        AttemptOutcome bounce = AttemptOutcome.builder().failed("a@aol.com", POLICY_REJECT).build();

        assertThat(DeliveryDecider.decide(AOL, history, retry, Optional.empty(), at(late)).delayWarningDue()).isTrue();
        assertThat(DeliveryDecider.decide(AOL, history.withDelayWarningSent(), retry, Optional.empty(), at(late))
                .delayWarningDue()).isFalse();
        assertThat(DeliveryDecider.decide(AOL, history, bounce, Optional.empty(), at(late)).delayWarningDue()).isFalse();
        assertThat(DeliveryDecider.decide(AOL, history, retry, Optional.empty(),
                at(QUEUED.plus(Duration.ofMinutes(119)))).delayWarningDue()).isFalse();
    }

    @Test
    void allDeliveredLeavesTheHistoryAlone() {
        AttemptHistory history = AttemptHistory.start("m", QUEUED);
        AttemptDecision d = DeliveryDecider.decide(AOL, history,
                AttemptOutcome.builder().delivered("a@aol.com").delivered("b@aol.com").build(), Optional.empty(),
                at(QUEUED.plus(Duration.ofHours(5))));

        assertThat(d.nextHistory()).isEqualTo(history);
        assertThat(d.recipientsOf(RecipientDecision.Kind.DELIVERED)).containsExactly("a@aol.com", "b@aol.com");
        assertThat(d.delayWarningDue()).isFalse();
    }

    @Test
    void outcomeRejectsARecipientTwiceAndUnknownRecipients() {
        assertThatThrownBy(() -> AttemptOutcome.builder().delivered("a@aol.com").failed("a@aol.com", MAILBOX_FULL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a@aol.com");
        AttemptDecision d = DeliveryDecider.decide(AOL, AttemptHistory.start("m", QUEUED),
                AttemptOutcome.builder().delivered("a@aol.com").build(), Optional.empty(), at(QUEUED));
        assertThatThrownBy(() -> d.decisionFor("b@aol.com")).isInstanceOf(IllegalArgumentException.class);
    }
}
