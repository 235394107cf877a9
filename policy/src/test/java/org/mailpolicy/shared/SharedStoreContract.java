package org.mailpolicy.shared;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.state.Admission;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SentMessage;
import org.mailpolicy.suppression.SuppressionEntry;

/**
 * What two plugin instances (two James nodes) on one database must see of each other, run against
 * each database the shared store supports. Subclasses give a fresh, empty database per test.
 */
abstract class SharedStoreContract {
    static final Instant T0 = Instant.parse("2026-11-22T12:00:00Z");
    static final DestinationPolicy AOL = DestinationPolicy.builder("aol")
            .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4))).concurrency(2).build();
    static final Duration LEASE = Duration.ofMinutes(30);

    /** A fresh, empty database for this test. */
    abstract DataSource database();

    JdbcDestinationStateStore node(DataSource db) {
        return JdbcDestinationStateStore.open(db, Clock.fixed(T0, ZoneOffset.UTC), Duration.ofSeconds(10), LEASE);
    }

    @Test
    void aHoldStartedByOneNodeStopsTheOther() {
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        JdbcDestinationStateStore b = node(db);

        assertThat(a.admit(AOL, T0).isGranted()).isTrue();
        a.recordThrottle(AOL, "421 DYN:T1", Optional.empty(), T0);
        a.finished("aol", T0);

        Admission refused = b.admit(AOL, T0.plusSeconds(60));
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.notBefore()).contains(T0.plus(Duration.ofMinutes(15)));
        assertThat(refused.reason()).contains("421 DYN:T1");
        assertThat(b.get("aol").get().heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));

        assertThat(b.releaseHold("aol")).isTrue();
        assertThat(a.get("aol").get().heldUntil()).isEmpty();
        assertThat(a.admit(AOL, T0.plusSeconds(61)).isGranted()).isTrue();
        assertThat(b.releaseHold("aol")).isFalse();
        assertThat(b.releaseHold("nowhere")).isFalse();
    }

    @Test
    void concurrencyCountsTheWholeCluster() {
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        JdbcDestinationStateStore b = node(db);

        assertThat(a.admit(AOL, T0).isGranted()).isTrue();
        assertThat(b.admit(AOL, T0).isGranted()).isTrue();
        assertThat(a.admit(AOL, T0).reason()).contains("concurrency limit 2");
        assertThat(a.get("aol").get().inFlight()).isEqualTo(2);

        b.finished("aol", T0.plusSeconds(1));
        assertThat(a.admit(AOL, T0.plusSeconds(2)).isGranted()).isTrue();
    }

    @Test
    void slotsOfADeadNodeExpireAfterTheLease() {
        DataSource db = database();
        JdbcDestinationStateStore dead = node(db);
        JdbcDestinationStateStore alive = node(db);
        dead.admit(AOL, T0);
        dead.admit(AOL, T0);

        assertThat(alive.admit(AOL, T0.plusSeconds(60)).isGranted()).isFalse();
        assertThat(alive.admit(AOL, T0.plus(LEASE).plusSeconds(1)).isGranted()).isTrue();
    }

    @Test
    void rateLimitCountsTheWholeCluster() {
        DestinationPolicy limited = AOL.toBuilder().concurrency(10).rate(RateLimit.of(2, Duration.ofMinutes(1))).build();
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        JdbcDestinationStateStore b = node(db);

        assertThat(a.admit(limited, T0).isGranted()).isTrue();
        assertThat(b.admit(limited, T0.plusSeconds(10)).isGranted()).isTrue();
        Admission refused = a.admit(limited, T0.plusSeconds(20));
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.notBefore()).contains(T0.plusSeconds(60));
        assertThat(b.admit(limited, T0.plusSeconds(61)).isGranted()).isTrue();
    }

    @Test
    void oneProbeForTheClusterAfterAHold() {
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        JdbcDestinationStateStore b = node(db);
        a.recordThrottle(AOL, "421 DYN:T1", Optional.empty(), T0);
        Instant after = T0.plus(Duration.ofMinutes(16));

        Admission probe = a.admit(AOL, after);
        assertThat(probe.isProbe()).isTrue();
        assertThat(b.admit(AOL, after).reason()).contains("probe after hold in flight");

        a.recordSuccess(AOL, "250 OK", after.plusSeconds(5));
        a.finished("aol", after.plusSeconds(5));
        Admission next = b.admit(AOL, after.plusSeconds(6));
        assertThat(next.isGranted()).isTrue();
        assertThat(next.isProbe()).isFalse();
    }

    @Test
    void holdsGrowAcrossNodesAndLateThrottlesDoNotMultiplyThem() {
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        JdbcDestinationStateStore b = node(db);
        a.recordThrottle(AOL, "421 DYN:T1", Optional.empty(), T0);
        // A connection from node B that started before the hold gets its throttle now: no growth.
        DestinationState late = b.recordThrottle(AOL, "421 DYN:T1", Optional.empty(), T0.plusSeconds(5));
        assertThat(late.heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
        assertThat(late.consecutiveThrottles()).isEqualTo(1);

        Instant after = T0.plus(Duration.ofMinutes(16));
        b.admit(AOL, after);
        DestinationState grown = b.recordThrottle(AOL, "421 DYN:T1", Optional.empty(), after);
        assertThat(grown.currentHold()).isEqualTo(Duration.ofMinutes(30));
        assertThat(a.get("aol").get().heldUntil()).contains(after.plus(Duration.ofMinutes(30)));
    }

    @Test
    void behavesLikeTheInMemoryStoreOnOneNode() {
        DestinationStateStore memory = new InMemoryDestinationStateStore();
        DestinationStateStore shared = node(database());
        Instant t = T0;
        for (DestinationStateStore s : new DestinationStateStore[] {memory, shared}) {
            s.admit(AOL, t);
            s.recordFailure(AOL, "451 4.3.0 try later\r\nInjected: x", t);
            s.finished("aol", t);
            s.admit(AOL, t.plusSeconds(1));
            s.recordThrottle(AOL, "421 DYN:T1", Optional.of(Duration.ofMinutes(20)), t.plusSeconds(1));
            s.finished("aol", t.plusSeconds(1));
            s.admit(AOL, t.plus(Duration.ofMinutes(25)));
            s.recordFailure(AOL, "550 5.1.1 unknown", t.plus(Duration.ofMinutes(25)));
            s.finished("aol", t.plus(Duration.ofMinutes(25)));
            s.admit(AOL, t.plus(Duration.ofMinutes(26)));
            s.recordSuccess(AOL, "250 OK", t.plus(Duration.ofMinutes(26)));
        }
        assertThat(shared.get("aol")).isEqualTo(memory.get("aol"));
        assertThat(shared.all()).isEqualTo(memory.all());
    }

    @Test
    void suppressionsAndSentMessagesAreShared() {
        DataSource db = database();
        try (JdbcSuppressionList a = JdbcSuppressionList.open(db); JdbcSuppressionList b = JdbcSuppressionList.open(db);
             JdbcSentMessageLedger la = JdbcSentMessageLedger.open(db); JdbcSentMessageLedger lb = JdbcSentMessageLedger.open(db)) {
            assertThat(a.add(SuppressionEntry.of("bob@aol.com", T0, "userunknown", "550 MAILBOX NOT FOUND",
                    "aol.mailbox-not-found", SuppressionEntry.Source.LIVE_REPLY, Optional.empty()))).isTrue();
            assertThat(b.find("BOB@aol.com")).isPresent();
            assertThat(b.add(SuppressionEntry.of("bob@aol.com", T0.plusSeconds(1), "userunknown", "550", "r",
                    SuppressionEntry.Source.BOUNCE, Optional.empty()))).isFalse();
            assertThat(b.remove("bob@aol.com")).isTrue();
            assertThat(a.find("bob@aol.com")).isEmpty();

            la.record(SentMessage.of("<m1@example.com>", java.util.List.of("bob@aol.com"), T0));
            assertThat(lb.find("m1@example.com").get().wasSentTo("bob@aol.com")).isTrue();
        }
    }
}
