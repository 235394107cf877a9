package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mailpolicy.decision.AttemptOutcome;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.UnknownRecipientGuard;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.Scope;

class DirectoryOutageGuardTest {
    private static final Instant T0 = Instant.parse("2026-12-07T09:00:00Z");
    /** 5 distinct unknown recipients within 10 minutes, half of those answered; believed again after 30 quiet minutes. */
    private static final UnknownRecipientGuard SETTINGS = UnknownRecipientGuard.of(Duration.ofMinutes(10), 5, 0.5,
            Duration.ofMinutes(30));
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol").domains(ImmutableList.of("aol.com"))
            .unknownRecipientGuard(SETTINGS).build();
    private static final DestinationKey KEY = DestinationKey.of(AOL);

    private static final Classification UNKNOWN = classified("550 MAILBOX NOT FOUND", Action.SUPPRESS, "userunknown",
            Scope.RECIPIENT);
    private static final Classification FULL = classified("552 Mailbox full", Action.RETRY, "mailboxfull",
            Scope.RECIPIENT);
    private static final Classification CONTENT = classified("554 HVU:B1", Action.BOUNCE, "spamdetected",
            Scope.MESSAGE);

    private final DirectoryOutageGuard guard = new DirectoryOutageGuard();

    private static Classification classified(String reply, Action action, String reason, Scope scope) {
        return new Classification(SmtpReply.parse(reply, Stage.RCPT), action, reason, scope, "test." + reason,
                "The explanation.", "remedy", "test", null, null);
    }

    private static AttemptOutcome unknown(String... recipients) {
        AttemptOutcome.Builder b = AttemptOutcome.builder();
        for (String r : recipients) {
            b.failed(r, UNKNOWN);
        }
        return b.build();
    }

    private static AttemptOutcome delivered(String... recipients) {
        AttemptOutcome.Builder b = AttemptOutcome.builder();
        for (String r : recipients) {
            b.delivered(r);
        }
        return b.build();
    }

