package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * What every {@link DestinationStateStore} must do; the in-memory store and the SQL store (on H2,
 * as the embedded mode runs it) both run these tests by extending this class.
 */
public abstract class DestinationStateStoreContract {
    protected static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol")
            .domains(ImmutableList.of("aol.com"))
            .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4)))
            .concurrency(2)
            .pacing(PacingSettings.FIXED)
            .build();
    private static final String DYN_T1 = "421 4.7.1 : (DYN:T1)";

    private static final DestinationPolicy DEFAULT = DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME)
            .throttle(ThrottleHold.of(Duration.ofMinutes(10), 2.0, Duration.ofHours(1)))
            .concurrency(1)
            .pacing(PacingSettings.FIXED)
            .build();
    private static final DestinationKey AOL_KEY = DestinationKey.of(AOL);
    private static final DestinationKey EXAMPLE_ORG = DestinationKey.forDelivery(DEFAULT, "Example.ORG", false);
    private static final DestinationKey EXAMPLE_NET = DestinationKey.forDelivery(DEFAULT, "example.net", false);
    private static final Duration IDLE = Duration.ofMinutes(10);

    /**
     * A fresh, empty store whose refusals for concurrency or a running probe say "come back in
     * {@code busyWait}", and which forgets keys idle for {@code idleAfter}. A store with a clock
     * (for leases) gets one fixed at {@link #T0}, the start of every test's time line.
     */
    protected abstract DestinationStateStore newStore(Duration busyWait, Duration idleAfter);

    private final DestinationStateStore store = newStore(Duration.ofSeconds(10), IDLE);

    @Test
    void freshDestinationIsAdmittedUpToItsConcurrency() {
        assertThat(store.admit(AOL, T0)).isEqualTo(Admission.granted(2));
        assertThat(store.admit(AOL, T0).isGranted()).isTrue();
        Admission third = store.admit(AOL, T0);
        assertThat(third.isGranted()).isFalse();
        assertThat(third.notBefore()).contains(T0.plusSeconds(10));
        assertThat(third.reason()).contains("concurrency limit 2");
        assertThat(store.get("aol").get().inFlight()).isEqualTo(2);

        store.finished("aol", T0.plusSeconds(1));
        assertThat(store.get("aol").get().inFlight()).isEqualTo(1);
        assertThat(store.admit(AOL, T0.plusSeconds(1)).isGranted()).isTrue();
    }

    @Test
    void throttleHoldsEveryoneUntilItEnds() {
        grantAndThrottle(T0);
        DestinationState s = store.get("aol").get();
        assertThat(s.heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
        assertThat(s.currentHold()).isEqualTo(Duration.ofMinutes(15));
        assertThat(s.consecutiveThrottles()).isEqualTo(1);
        assertThat(s.lastReply()).contains(DYN_T1);
        assertThat(s.inFlight()).isZero();

        Admission a = store.admit(AOL, T0.plus(Duration.ofMinutes(14)));
        assertThat(a.isGranted()).isFalse();
        assertThat(a.notBefore()).contains(T0.plus(Duration.ofMinutes(15)));
        assertThat(a.reason()).contains("held").contains("DYN:T1");
    }

    @Test
    void holdGrowsOnRepeatedThrottlingUpToMaxAndShrinksOnSuccess() {
        Instant t = T0;
        List<Duration> holds = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Admission a = store.admit(AOL, t);
            assertThat(a.isGranted()).as("attempt %s at %s", i, t).isTrue();
            assertThat(a.isProbe()).isEqualTo(i > 0);
            DestinationState s = store.recordThrottle(AOL, DYN_T1, Optional.empty(), t);
            store.finished("aol", t);
            holds.add(s.currentHold());
            t = s.heldUntil().get();
        }
        assertThat(holds).containsExactly(Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofHours(1),
                Duration.ofHours(2), Duration.ofHours(4), Duration.ofHours(4));
        assertThat(store.get("aol").get().consecutiveThrottles()).isEqualTo(6);

        // The probe after the last hold succeeds: the hold ends and shrinks.
        Admission probe = store.admit(AOL, t);
        assertThat(probe.isProbe()).isTrue();
        DestinationState s = store.recordSuccess(AOL, "250 OK", t);
        store.finished("aol", t);
        assertThat(s.heldUntil()).isEmpty();
        assertThat(s.currentHold()).isEqualTo(Duration.ofHours(2));
        assertThat(s.consecutiveThrottles()).isZero();
        // Back to normal: two at once, no probe.
        assertThat(store.admit(AOL, t)).matches(a -> a.isGranted() && !a.isProbe(), "a grant, not a probe");
        assertThat(store.admit(AOL, t)).matches(a -> a.isGranted() && !a.isProbe(), "a grant, not a probe");
        // The next throttle starts from the shrunk hold, times growth.
        store.finished("aol", t);
        store.finished("aol", t);
        assertThat(store.recordThrottle(AOL, DYN_T1, Optional.empty(), t).currentHold()).isEqualTo(Duration.ofHours(4));
    }

    @Test
    void successesShrinkTheHoldBackToNothing() {
        grantAndThrottle(T0);
        Instant t = T0.plus(Duration.ofMinutes(15));
        store.admit(AOL, t);
        DestinationState s = store.recordSuccess(AOL, "250 OK", t);
        assertThat(s.currentHold()).isZero();
        assertThat(store.recordThrottle(AOL, DYN_T1, Optional.empty(), t).currentHold())
                .isEqualTo(Duration.ofMinutes(15));
    }

    @Test
    void oneProbeAtATimeAfterAHold() {
        grantAndThrottle(T0);
        Instant end = T0.plus(Duration.ofMinutes(15));
        Admission probe = store.admit(AOL, end);
        assertThat(probe.isGranted()).isTrue();
        assertThat(probe.isProbe()).isTrue();
        assertThat(store.get("aol").get().probing()).isTrue();

        Admission other = store.admit(AOL, end.plusSeconds(1));
        assertThat(other.isGranted()).isFalse();
        assertThat(other.notBefore()).contains(end.plusSeconds(11));
        assertThat(other.reason()).contains("probe");

        // The probe is throttled again: a longer hold, nobody admitted.
        store.recordThrottle(AOL, DYN_T1, Optional.empty(), end.plusSeconds(2));
        store.finished("aol", end.plusSeconds(2));
        assertThat(store.get("aol").get().heldUntil()).contains(end.plusSeconds(2).plus(Duration.ofMinutes(30)));
        assertThat(store.admit(AOL, end.plusSeconds(3)).isGranted()).isFalse();
    }

    @Test
    void aProbeThatFinishesUnrecordedLetsTheNextOneProbe() {
        grantAndThrottle(T0);
        Instant end = T0.plus(Duration.ofMinutes(15));
        assertThat(store.admit(AOL, end).isProbe()).isTrue();
        store.finished("aol", end.plusSeconds(1));
        assertThat(store.get("aol").get().probing()).isFalse();
        assertThat(store.get("aol").get().heldUntil()).isPresent();
        assertThat(store.admit(AOL, end.plusSeconds(2)).isProbe()).isTrue();
    }

    @Test
    void aProbeAnsweredWithoutThrottlingEndsTheHold() {
        grantAndThrottle(T0);
        Instant end = T0.plus(Duration.ofMinutes(15));
        store.admit(AOL, end);
        DestinationState s = store.recordFailure(AOL, "550 MAILBOX NOT FOUND", end);
        store.finished("aol", end);
        assertThat(s.heldUntil()).isEmpty();
        assertThat(s.probing()).isFalse();
        assertThat(s.lastReply()).contains("550 MAILBOX NOT FOUND");
        assertThat(store.admit(AOL, end)).matches(a -> a.isGranted() && !a.isProbe(), "a grant, not a probe");
    }

    @Test
    void simultaneousThrottlesDoNotMultiplyTheHold() {
        store.admit(AOL, T0);
        store.admit(AOL, T0);
        store.recordThrottle(AOL, DYN_T1, Optional.empty(), T0);
        DestinationState s = store.recordThrottle(AOL, DYN_T1, Optional.empty(), T0.plusSeconds(1));
        assertThat(s.currentHold()).isEqualTo(Duration.ofMinutes(15));
        assertThat(s.consecutiveThrottles()).isEqualTo(1);
        assertThat(s.heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
        assertThat(s.attempts()).isEqualTo(2);
        // A late success from before the hold does not end it.
        DestinationState after = store.recordSuccess(AOL, "250 OK", T0.plusSeconds(2));
        assertThat(after.heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
    }

    @Test
    void hintLengthensTheHold() {
        store.admit(AOL, T0);
        DestinationState s = store.recordThrottle(AOL, "554 RLY:B1", Optional.of(Duration.ofHours(1)), T0);
        assertThat(s.heldUntil()).contains(T0.plus(Duration.ofHours(1)));
        assertThat(s.currentHold()).isEqualTo(Duration.ofHours(1));
        // A hint during a hold extends it when longer.
        s = store.recordThrottle(AOL, "554 RLY:B1", Optional.of(Duration.ofHours(3)), T0.plusSeconds(5));
        assertThat(s.heldUntil()).contains(T0.plusSeconds(5).plus(Duration.ofHours(3)));
    }

    @Test
    void theOperatorsMaximumBoundsARulesHint() {
        store.admit(AOL, T0);
        // AOL's policy here holds at most 4 h; a rule asking for 24 h gets 4 h.
        DestinationState s = store.recordThrottle(AOL, "554 RLY:B1", Optional.of(Duration.ofHours(24)), T0);
        assertThat(s.currentHold()).isEqualTo(Duration.ofHours(4));
        assertThat(s.heldUntil()).contains(T0.plus(Duration.ofHours(4)));
        s = store.recordThrottle(AOL, "554 RLY:B1", Optional.of(Duration.ofHours(24)), T0.plusSeconds(5));
        assertThat(s.heldUntil()).contains(T0.plusSeconds(5).plus(Duration.ofHours(4)));
    }

    @Test
    void rateLimitSpacesStartsAndReturnsTheInstantTheNextMayStart() {
        DestinationPolicy limited = AOL.toBuilder().concurrency(100).rate(RateLimit.of(3, Duration.ofMinutes(1))).build();
        assertThat(store.admit(limited, T0).isGranted()).isTrue();
        // 3 a minute is one every 20 s, never three at once.
        Admission tooSoon = store.admit(limited, T0.plusSeconds(10));
        assertThat(tooSoon.isGranted()).isFalse();
        assertThat(tooSoon.notBefore()).contains(T0.plusSeconds(20));
        assertThat(tooSoon.isReservation()).isTrue();
        assertThat(tooSoon.reason()).contains("spaced evenly at 3/1m");
        assertThat(store.admit(DestinationKey.of(limited), limited, tooSoon.notBefore(), T0.plusSeconds(20)).isGranted())
                .as("back at its place").isTrue();
        assertThat(store.admit(limited, T0.plusSeconds(40)).isGranted()).isTrue();
        // Three within the minute: the next waits for the first to leave it.
        Admission fourth = store.admit(limited, T0.plusSeconds(50));
        assertThat(fourth.isGranted()).isFalse();
        assertThat(fourth.notBefore()).contains(T0.plusSeconds(60));
        assertThat(fourth.reason()).contains("rate limit 3/1m");
        // A second caller refused meanwhile queues a pace behind the first, not at the same instant.
        assertThat(store.admit(limited, T0.plusSeconds(59)).notBefore()).contains(T0.plusSeconds(80));
        // Refusals do not take a place in the window: the first comes back at 60 and goes.
        assertThat(store.admit(DestinationKey.of(limited), limited, fourth.notBefore(), T0.plusSeconds(60)).isGranted())
                .isTrue();
        // Starts at 20, 40 and 60 fill the minute to 80, which is also 60 + 20; the caller given 80 at 59 is
        // still in line there, so this one comes a pace after it.
        assertThat(store.admit(limited, T0.plusSeconds(61)).notBefore()).contains(T0.plusSeconds(100));
    }

    @Test
    void attemptsRefusedTogetherComeBackOneAPaceApart() {
        DestinationPolicy limited = AOL.toBuilder().concurrency(1).rate(RateLimit.of(6, Duration.ofMinutes(1))).build();
        assertThat(store.admit(limited, T0).isGranted()).isTrue();
        // Ten mails refused in the same second: one every 10 s after the running attempt, not all at once.
        for (int i = 0; i < 10; i++) {
            assertThat(store.admit(limited, T0.plusMillis(100 + i)).notBefore()).as("waiter %s", i)
                    .contains(T0.plusSeconds(10L * (i + 1)));
        }
        store.finished("aol", T0.plusSeconds(1));
        assertThat(store.admit(limited, T0.plusSeconds(10)).isReservation())
                .as("without its place, a caller at 10 s queues behind the ten").isTrue();
        assertThat(store.admit(DestinationKey.of(limited), limited, Optional.of(T0.plusSeconds(10)), T0.plusSeconds(10))
                .isGranted()).as("the first waiter, back at its place").isTrue();
        // Once the line is over, a new refusal starts from the pace again.
        store.finished("aol", T0.plusSeconds(11));
        assertThat(store.admit(limited, T0.plusSeconds(200)).isGranted()).isTrue();
        assertThat(store.admit(limited, T0.plusSeconds(201)).notBefore()).contains(T0.plusSeconds(210));
    }

    @Test
    void theLineGivesPlacesOnlyAShortWayAheadSoAGrowingPaceIsNotFixedByOldPlaces() {
        DestinationPolicy limited = AOL.toBuilder().concurrency(100).rate(RateLimit.of(600, Duration.ofMinutes(1))).build();
        assertThat(store.admit(limited, T0).isGranted()).isTrue();
        // 600 a minute: a place every 100 ms; twenty places ahead, the line is full for 2 s.
        Instant last = null;
        for (int i = 1; i <= 20; i++) {
            Admission a = store.admit(limited, T0);
            assertThat(a.isReservation()).as("place %s", i).isTrue();
            assertThat(a.notBefore()).contains(T0.plusMillis(100L * i));
            last = a.notBefore().get();
        }
        Admission beyond = store.admit(limited, T0);
        assertThat(beyond.isReservation()).as("no place that far ahead").isFalse();
        assertThat(beyond.notBefore()).as("back when the line has moved").contains(last.plusMillis(100));
    }

    @Test
    void inSlowStartTheLineEndsWhereThePaceDoublesSoOldPlacesDoNotKeepItAtHalfSpeed() {
        // Starts at half of 120 a minute (one a second) and doubles 2 s after its last change.
        DestinationPolicy slowStart = PACED.toBuilder().pacing(PacingSettings.of(true, 0.5, 0.5, 0.1,
                Duration.ofSeconds(2), Duration.ofMinutes(5), Duration.ofSeconds(30))).build();
        assertThat(store.admit(slowStart, T0).isGranted()).isTrue();
        Admission first = store.admit(slowStart, T0);
        assertThat(first.isReservation()).isTrue();
        assertThat(first.notBefore()).contains(T0.plusSeconds(1));
        Admission second = store.admit(slowStart, T0);
        assertThat(second.isReservation()).as("at the doubling").isTrue();
        assertThat(second.notBefore()).contains(T0.plusSeconds(2));
        Admission third = store.admit(slowStart, T0);
        assertThat(third.isReservation()).as("no place past the doubling at today's pace").isFalse();
        assertThat(third.notBefore()).as("back when the line is used up").contains(T0.plusSeconds(3));

        // The pace doubles with a success at 2 s: from then on places are half a second apart.
        store.recordSuccess(slowStart, "250 ok", T0.plusSeconds(2));
        store.finished("paced", T0.plusSeconds(2));
        assertThat(store.admit(DestinationKey.of(slowStart), slowStart, first.notBefore(), T0.plusSeconds(2)).isGranted())
                .isTrue();
        assertThat(store.admit(DestinationKey.of(slowStart), slowStart, second.notBefore(), T0.plusSeconds(2)).isGranted())
                .isTrue();
        // The last place was given at the old pace (the next free one a second after it); past it, the new pace.
        Admission after = store.admit(slowStart, T0.plusSeconds(2));
        assertThat(after.isReservation()).isTrue();
        assertThat(after.notBefore()).contains(T0.plusSeconds(3));
        assertThat(store.admit(slowStart, T0.plusSeconds(2)).notBefore()).contains(T0.plusMillis(3500));
    }

    @Test
    void anOutcomeWithoutReplyTextKeepsTheLastReply() {
        // The two stores once differed here: the memory store cleared the reply, the SQL one kept it.
        store.admit(AOL, T0);
        store.recordFailure(AOL, "451 4.3.0 try later", T0);
        store.finished("aol", T0);
        store.admit(AOL, T0.plusSeconds(1));
        DestinationState s = store.recordFailure(AOL, null, T0.plusSeconds(1));
        store.finished("aol", T0.plusSeconds(1));
        assertThat(s.lastReply()).contains("451 4.3.0 try later");
        assertThat(s.attempts()).isEqualTo(2);
        assertThat(store.get("aol").get().lastReply()).contains("451 4.3.0 try later");
    }

    /** Adaptive, starting at its ceilings: 120 a minute (one every 0.5 s) over 4 connections. */
    private static final DestinationPolicy PACED = DestinationPolicy.builder("paced")
            .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4)))
            .concurrency(4).rate(RateLimit.of(120, Duration.ofMinutes(1)))
            .pacing(PacingSettings.of(true, 1.0, 0.5, 0.1, Duration.ofSeconds(5), Duration.ofMinutes(5),
                    Duration.ofSeconds(30)))
            .build();

    @Test
    void aRateSignalCutsTheRateAndTheProbeWaitsUntilThePeriodHasRoomAtTheNewRate() {
        Instant t = T0;
        for (int i = 0; i < 60; i++) {
            assertThat(store.admit(PACED, t).isGranted()).as("start %s", i).isTrue();
            store.recordSuccess(PACED, "250 ok", t);
            store.finished("paced", t);
            t = t.plusMillis(500);
        }
        assertThat(store.admit(PACED, t).isGranted()).isTrue();
        DestinationState s = store.recordThrottle(DestinationKey.of(PACED), PACED, ThrottleEffect.SLOW,
                "450 4.7.1 Error: too much mail from 192.0.2.1", Optional.empty(), t);
        store.finished("paced", t);
        // 61 starts in the minute, the last refused: the receiver takes about 60; 90 % of 61 is 54.9.
        assertThat(s.pace().get().effectiveRate(PACED)).isEqualTo(0.9 * 61);
        assertThat(s.isHeldAt(t)).as("a rate signal does not hold").isFalse();
        // The next attempt is a probe, when the minute holds fewer than 54 starts: the 8th oldest leaves.
        Admission wait = store.admit(PACED, t.plusSeconds(1));
        assertThat(wait.isGranted()).isFalse();
        assertThat(wait.notBefore()).contains(T0.plusMillis(3500).plusSeconds(60));
        assertThat(wait.reason()).contains("rate limit 54.9/1m (paced down from 120/1m)");
        assertThat(store.admit(DestinationKey.of(PACED), PACED, wait.notBefore(), T0.plusMillis(3500).plusSeconds(60))
                .isProbe()).isTrue();
    }

    @Test
    void aConnectionSignalLowersTheConcurrencyWithoutHolding() {
        DestinationPolicy unlimitedRate = PACED.toBuilder().rate(null).build();
        for (int i = 0; i < 3; i++) {
            assertThat(store.admit(unlimitedRate, T0).isGranted()).isTrue();
        }
        DestinationState s = store.recordThrottle(DestinationKey.of(unlimitedRate), unlimitedRate,
                ThrottleEffect.FEWER_CONNECTIONS, "421 4.7.0 Error: too many connections from 192.0.2.1",
                Optional.empty(), T0);
        assertThat(s.isHeldAt(T0)).isFalse();
        assertThat(s.heldUntil()).isEmpty();
        assertThat(s.pace().get().effectiveConcurrency(unlimitedRate)).isEqualTo(2);
        for (int i = 0; i < 3; i++) {
            store.finished("paced", T0);
        }
        // A grant carries the effective concurrency: the bound on connections open, idle ones included.
        assertThat(store.admit(unlimitedRate, T0.plusSeconds(1))).isEqualTo(Admission.granted(2));
        assertThat(store.admit(unlimitedRate, T0.plusSeconds(1))).isEqualTo(Admission.granted(2));
        assertThat(store.admit(unlimitedRate, T0.plusSeconds(1)).reason()).contains("concurrency limit 2 reached");
    }

    @Test
    void aConnectionSignalAtOneConnectionHolds() {
        DestinationPolicy one = PACED.toBuilder().rate(null).concurrency(1).build();
        assertThat(store.admit(one, T0).isGranted()).isTrue();
        DestinationState s = store.recordThrottle(DestinationKey.of(one), one, ThrottleEffect.FEWER_CONNECTIONS,
                "421 4.7.0 Error: too many connections from 192.0.2.1", Optional.empty(), T0);
        assertThat(s.heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
    }

    @Test
    void operatorReleasesAHold() {
        assertThat(store.releaseHold("aol")).isFalse();
        grantAndThrottle(T0);
        assertThat(store.releaseHold("aol")).isTrue();
        assertThat(store.admit(AOL, T0.plusSeconds(1))).matches(a -> a.isGranted() && !a.isProbe(), "a grant, not a probe");
        assertThat(store.releaseHold("aol")).isFalse();
    }

    @Test
    void recordsAttemptsAndSanitisesReplies() {
        // Remote text reaches logs and WebAdmin: no control characters.
        store.admit(AOL, T0);
        store.recordFailure(AOL, "451 try\r\nagain\u0000", T0);
        DestinationState s = store.get("aol").get();
        assertThat(s.attempts()).isEqualTo(1);
        assertThat(s.lastAttemptAt()).contains(T0);
        assertThat(s.lastReply()).contains("451 try  again");
        DestinationPolicy other = DestinationPolicy.builder("yahoo").domains(ImmutableList.of("yahoo.com")).build();
        store.admit(other, T0);
        assertThat(store.all()).extracting(DestinationState::destination).containsExactly("aol", "yahoo");
        assertThat(store.get("gmail")).isEmpty();
    }

    @Test
    void concurrentAdmitsNeverExceedTheLimit() throws Exception {
        DestinationPolicy p = AOL.toBuilder().concurrency(5).build();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int th = 0; th < 8; th++) {
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 500; i++) {
                    if (store.admit(p, T0).isGranted()) {
                        int now = inFlight.incrementAndGet();
                        maxSeen.accumulateAndGet(now, Math::max);
                        granted.incrementAndGet();
                        inFlight.decrementAndGet();
                        store.finished("aol", T0);
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(maxSeen.get()).isBetween(1, 5);
        assertThat(granted.get()).isPositive();
        assertThat(store.get("aol").get().inFlight()).isZero();
    }

    // ---- keys -------------------------------------------------------------------------------------

    @Test
    void eachKeyOfTheDefaultHasItsOwnHoldAndConcurrency() {
        assertThat(EXAMPLE_ORG.asString()).isEqualTo("example.org");
        assertThat(store.admit(EXAMPLE_ORG, DEFAULT, T0).isGranted()).isTrue();
        // The default's concurrency (1) is per key: another domain is not refused.
        assertThat(store.admit(EXAMPLE_ORG, DEFAULT, T0).reason()).contains("example.org").contains("concurrency limit 1");
        assertThat(store.admit(EXAMPLE_NET, DEFAULT, T0).isGranted()).isTrue();
        store.recordThrottle(EXAMPLE_ORG, DEFAULT, "421 4.7.0 slow down", Optional.empty(), T0);
        store.finished(EXAMPLE_ORG, T0);
        store.recordSuccess(EXAMPLE_NET, DEFAULT, "250 OK", T0);
        store.finished(EXAMPLE_NET, T0);

        Admission held = store.admit(EXAMPLE_ORG, DEFAULT, T0.plusSeconds(60));
        assertThat(held.isGranted()).isFalse();
        assertThat(held.reason()).contains("destination example.org held until");
        assertThat(store.admit(EXAMPLE_NET, DEFAULT, T0.plusSeconds(60)).isGranted()).isTrue();
        assertThat(store.get("EXAMPLE.org").get().heldUntil()).contains(T0.plus(Duration.ofMinutes(10)));
        assertThat(store.get(EXAMPLE_NET).get().heldUntil()).isEmpty();
        assertThat(store.all()).extracting(DestinationState::destination).containsExactly("example.net", "example.org");

        // An operator releases the hold of one domain by its name.
        assertThat(store.releaseHold("example.org")).isTrue();
        assertThat(store.admit(EXAMPLE_ORG, DEFAULT, T0.plusSeconds(61)).isGranted()).isTrue();
    }

    @Test
    void theDefaultDestinationHasNoSingleKey() {
        assertThatThrownBy(() -> store.admit(DEFAULT, T0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("per recipient domain");
        assertThat(store.all()).isEmpty();
    }

    // ---- idle keys are forgotten --------------------------------------------------------------------

    @Test
    void anIdleKeyIsForgottenAndComesBackFresh() {
        store.admit(EXAMPLE_ORG, DEFAULT, T0);
        store.recordFailure(EXAMPLE_ORG, DEFAULT, "451 4.3.0 later", T0);
        store.finished(EXAMPLE_ORG, T0);
        // Activity on another key is what sweeps (at most once a minute).
        touch(EXAMPLE_NET, T0.plus(IDLE).minusSeconds(1));
        assertThat(store.get(EXAMPLE_ORG)).as("idle for less than the idle period").isPresent();

        touch(EXAMPLE_NET, T0.plus(IDLE).plusSeconds(60));
        assertThat(store.get(EXAMPLE_ORG)).as("idle for the idle period").isEmpty();
        assertThat(store.all()).extracting(DestinationState::destination).containsExactly("example.net");

        Instant later = T0.plus(IDLE).plusSeconds(61);
        assertThat(store.admit(EXAMPLE_ORG, DEFAULT, later)).matches(a -> a.isGranted() && !a.isProbe(), "a grant, not a probe");
        assertThat(store.get(EXAMPLE_ORG).get())
                .isEqualTo(DestinationState.builder("example.org").inFlight(1).lastActivity(Optional.of(later))
                        .pace(Optional.of(Pace.initial(DEFAULT, later))).build());
    }

    @Test
    void aHeldKeyIsKeptUntilItsHoldHasBeenOverForTheIdlePeriod() {
        grantAndThrottle(AOL_KEY, AOL, T0); // held 15 minutes
        Instant holdEnd = T0.plus(Duration.ofMinutes(15));
        touch(EXAMPLE_NET, holdEnd.minusSeconds(1));
        assertThat(store.get(AOL_KEY)).isPresent();
        touch(EXAMPLE_NET, holdEnd.plus(IDLE).minusSeconds(1));
        assertThat(store.get(AOL_KEY)).as("hold over, but not for the idle period").isPresent();
        touch(EXAMPLE_NET, holdEnd.plus(IDLE).plusSeconds(60));
        assertThat(store.get(AOL_KEY)).isEmpty();
    }

    @Test
    void aKeyWithAnAttemptInFlightOrAProbeIsNotForgotten() {
        assertThat(store.admit(EXAMPLE_ORG, DEFAULT, T0).isGranted()).isTrue(); // never finished
        grantAndThrottle(AOL_KEY, AOL, T0);
        Instant holdEnd = T0.plus(Duration.ofMinutes(15));
        assertThat(store.admit(AOL_KEY, AOL, holdEnd).isProbe()).isTrue(); // the probe, still running

        touch(EXAMPLE_NET, holdEnd.plus(IDLE).plusSeconds(60));

        assertThat(store.get(EXAMPLE_ORG).get().inFlight()).isEqualTo(1);
        assertThat(store.get(AOL_KEY).get().probing()).isTrue();
    }

    @Test
    void aKeyIsNotForgottenWhileItsRateLimitWindowIsOpen() {
        DestinationPolicy limited = DEFAULT.toBuilder().concurrency(10).rate(RateLimit.of(2, Duration.ofHours(1))).build();
        assertThat(store.admit(EXAMPLE_ORG, limited, T0).isGranted()).isTrue();
        store.finished(EXAMPLE_ORG, T0);
        // 2 an hour: the second 30 minutes later, so both are in the hour until T0 + 1 h.
        Instant second = T0.plus(Duration.ofMinutes(30));
        assertThat(store.admit(EXAMPLE_ORG, limited, second).isGranted()).isTrue();
        store.finished(EXAMPLE_ORG, second);

        touch(EXAMPLE_NET, second.plus(IDLE).plusSeconds(60));
        // Still remembered: forgetting it would let a third attempt through inside the hour.
        Admission third = store.admit(EXAMPLE_ORG, limited, second.plus(IDLE).plusSeconds(61));
        assertThat(third.isGranted()).isFalse();
        assertThat(third.notBefore()).contains(T0.plus(Duration.ofHours(1)));

        touch(EXAMPLE_NET, second.plus(Duration.ofHours(1)).plus(IDLE).plusSeconds(120));
        assertThat(store.get(EXAMPLE_ORG)).isEmpty();
    }

    @Test
    void manyDomainsComeAndGoWithoutTheStoreGrowing() {
        Instant t = T0;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 200; i++) {
                DestinationKey k = DestinationKey.of("d" + round + "-" + i + ".example");
                store.admit(k, DEFAULT, t);
                store.recordSuccess(k, DEFAULT, "250 OK", t);
                store.finished(k, t);
            }
            t = t.plus(IDLE).plusSeconds(61);
        }
        touch(EXAMPLE_NET, t);
        assertThat(store.all()).extracting(DestinationState::destination).containsExactly("example.net");
    }

    /** An attempt to {@code key} at {@code t} that succeeds: activity, which also runs a due sweep. */
    private void touch(DestinationKey key, Instant t) {
        assertThat(store.admit(key, DEFAULT, t).isGranted()).isTrue();
        store.recordSuccess(key, DEFAULT, "250 OK", t);
        store.finished(key, t);
    }

    private void grantAndThrottle(DestinationKey key, DestinationPolicy policy, Instant t) {
        assertThat(store.admit(key, policy, t).isGranted()).isTrue();
        store.recordThrottle(key, policy, DYN_T1, Optional.empty(), t);
        store.finished(key, t);
    }

    private void grantAndThrottle(Instant t) {
        assertThat(store.admit(AOL, t).isGranted()).isTrue();
        store.recordThrottle(AOL, DYN_T1, Optional.empty(), t);
        store.finished("aol", t);
    }
}
