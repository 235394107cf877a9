package org.mailpolicy.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.Egress;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.state.Admission;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.state.JdbcDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SentMessage;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionExpiry;

/**
 * What two plugin instances (two James nodes) on one database must see of each other, run against
 * each database the shared store supports. Subclasses give a fresh, empty database per test.
 */
abstract class SharedStoreContract {
    static final Instant T0 = Instant.parse("2026-11-22T12:00:00Z");
    static final DestinationPolicy AOL = DestinationPolicy.builder("aol")
            .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4))).concurrency(2)
            .pacing(PacingSettings.FIXED).build();
    static final Duration LEASE = Duration.ofMinutes(30);

    /** A fresh, empty database for this test. */
    abstract DataSource database();

    /**
     * Whether a node sees another node's add at its next look-up (it reads the table each time), rather
     * than within its index's next read of the feed (PostgreSQL).
     */
    boolean addsSeenAtOnce() {
        return true;
    }

    /** Waits until {@code list} finds {@code address}: at once, or within the feed's reads. */
    void seenBy(JdbcSuppressionList list, String address) {
        long deadline = System.nanoTime() + (addsSeenAtOnce() ? 0 : Duration.ofSeconds(10).toNanos());
        while (!list.find(address).isPresent()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(address + " is not seen by the other node"
                        + (addsSeenAtOnce() ? " at its next look-up" : " within 10 s"));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    JdbcDestinationStateStore node(DataSource db) {
        return JdbcDestinationStateStore.on(Database.on(db, "test database")).clock(Clock.fixed(T0, ZoneOffset.UTC))
                .busyWait(Duration.ofSeconds(10)).leaseTimeout(LEASE).open();
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
        Admission tooSoon = b.admit(limited, T0.plusSeconds(10));
        assertThat(tooSoon.isGranted()).isFalse();
        assertThat(tooSoon.notBefore()).contains(T0.plusSeconds(30));
        // Its place in line, given by one node, is honoured by the other.
        assertThat(a.admit(DestinationKey.of(limited), limited, tooSoon.notBefore(), T0.plusSeconds(30)).isGranted())
                .isTrue();
        Admission refused = a.admit(limited, T0.plusSeconds(40));
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.notBefore()).contains(T0.plusSeconds(60));
        assertThat(b.admit(DestinationKey.of(limited), limited, refused.notBefore(), T0.plusSeconds(61)).isGranted())
                .isTrue();
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

    static final DestinationPolicy DEFAULT = DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME)
            .throttle(ThrottleHold.of(Duration.ofMinutes(10), 2.0, Duration.ofHours(1))).concurrency(1).build();

    @Test
    void unlistedDomainsAreHeldOneByOneAcrossTheCluster() {
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        JdbcDestinationStateStore b = node(db);
        DestinationKey org = DestinationKey.forDelivery(DEFAULT, "example.org", false);
        DestinationKey net = DestinationKey.forDelivery(DEFAULT, "example.net", false);

        assertThat(a.admit(org, DEFAULT, T0).isGranted()).isTrue();
        a.recordThrottle(org, DEFAULT, "421 4.7.0 try later", Optional.empty(), T0);
        a.finished(org, T0);

        assertThat(b.admit(org, DEFAULT, T0.plusSeconds(1)).reason()).contains("example.org held until");
        assertThat(b.admit(net, DEFAULT, T0.plusSeconds(1)).isGranted()).isTrue();
        // The default's concurrency (1) counts per domain, cluster-wide.
        assertThat(a.admit(net, DEFAULT, T0.plusSeconds(2)).reason()).contains("concurrency limit 1");
        assertThat(a.all()).extracting(DestinationState::destination).containsExactly("example.net", "example.org");
        assertThat(b.releaseHold("example.org")).isTrue();
        assertThat(a.admit(org, DEFAULT, T0.plusSeconds(3)).isGranted()).isTrue();
    }

    @Test
    void idleRowsExpiredLeasesAndOldStartsAreDeleted() throws Exception {
        DataSource db = database();
        JdbcDestinationStateStore dead = node(db);
        JdbcDestinationStateStore alive = node(db);
        DestinationPolicy limited = DEFAULT.toBuilder().rate(RateLimit.of(5, Duration.ofMinutes(1))).build();
        for (int i = 0; i < 50; i++) {
            DestinationKey k = DestinationKey.of("d" + i + ".example");
            alive.admit(k, limited, T0);
            alive.recordSuccess(k, limited, "250 OK", T0);
            alive.finished(k, T0);
        }
        // A node dies in the middle of an attempt to a domain nobody sends to again.
        dead.admit(DestinationKey.of("orphan.example"), DEFAULT, T0);
        assertThat(rows(db, JdbcDestinationStateStore.STATE)).isEqualTo(51);
        assertThat(rows(db, JdbcDestinationStateStore.SLOTS)).isEqualTo(1);
        assertThat(rows(db, JdbcDestinationStateStore.STARTS)).isEqualTo(50);

        // An hour on: the idle keys go, and the orphan too, its lease (30 minutes) long expired; with them their
        // leases and rate-limit starts.
        Instant later = T0.plus(JdbcDestinationStateStore.DEFAULT_IDLE_AFTER).plusSeconds(60);
        assertThat(alive.forgetIdle(later)).isEqualTo(51);
        assertThat(rows(db, JdbcDestinationStateStore.STATE)).isZero();
        assertThat(rows(db, JdbcDestinationStateStore.SLOTS)).isZero();
        assertThat(rows(db, JdbcDestinationStateStore.STARTS)).isZero();
    }

    @Test
    void theSweepRunsByItselfOnAdmissionsAtMostOnceAMinute() throws Exception {
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        DestinationKey old = DestinationKey.of("old.example");
        a.admit(old, DEFAULT, T0); // also the first sweep
        a.recordSuccess(old, DEFAULT, "250 OK", T0);
        a.finished(old, T0);
        Instant hourOn = T0.plus(JdbcDestinationStateStore.DEFAULT_IDLE_AFTER).plusSeconds(1);

        a.admit(DestinationKey.of("new.example"), DEFAULT, hourOn);

        assertThat(a.get(old)).isEmpty();
        assertThat(a.all()).extracting(DestinationState::destination).containsExactly("new.example");
    }

    @Test
    void aHeldRowIsNotForgottenAndAnOperatorCanStillReleaseIt() {
        DataSource db = database();
        JdbcDestinationStateStore a = node(db);
        DestinationPolicy longHold = DEFAULT.toBuilder()
                .throttle(ThrottleHold.of(Duration.ofHours(4), 2.0, Duration.ofHours(4))).build();
        DestinationKey org = DestinationKey.of("example.org");
        a.recordThrottle(org, longHold, "421 4.7.0 try later", Optional.empty(), T0);

        assertThat(a.forgetIdle(T0.plus(Duration.ofHours(3)))).isZero();
        assertThat(a.releaseHold(org)).isTrue();
        assertThat(a.forgetIdle(T0.plus(Duration.ofHours(3)))).isEqualTo(1);
    }

    @Test
    void aSingleNodeStoreDropsTheLeasesAndProbeOfThePreviousProcessWhenItOpens() {
        DataSource db = database();
        JdbcDestinationStateStore before = node(db);
        before.recordThrottle(AOL, "421 DYN:T1", Optional.empty(), T0);
        Instant holdEnd = T0.plus(Duration.ofMinutes(15));
        assertThat(before.admit(AOL, holdEnd).isProbe()).isTrue();
        DestinationKey org = DestinationKey.of("example.org");
        before.admit(org, DEFAULT, holdEnd);

        // Another node of a cluster opening the database must not forget running attempts.
        JdbcDestinationStateStore otherNode = node(db);
        assertThat(otherNode.get("aol").get().probing()).isTrue();
        assertThat(otherNode.get(org).get().inFlight()).isEqualTo(1);

        // The process that owns an embedded file restarts: nothing of the old one is running.
        JdbcDestinationStateStore restarted = JdbcDestinationStateStore.on(Database.on(db, "test database", true))
                .clock(Clock.fixed(T0, ZoneOffset.UTC)).open();
        assertThat(restarted.get("aol").get().probing()).isFalse();
        assertThat(restarted.get("aol").get().heldUntil()).contains(holdEnd);
        assertThat(restarted.get(org).get().inFlight()).isZero();
        assertThat(restarted.admit(AOL, holdEnd.plusSeconds(1)).isProbe()).isTrue();
        assertThat(restarted.admit(org, DEFAULT, holdEnd.plusSeconds(1)).isGranted()).isTrue();
    }

    @Test
    void aDatabaseOfThePreviousVersionIsUpgradedInPlace() throws Exception {
        DataSource db = database();
        // The tables as the first release created them, with a hold of the old single "default" state.
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE " + JdbcDestinationStateStore.STATE + " (name VARCHAR(255) NOT NULL PRIMARY KEY, "
                    + "held_until_ms BIGINT, current_hold_ms BIGINT NOT NULL, consecutive_throttles INTEGER NOT NULL, "
                    + "attempts BIGINT NOT NULL, last_reply VARCHAR(503), last_attempt_ms BIGINT, probe_started_ms BIGINT)");
            st.executeUpdate("INSERT INTO " + JdbcDestinationStateStore.STATE + " VALUES ('default', "
                    + T0.plus(Duration.ofMinutes(15)).toEpochMilli() + ", 900000, 1, 3, '421 slow down', "
                    + T0.toEpochMilli() + ", NULL)");
            st.executeUpdate("INSERT INTO " + JdbcDestinationStateStore.STATE + " VALUES ('aol', NULL, 0, 0, 7, '250 OK', "
                    + T0.toEpochMilli() + ", NULL)");
        }

        JdbcDestinationStateStore upgraded = node(db);

        assertThat(upgraded.get("default").get().heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
        assertThat(upgraded.get("aol").get().attempts()).isEqualTo(7);
        assertThat(upgraded.admit(AOL, T0.plusSeconds(1)).isGranted()).isTrue();
        upgraded.finished("aol", T0.plusSeconds(1));
        // Old rows are last active at their last attempt: both go once idle (the old hold is long over by then).
        assertThat(upgraded.forgetIdle(T0.plus(Duration.ofMinutes(15)).plus(JdbcDestinationStateStore.DEFAULT_IDLE_AFTER)))
                .isEqualTo(2);
        node(db); // opening again is harmless
    }

    static int rows(DataSource db, String table) throws Exception {
        try (Connection c = db.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aSuppressionListOfThePreviousVersionIsUpgradedInPlaceAndItsEntriesConfirmedAndExpired() throws Exception {
        DataSource db = database();
        // The table as the first release created it, with one entry.
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE delivery_policy_suppression (address VARCHAR(320) NOT NULL PRIMARY KEY, "
                    + "domain VARCHAR(320) NOT NULL, since_ms BIGINT NOT NULL, reason VARCHAR(1000) NOT NULL, "
                    + "reply VARCHAR(1000) NOT NULL, rule_id VARCHAR(1000) NOT NULL, source VARCHAR(32) NOT NULL, "
                    + "message_id VARCHAR(1000))");
            st.executeUpdate("INSERT INTO delivery_policy_suppression VALUES ('old@aol.com', 'aol.com', "
                    + T0.toEpochMilli() + ", 'userunknown', '550 MAILBOX NOT FOUND', 'aol.mailbox-not-found', "
                    + "'LIVE_REPLY', NULL)");
        }
        SuppressionExpiry yearly = SuppressionExpiry.of(Map.of("userunknown", Duration.ofDays(365)));
        Instant later = T0.plus(Duration.ofDays(400));
        try (JdbcSuppressionList a = JdbcSuppressionList.open(Database.on(db, "test database"), yearly,
                Clock.fixed(T0.plus(Duration.ofDays(30)), ZoneOffset.UTC));
             JdbcSuppressionList b = JdbcSuppressionList.open(Database.on(db, "test database"), yearly,
                     Clock.fixed(later, ZoneOffset.UTC))) {
            SuppressionEntry old = a.find("old@aol.com").get();
            assertThat(old.confirmations()).isEqualTo(1);
            assertThat(old.lastConfirmed()).isEqualTo(T0);
            assertThat(old.reply()).isEqualTo("550 MAILBOX NOT FOUND");

            // A year and more later it no longer suppresses on the node whose clock says so, but is kept.
            assertThat(b.find("old@aol.com")).isEmpty();
            assertThat(b.findStored("old@aol.com")).isPresent();
            assertThat(b.count(Optional.of("aol.com"))).isEqualTo(1);

            // Refused again, it is confirmed (by either node), and suppresses again for a year from then.
            assertThat(b.add(SuppressionEntry.of("old@aol.com", later, "userunknown", "550 again", "r",
                    SuppressionEntry.Source.LIVE_REPLY, Optional.empty()))).isFalse();
            SuppressionEntry confirmed = b.find("old@aol.com").get();
            assertThat(confirmed.confirmations()).isEqualTo(2);
            assertThat(confirmed.lastConfirmed()).isEqualTo(later);
            assertThat(confirmed.since()).isEqualTo(T0);
            assertThat(confirmed.reply()).isEqualTo("550 MAILBOX NOT FOUND");
            assertThat(a.add(SuppressionEntry.of("old@aol.com", T0.plusSeconds(1), "userunknown", "550", "r",
                    SuppressionEntry.Source.BOUNCE, Optional.empty()))).isFalse();
            assertThat(a.findStored("old@aol.com").get().confirmations()).isEqualTo(3);
            // An older confirmation arriving late does not move the last one back.
            assertThat(a.findStored("old@aol.com").get().lastConfirmed()).isEqualTo(later);

            // Only a reply's entry (live or bounced) written since the given instant is lifted; an operator's never.
            a.add(SuppressionEntry.of("new@aol.com", later, "userunknown", "550", "r", SuppressionEntry.Source.LIVE_REPLY,
                    Optional.empty()));
            a.add(SuppressionEntry.of("bounced@aol.com", later, "userunknown", "550", "r", SuppressionEntry.Source.BOUNCE,
                    Optional.empty()));
            a.add(SuppressionEntry.of("manual@aol.com", later, SuppressionEntry.MANUAL_REASON, "", "manual",
                    SuppressionEntry.Source.MANUAL, Optional.empty()));
            assertThat(a.removeReplyEntry("old@aol.com", later.minusSeconds(60))).isFalse();
            assertThat(a.removeReplyEntry("new@aol.com", later.plusSeconds(1))).isFalse();
            assertThat(a.removeReplyEntry("manual@aol.com", later.minusSeconds(60))).isFalse();
            assertThat(a.removeReplyEntry("new@aol.com", later.minusSeconds(60))).isTrue();
            assertThat(a.removeReplyEntry("bounced@aol.com", later.minusSeconds(60))).isTrue();
            assertThat(a.findStored("new@aol.com")).isEmpty();
            assertThat(a.findStored("bounced@aol.com")).isEmpty();
            assertThat(a.findStored("manual@aol.com")).isPresent();
        }
        JdbcSuppressionList.open(Database.on(db, "test database")).close(); // opening again is harmless
    }

    @Test
    void aSuppressionListOfTheSecondVersionIsMovedIntoTheCompactTableWithEverythingItHeld() throws Exception {
        DataSource db = database();
        // The texts a second-version row names, stored as that version stored them.
        try (JdbcSuppressionList list = JdbcSuppressionList.open(Database.on(db, "test database"))) {
            list.add(SuppressionEntry.of("seed@yahoo.com", T0, "userunknown", "550 5.1.1 <seed@yahoo.com>: no such user",
                    "postfix.user-unknown", SuppressionEntry.Source.BOUNCE, Optional.of("<s1@host.example>")));
        }
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE delivery_policy_suppressed (address_key BIGINT NOT NULL PRIMARY KEY, "
                    + "local_part VARCHAR(320) NOT NULL, domain_id INTEGER NOT NULL, since_ms BIGINT NOT NULL, "
                    + "reason_id INTEGER NOT NULL, reply_id INTEGER NOT NULL, rule_id INTEGER NOT NULL, "
                    + "source_id INTEGER NOT NULL, message_local VARCHAR(1000), message_domain_id INTEGER, "
                    + "confirmations INTEGER, last_confirmed_ms BIGINT)");
            st.executeUpdate("INSERT INTO delivery_policy_suppressed VALUES (42, 'old', " + textId(c, "yahoo.com") + ", "
                    + T0.toEpochMilli() + ", " + textId(c, "userunknown") + ", "
                    + textId(c, "550 5.1.1 <\u0001>: no such user") + ", " + textId(c, "postfix.user-unknown") + ", "
                    + textId(c, "BOUNCE") + ", '<m1', " + textId(c, "@host.example>") + ", 3, "
                    + T0.plusSeconds(3600).toEpochMilli() + ")");
            st.executeUpdate("INSERT INTO delivery_policy_suppressed VALUES (43, 'manual', " + textId(c, "yahoo.com")
                    + ", " + T0.toEpochMilli() + ", " + textId(c, "userunknown") + ", " + textId(c, "userunknown") + ", "
                    + textId(c, "userunknown") + ", " + textId(c, "BOUNCE") + ", NULL, NULL, NULL, NULL)");
        }
        try (JdbcSuppressionList list = JdbcSuppressionList.open(Database.on(db, "test database"))) {
            SuppressionEntry old = list.find("Old@yahoo.com").get();
            assertThat(old.reason()).isEqualTo("userunknown");
            assertThat(old.reply()).isEqualTo("550 5.1.1 <old@yahoo.com>: no such user");
            assertThat(old.ruleId()).isEqualTo("postfix.user-unknown");
            assertThat(old.source()).isEqualTo(SuppressionEntry.Source.BOUNCE);
            assertThat(old.messageId()).contains("<m1@host.example>");
            assertThat(old.since()).isEqualTo(T0);
            assertThat(old.confirmations()).isEqualTo(3);
            assertThat(old.lastConfirmed()).isEqualTo(T0.plusSeconds(3600));
            assertThat(list.find("manual@yahoo.com").get().messageId()).isEmpty();
            assertThat(list.find("seed@yahoo.com").get().reply()).isEqualTo("550 5.1.1 <seed@yahoo.com>: no such user");
            assertThat(list.count(Optional.of("yahoo.com"))).isEqualTo(3);
        }
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> st.executeQuery("SELECT 1 FROM delivery_policy_suppressed")).isInstanceOf(java.sql.SQLException.class);
        }
        try (JdbcSuppressionList again = JdbcSuppressionList.open(Database.on(db, "test database"))) {
            assertThat(again.count(Optional.empty())).isEqualTo(3); // opening again is harmless
        }
    }

    private static int textId(Connection c, String text) throws Exception {
        try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT id FROM delivery_policy_suppression_text "
                + "WHERE text = ?")) {
            ps.setString(1, text);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("text '%s' stored", text).isTrue();
                return rs.getInt(1);
            }
        }
    }

    @Test
    void suppressionsAndSentMessagesAreShared() {
        DataSource db = database();
        try (JdbcSuppressionList a = JdbcSuppressionList.open(Database.on(db, "test database")); JdbcSuppressionList b = JdbcSuppressionList.open(Database.on(db, "test database"));
             JdbcSentMessageLedger la = JdbcSentMessageLedger.open(Database.on(db, "test database")); JdbcSentMessageLedger lb = JdbcSentMessageLedger.open(Database.on(db, "test database"))) {
            assertThat(a.add(SuppressionEntry.of("bob@aol.com", T0, "userunknown", "550 MAILBOX NOT FOUND",
                    "aol.mailbox-not-found", SuppressionEntry.Source.LIVE_REPLY, Optional.empty()))).isTrue();
            seenBy(b, "BOB@aol.com");
            assertThat(b.add(SuppressionEntry.of("bob@aol.com", T0.plusSeconds(1), "userunknown", "550", "r",
                    SuppressionEntry.Source.BOUNCE, Optional.empty()))).isFalse();
            assertThat(b.remove("bob@aol.com")).isTrue();
            assertThat(a.find("bob@aol.com")).isEmpty();

            // A node that has just found an address unlisted sees another node's add (or import): at its next look-up
            // where it reads the table each time, within a second or so where its index follows the feed.
            assertThat(b.find("carol@aol.com")).isEmpty();
            assertThat(a.addAll(java.util.List.of(SuppressionEntry.of("carol@aol.com", T0, "userunknown", "550", "r",
                    SuppressionEntry.Source.BOUNCE, Optional.empty())))).isEqualTo(1);
            seenBy(b, "carol@aol.com");
            assertThat(b.find("dave@aol.com")).isEmpty();
            a.add(SuppressionEntry.of("dave@aol.com", T0, "userunknown", "550", "r", SuppressionEntry.Source.LIVE_REPLY,
                    Optional.empty()));
            seenBy(b, "dave@aol.com");

            la.record(SentMessage.of("<m1@example.com>", java.util.List.of("bob@aol.com"), T0));
            assertThat(lb.find("m1@example.com", java.util.List.of("bob@aol.com", "ann@aol.com")).get().wasSentTo("bob@aol.com")).isTrue();
            // A batch with a pair the other node stored: its inserts fail on that pair, and it is written row by row.
            lb.recordAll(java.util.List.of(SentMessage.of("m2@example.com", java.util.List.of("ann@aol.com"), T0),
                    SentMessage.of("m1@example.com", java.util.List.of("bob@aol.com", "ann@aol.com"), T0.plusSeconds(60))));
            assertThat(la.find("m1@example.com", java.util.List.of("bob@aol.com", "ann@aol.com")).get().recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
            assertThat(la.find("m1@example.com", java.util.List.of("bob@aol.com", "ann@aol.com")).get().sentAt()).isEqualTo(T0.plusSeconds(60));
            assertThat(la.find("m2@example.com", java.util.List.of("bob@aol.com", "ann@aol.com")).get().wasSentTo("ann@aol.com")).isTrue();
        }
    }

    @Test
    void aSentMessageLedgerOfTheEarlierVersionIsCopiedOverByTwoNodesOpeningAtOnce() throws Exception {
        DataSource db = database();
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE delivery_policy_sent (message_id VARCHAR(998) NOT NULL, "
                    + "recipient VARCHAR(320) NOT NULL, sent_ms BIGINT NOT NULL, PRIMARY KEY (message_id, recipient))");
            // More rows than one page of the copy, so that both nodes are at it for a while.
            StringBuilder values = new StringBuilder();
            for (int i = 0; i < 12_000; i++) {
                values.append(i == 0 ? "" : ", ").append("('m").append(i).append("@example.com', 'r").append(i % 7)
                        .append("@aol.com', ").append(T0.plusSeconds(i).toEpochMilli()).append(")");
            }
            st.executeUpdate("INSERT INTO delivery_policy_sent VALUES " + values);
        }
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Callable<JdbcSentMessageLedger> open =
                    () -> JdbcSentMessageLedger.open(Database.on(db, "test database"));
            java.util.concurrent.Future<JdbcSentMessageLedger> a = two.submit(open);
            java.util.concurrent.Future<JdbcSentMessageLedger> b = two.submit(open);
            try (JdbcSentMessageLedger la = a.get(); JdbcSentMessageLedger lb = b.get()) {
                assertThat(lb.find("m11999@example.com", java.util.List.of("r1@aol.com")).get().sentAt())
                        .isEqualTo(T0.plusSeconds(11_999));
                assertThat(la.find("m1@example.com", java.util.List.of("r1@aol.com"))).isPresent();
                assertThat(la.find("m1@example.com", java.util.List.of("r2@aol.com"))).isEmpty();
            }
        } finally {
            two.shutdownNow();
        }
        try (Connection c = db.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM delivery_policy_sent_pairs")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(12_000);
        }
        try (Connection c = db.getConnection()) {
            boolean left = false;
            for (String name : new String[] {"delivery_policy_sent", "DELIVERY_POLICY_SENT"}) {
                try (ResultSet rs = c.getMetaData().getTables(null, c.getSchema(), name, null)) {
                    left |= rs.next();
                }
            }
            assertThat(left).as("the earlier table is dropped").isFalse();
        }
    }

    JdbcDestinationStateStore node(DataSource db, String egress) {
        return JdbcDestinationStateStore.on(Database.on(db, "test database")).clock(Clock.fixed(T0, ZoneOffset.UTC))
                .busyWait(Duration.ofSeconds(10)).leaseTimeout(LEASE).egress(Egress.of(egress)).open();
    }

    @Test
    void holdsProbesAndConcurrencyAreKeptPerEgress() {
        DataSource db = database();
        JdbcDestinationStateStore a1 = node(db, "a");
        JdbcDestinationStateStore a2 = node(db, "a");
        JdbcDestinationStateStore b = node(db, "b");

        assertThat(a1.admit(AOL, T0).isGranted()).isTrue();
        a1.recordThrottle(AOL, "421 DYN:T1", Optional.empty(), T0);
        a1.finished("aol", T0);

        // The throttled IP holds every node sending from it, and no other.
        assertThat(a2.admit(AOL, T0.plusSeconds(1)).reason()).contains("421 DYN:T1");
        assertThat(b.admit(AOL, T0.plusSeconds(1)).isGranted()).isTrue();
        assertThat(b.admit(AOL, T0.plusSeconds(1)).isGranted()).isTrue();
        // Concurrency (2) counts per egress: b's two attempts leave a's slots alone.
        assertThat(b.admit(AOL, T0.plusSeconds(1)).reason()).contains("concurrency limit 2");
        assertThat(b.get("aol").get().heldUntil()).isEmpty();
        assertThat(a2.get("aol").get().heldUntil()).contains(T0.plus(Duration.ofMinutes(15)));
        assertThat(a2.all()).extracting(DestinationState::inFlight).containsExactly(0);
        assertThat(b.all()).extracting(DestinationState::inFlight).containsExactly(2);

        // One probe per egress when the hold ends.
        Instant after = T0.plus(Duration.ofMinutes(16));
        assertThat(a2.admit(AOL, after).isProbe()).isTrue();
        assertThat(a1.admit(AOL, after).reason()).contains("probe after hold in flight");

        // Releasing a's hold is a's business only; b was never held.
        assertThat(b.releaseHold("aol")).isFalse();
        assertThat(a1.releaseHold("aol")).isTrue();
    }

    @Test
    void rateCountsArePerEgress() {
        DestinationPolicy limited = AOL.toBuilder().concurrency(10).rate(RateLimit.of(1, Duration.ofMinutes(1))).build();
        DataSource db = database();
        JdbcDestinationStateStore a = node(db, "a");
        JdbcDestinationStateStore b = node(db, "b");

        assertThat(a.admit(limited, T0).isGranted()).isTrue();
        assertThat(b.admit(limited, T0.plusSeconds(1)).isGranted()).isTrue();
        assertThat(a.admit(limited, T0.plusSeconds(2)).isGranted()).isFalse();
        assertThat(b.admit(limited, T0.plusSeconds(2)).isGranted()).isFalse();
    }

    /**
     * A database written by a version without egresses (the first release's columns, the key on the
     * name alone): opened by this one, its rows are kept as the default egress's, and a named egress
     * gets rows of its own for the same destination.
     */
    @Test
    void tablesOfAnEarlierVersionKeepTheirRowsAsTheDefaultEgress() throws Exception {
        DataSource db = database();
        long heldUntil = T0.plus(Duration.ofMinutes(10)).toEpochMilli();
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE " + JdbcDestinationStateStore.STATE + " (name VARCHAR(255) NOT NULL PRIMARY KEY, "
                    + "held_until_ms BIGINT, current_hold_ms BIGINT NOT NULL, consecutive_throttles INTEGER NOT NULL, "
                    + "attempts BIGINT NOT NULL, last_reply VARCHAR(1003), last_attempt_ms BIGINT, probe_started_ms BIGINT)");
            st.executeUpdate("CREATE TABLE " + JdbcDestinationStateStore.SLOTS + " (id VARCHAR(36) NOT NULL PRIMARY KEY, "
                    + "name VARCHAR(255) NOT NULL, node VARCHAR(36) NOT NULL, started_ms BIGINT NOT NULL)");
            st.executeUpdate("CREATE TABLE " + JdbcDestinationStateStore.STARTS + " (id VARCHAR(36) NOT NULL PRIMARY KEY, "
                    + "name VARCHAR(255) NOT NULL, started_ms BIGINT NOT NULL)");
            st.executeUpdate("INSERT INTO " + JdbcDestinationStateStore.STATE + " (name, held_until_ms, current_hold_ms, "
                    + "consecutive_throttles, attempts, last_reply, last_attempt_ms) VALUES ('aol', " + heldUntil
                    + ", 600000, 1, 7, '421 DYN:T1', " + T0.toEpochMilli() + ")");
        }

        JdbcDestinationStateStore upgraded = node(db);
        DestinationState kept = upgraded.get("aol").get();
        assertThat(kept.heldUntil()).contains(Instant.ofEpochMilli(heldUntil));
        assertThat(kept.attempts()).isEqualTo(7);
        assertThat(kept.lastReply()).contains("421 DYN:T1");
        assertThat(upgraded.admit(AOL, T0.plusSeconds(1)).isGranted()).isFalse();

        JdbcDestinationStateStore named = node(db, "a");
        assertThat(named.get("aol")).isEmpty();
        assertThat(named.admit(AOL, T0.plusSeconds(1)).isGranted()).isTrue();
        assertThat(rows(db, JdbcDestinationStateStore.STATE)).isEqualTo(2);
        // Opening again (a second node, a restart) changes nothing.
        assertThat(node(db).get("aol").get().heldUntil()).contains(Instant.ofEpochMilli(heldUntil));
        assertThat(rows(db, JdbcDestinationStateStore.STATE)).isEqualTo(2);
    }
}