    private static String[] addresses(String prefix, int from, int count) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add(prefix + i + "@aol.com");
        }
        return out.toArray(new String[0]);
    }

    /** One unknown recipient per attempt, a second apart, starting at {@code start}; returns the last review. */
    private DirectoryOutageGuard.Review oneByOne(String[] recipients, Instant start) {
        DirectoryOutageGuard.Review last = null;
        for (int i = 0; i < recipients.length; i++) {
            last = guard.review(KEY, AOL, unknown(recipients[i]), start.plusSeconds(i));
        }
        return last;
    }

    @Test
    void belowTheThresholdUnknownUsersAreSuppressed() {
        DirectoryOutageGuard.Review review = oneByOne(addresses("gone", 0, 4), T0);

        assertThat(review.outcome().failure("gone3@aol.com").get().action()).isEqualTo(Action.SUPPRESS);
        assertThat(review.started()).isFalse();
        assertThat(review.deferred()).isZero();
        assertThat(review.status().isSuspected()).isFalse();
        assertThat(review.status().unknownRecipients()).isEqualTo(4);
        assertThat(review.status().answeredRecipients()).isEqualTo(4);
    }

    @Test
    void manyUnknownAmongFewAnsweredIsASurgeNotEnoughOfThemIsNot() {
        guard.review(KEY, AOL, delivered(addresses("ok", 0, 6)), T0);
        // 5 unknown of 11 answered: under half.
        DirectoryOutageGuard.Review review = oneByOne(addresses("gone", 0, 5), T0.plusSeconds(1));
        assertThat(review.status().isSuspected()).isFalse();
        assertThat(review.outcome().failure("gone4@aol.com").get().action()).isEqualTo(Action.SUPPRESS);

        // The sixth makes half.
        review = guard.review(KEY, AOL, unknown("gone5@aol.com"), T0.plusSeconds(10));
        assertThat(review.started()).isTrue();
        assertThat(review.status().unknownRecipients()).isEqualTo(6);
        assertThat(review.status().answeredRecipients()).isEqualTo(12);
    }

    @Test
    void aboveTheThresholdUnknownUsersAreRetriedWithTheirReasonAndWhy() {
        DirectoryOutageGuard.Review fifth = oneByOne(addresses("real", 0, 5), T0);

        assertThat(fifth.started()).isTrue();
        assertThat(fifth.deferred()).isEqualTo(1);
        Classification retried = fifth.outcome().failure("real4@aol.com").get();
        assertThat(retried.action()).isEqualTo(Action.RETRY);
        assertThat(retried.reason()).isEqualTo("userunknown");
        assertThat(retried.ruleId()).isEqualTo("test.userunknown");
        assertThat(retried.reply().raw()).isEqualTo("550 MAILBOX NOT FOUND");
        assertThat(retried.explanation()).startsWith("aol answered \"user unknown\" for 5 of the 5 recipients it"
                + " answered about within 10m, which looks like a failure of its directory").endsWith("The explanation.");
        assertThat(retried.dsnStatus().statusClass()).isEqualTo(4);
        // The four suppressed before the surge are named for lifting, with the window's start.
        assertThat(fifth.liftable()).containsExactly("real0@aol.com", "real1@aol.com", "real2@aol.com",
                "real3@aol.com", "real4@aol.com");
        assertThat(fifth.liftableSince()).isEqualTo(T0.plusSeconds(4).minus(Duration.ofMinutes(10)));
        assertThat(fifth.status().isSuspected()).isTrue();
        assertThat(fifth.status().since()).contains(T0.plusSeconds(4));
        assertThat(fifth.status().until()).contains(T0.plusSeconds(4).plus(Duration.ofMinutes(30)));

        // Later unknowns are retried too; other replies and deliveries are left as they are.
        AttemptOutcome mixed = AttemptOutcome.builder().failed("real9@aol.com", UNKNOWN).failed("full@aol.com", FULL)
                .delivered("ok@aol.com").build();
        DirectoryOutageGuard.Review later = guard.review(KEY, AOL, mixed, T0.plusSeconds(60));
        assertThat(later.started()).isFalse();
        assertThat(later.liftable()).isEmpty();
        assertThat(later.deferred()).isEqualTo(1);
        assertThat(later.outcome().failure("real9@aol.com").get().action()).isEqualTo(Action.RETRY);
        assertThat(later.outcome().failure("full@aol.com")).contains(FULL);
        assertThat(later.outcome().failure("ok@aol.com")).isEmpty();
    }

    @Test
    void repeatedAttemptsToOneRecipientCountOnce() {
        for (int i = 0; i < 20; i++) {
            guard.review(KEY, AOL, unknown("same@aol.com"), T0.plusSeconds(i));
        }
        DirectoryOutageGuard.Review review = guard.review(KEY, AOL, unknown("Same@AOL.com", "other@aol.com"),
                T0.plusSeconds(30));

        assertThat(review.status().unknownRecipients()).isEqualTo(2);
        assertThat(review.status().isSuspected()).isFalse();
        assertThat(review.outcome().failure("Same@AOL.com").get().action()).isEqualTo(Action.SUPPRESS);
    }

    @Test
    void aRecipientCountsWithItsLatestAnswer() {
        oneByOne(addresses("gone", 0, 4), T0);
        guard.review(KEY, AOL, delivered("gone0@aol.com"), T0.plusSeconds(10));

        DirectoryOutageStatus status = guard.status(KEY, T0.plusSeconds(10));
        assertThat(status.unknownRecipients()).isEqualTo(3);
        assertThat(status.answeredRecipients()).isEqualTo(4);
    }

    @Test
    void repliesAboutTheMessageOrConnectionAreNotAnswersAboutRecipients() {
        guard.review(KEY, AOL, AttemptOutcome.builder().failed("a@aol.com", CONTENT).failed("b@aol.com", CONTENT).build(),
                T0);
        assertThat(guard.status(KEY, T0).answeredRecipients()).isZero();
    }

    @Test
    void theQuietPeriodEndsTheSuspicion() {
        oneByOne(addresses("real", 0, 5), T0);
        Instant surge = T0.plusSeconds(4);

        // Within the quiet period the old surge still counts, even once its answers left the window.
        DirectoryOutageGuard.Review during = guard.review(KEY, AOL, unknown("late@aol.com"),
                surge.plus(Duration.ofMinutes(29)));
        assertThat(during.status().isSuspected()).isTrue();
        assertThat(during.status().unknownRecipients()).isEqualTo(1);
        assertThat(during.outcome().failure("late@aol.com").get().action()).isEqualTo(Action.RETRY);

        DirectoryOutageGuard.Review after = guard.review(KEY, AOL, unknown("later@aol.com"),
                surge.plus(Duration.ofMinutes(30)));
        assertThat(after.ended()).isTrue();
        assertThat(after.status().isSuspected()).isFalse();
        assertThat(after.status().until()).contains(surge.plus(Duration.ofMinutes(30)));
        assertThat(after.outcome().failure("later@aol.com").get().action()).isEqualTo(Action.SUPPRESS);

        DirectoryOutageGuard.Review next = guard.review(KEY, AOL, unknown("latest@aol.com"),
                surge.plus(Duration.ofMinutes(31)));
        assertThat(next.ended()).isFalse();
    }

    @Test
    void anOngoingSurgeExtendsTheSuspicionAndANewOneAfterItsEndStartsAgain() {
        oneByOne(addresses("real", 0, 5), T0);
        // The receiver still answers unknown for everyone twenty minutes later: the quiet period starts again.
        DirectoryOutageGuard.Review ongoing = oneByOne(addresses("more", 0, 5), T0.plus(Duration.ofMinutes(20)));
        assertThat(ongoing.started()).isFalse();
        assertThat(ongoing.status().since()).contains(T0.plusSeconds(4));
        assertThat(ongoing.status().until()).contains(T0.plus(Duration.ofMinutes(50)).plusSeconds(4));

        // Long after it ended, a new surge is a new suspicion, told and lifted again; the old one's end is told first.
        Instant later = T0.plus(Duration.ofHours(3));
        for (int i = 0; i < 4; i++) {
            assertThat(guard.review(KEY, AOL, unknown("again" + i + "@aol.com"), later.plusSeconds(i)).ended())
                    .isEqualTo(i == 0);
        }
        DirectoryOutageGuard.Review again = guard.review(KEY, AOL, unknown("again4@aol.com"), later.plusSeconds(4));
        assertThat(again.ended()).isFalse();
        assertThat(again.started()).isTrue();
        assertThat(again.liftable()).hasSize(5);
        assertThat(again.status().since()).contains(T0.plus(Duration.ofHours(3)).plusSeconds(4));
    }

    @Test
    void anEndAndANewSurgeInOneAttemptAreBothTold() {
        oneByOne(addresses("real", 0, 5), T0);
        Instant later = T0.plus(Duration.ofHours(1));
        DirectoryOutageGuard.Review review = guard.review(KEY, AOL, unknown(addresses("next", 0, 5)), later);
        assertThat(review.ended()).isTrue();
        assertThat(review.started()).isTrue();
        assertThat(review.status().since()).contains(later);
        assertThat(review.deferred()).isEqualTo(5);
    }

    @Test
    void answersOlderThanTheWindowDoNotCount() {
        oneByOne(addresses("gone", 0, 4), T0);
        DirectoryOutageGuard.Review review = guard.review(KEY, AOL, unknown("gone9@aol.com"),
                T0.plus(Duration.ofMinutes(10)).plusSeconds(1));
        // gone0 and gone1 left the window (answered at T0 and T0+1s).
        assertThat(review.status().unknownRecipients()).isEqualTo(3);
        assertThat(review.status().isSuspected()).isFalse();
    }

    @Test
    void destinationsAreJudgedApart() {
        DestinationPolicy defaults = DestinationPolicy.builder("default").unknownRecipientGuard(SETTINGS).build();
        DestinationKey example = DestinationKey.of("example.org");
        DestinationKey other = DestinationKey.of("other.org");
        for (int i = 0; i < 5; i++) {
            guard.review(example, defaults, unknown("u" + i + "@example.org"), T0.plusSeconds(i));
        }
        assertThat(guard.status(example, T0.plusSeconds(5)).isSuspected()).isTrue();
        assertThat(guard.review(other, defaults, unknown("u@other.org"), T0.plusSeconds(6)).outcome()
                .failure("u@other.org").get().action()).isEqualTo(Action.SUPPRESS);
        assertThat(guard.all(T0.plusSeconds(6))).extracting(DirectoryOutageStatus::key)
                .containsExactly(example, other);
    }

    @Test
    void offBelievesEveryReply() {
        DestinationPolicy off = AOL.toBuilder().unknownRecipientGuard(UnknownRecipientGuard.OFF).build();
        DirectoryOutageGuard.Review review = null;
        for (int i = 0; i < 50; i++) {
            review = guard.review(KEY, off, unknown("u" + i + "@aol.com"), T0.plusSeconds(i));
        }
        assertThat(review.outcome().failure("u49@aol.com").get().action()).isEqualTo(Action.SUPPRESS);
        assertThat(guard.status(KEY, T0.plusSeconds(50))).isEqualTo(DirectoryOutageStatus.none(KEY));
    }

    @Test
    void quietDestinationsAreForgotten() {
        oneByOne(addresses("gone", 0, 2), T0);
        guard.review(DestinationKey.of("example.org"), AOL, delivered("a@example.org"), T0.plus(Duration.ofHours(1)));
        assertThat(guard.all(T0.plus(Duration.ofHours(1)))).extracting(DirectoryOutageStatus::key)
                .containsExactly(DestinationKey.of("example.org"));
    }

    @Test
    void defaultsAreSafe() {
        UnknownRecipientGuard d = UnknownRecipientGuard.DEFAULT;
        assertThat(d.isSurge(19, 19)).isFalse();
        assertThat(d.isSurge(20, 40)).isTrue();
        assertThat(d.isSurge(20, 41)).isFalse();
        assertThat(UnknownRecipientGuard.OFF.isSurge(1000, 1000)).isFalse();
        assertThat(d.toString()).isEqualTo("{window: 10m, minRecipients: 20, share: 0.5, quiet: 30m}");
    }
}
