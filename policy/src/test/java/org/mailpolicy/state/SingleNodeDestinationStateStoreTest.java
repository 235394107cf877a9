package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.UUID;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * The single-node store decides as the others do (the contract), keeps admission out of the
 * database, and finds holds and pace again after a restart.
 */
class SingleNodeDestinationStateStoreTest {
    private static final Instant T0 = DestinationStateStoreContract.T0;
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol")
            .domains(ImmutableList.of("aol.com"))
            .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4)))
            .concurrency(4)
            .rate(RateLimit.of(120, Duration.ofMinutes(1)))
            .pacing(PacingSettings.DEFAULT)
            .build();
    private static final DestinationKey AOL_KEY = DestinationKey.of(AOL);
    private static final Clock CLOCK = Clock.fixed(T0, ZoneOffset.UTC);

    @Nested
    class Contract extends DestinationStateStoreContract {
        @Override
        protected DestinationStateStore newStore(Duration busyWait, Duration idleAfter) {
            JdbcConnectionPool h2 = JdbcConnectionPool.create("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                    "sa", "");
            JdbcDestinationStateStore durable = JdbcDestinationStateStore.on(Database.on(h2, "H2 in memory", true))
                    .clock(CLOCK).busyWait(busyWait).idleAfter(idleAfter).open();
            return SingleNodeDestinationStateStore.over(durable, CLOCK, busyWait, idleAfter);
        }
    }

    @Test
    void admissionsAndFinishedAttemptsNeverReachTheDatabase(@TempDir Path dir) throws Exception {
        Database db = Database.openH2(dir.resolve("state"));
        try {
            SingleNodeDestinationStateStore store = SingleNodeDestinationStateStore.over(JdbcDestinationStateStore.open(db), CLOCK);
            for (int i = 0; i < 50; i++) {
                Instant now = T0.plusSeconds(i);
                assertThat(store.admit(AOL_KEY, AOL, Optional.empty(), now).isGranted()).isTrue();
                store.finished(AOL_KEY, now);
            }
            assertThat(store.get(AOL_KEY).get().inFlight()).isZero();
            assertThat(rows(db, JdbcDestinationStateStore.STATE)).as("no outcome recorded: nothing to keep").isZero();
            assertThat(rows(db, JdbcDestinationStateStore.SLOTS)).isZero();
            assertThat(rows(db, JdbcDestinationStateStore.STARTS)).isZero();
        } finally {
            db.close();
        }
    }

    @Test
    void aHoldAndTheLearnedPaceSurviveARestartButTheAttemptsInFlightDoNot(@TempDir Path dir) {
        Path file = dir.resolve("state");
        DestinationState throttled;
        Database db = Database.openH2(file);
        try {
            SingleNodeDestinationStateStore store = SingleNodeDestinationStateStore.over(JdbcDestinationStateStore.open(db), CLOCK);
            assertThat(store.admit(AOL_KEY, AOL, Optional.empty(), T0).isGranted()).isTrue();
            store.recordThrottle(AOL_KEY, AOL, ThrottleEffect.FEWER_CONNECTIONS, "421 4.7.0 too many connections",
                    Optional.empty(), T0);
            throttled = store.recordThrottle(AOL_KEY, AOL, ThrottleEffect.HOLD_AND_SLOW, "421 4.7.1 : (DYN:T1)",
                    Optional.empty(), T0);
            assertThat(throttled.pace().get().recentSignals()).isEqualTo(2);
            assertThat(throttled.pace().get().rateSignals()).isEqualTo(1);
            assertThat(throttled.heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
            assertThat(throttled.inFlight()).isEqualTo(1);
        } finally {
            db.close();
        }

        Database reopened = Database.openH2(file);
        try {
            SingleNodeDestinationStateStore store = SingleNodeDestinationStateStore.over(
                    JdbcDestinationStateStore.open(reopened), CLOCK);
            DestinationState after = store.get(AOL_KEY).get();
            assertThat(after.heldUntil()).isEqualTo(throttled.heldUntil());
            assertThat(after.currentHold()).isEqualTo(throttled.currentHold());
            assertThat(after.consecutiveThrottles()).isEqualTo(1);
            assertThat(after.pace()).as("rate signals told apart from the others").isEqualTo(throttled.pace());
            assertThat(after.inFlight()).as("the attempts died with the process").isZero();
            assertThat(store.admit(AOL_KEY, AOL, Optional.empty(), T0.plusSeconds(60)).isGranted()).as("still held")
                    .isFalse();
        } finally {
            reopened.close();
        }
    }

    @Test
    void aHoldDecidedWithNanosecondsReadsBackTheSameAfterARestart(@TempDir Path dir) {
        Path file = dir.resolve("state");
        Instant now = T0.plusNanos(123_456_789);
        DestinationState held;
        Database db = Database.openH2(file);
        try {
            SingleNodeDestinationStateStore store = SingleNodeDestinationStateStore.over(JdbcDestinationStateStore.open(db), CLOCK);
            store.admit(AOL_KEY, AOL, Optional.empty(), now);
            held = store.recordThrottle(AOL_KEY, AOL, ThrottleEffect.HOLD, "421 4.7.1 : (DYN:T1)", Optional.empty(), now);
        } finally {
            db.close();
        }
        Database reopened = Database.openH2(file);
        try {
            DestinationState after = SingleNodeDestinationStateStore.over(JdbcDestinationStateStore.open(reopened), CLOCK)
                    .get(AOL_KEY).get();
            assertThat(after.heldUntil()).isEqualTo(held.heldUntil());
            assertThat(after.holdStartedAt()).isEqualTo(held.holdStartedAt());
        } finally {
            reopened.close();
        }
    }

    @Test
    void anOperatorsReleaseIsKeptToo(@TempDir Path dir) {
        Path file = dir.resolve("state");
        Database db = Database.openH2(file);
        try {
            SingleNodeDestinationStateStore store = SingleNodeDestinationStateStore.over(JdbcDestinationStateStore.open(db), CLOCK);
            store.admit(AOL_KEY, AOL, Optional.empty(), T0);
            store.recordThrottle(AOL_KEY, AOL, ThrottleEffect.HOLD, "421 4.7.1 : (DYN:T1)", Optional.empty(), T0);
            assertThat(store.releaseHold(AOL_KEY)).isTrue();
        } finally {
            db.close();
        }
        Database reopened = Database.openH2(file);
        try {
            SingleNodeDestinationStateStore store = SingleNodeDestinationStateStore.over(
                    JdbcDestinationStateStore.open(reopened), CLOCK);
            assertThat(store.get(AOL_KEY).get().heldUntil()).isEmpty();
        } finally {
            reopened.close();
        }
    }

    private static int rows(Database db, String table) {
        return db.withConnection("count " + table, c -> count(c, table));
    }

    private static int count(Connection c, String table) throws java.sql.SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
