package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.LocalPostgres;

/**
 * Two nodes' {@link ClusterDestinationStateStore}s on one real PostgreSQL (each with its own pool,
 * as two James processes have), on the real clock: together they never pass the concurrency, a dead
 * node's lease returns, a hold by one stops the other within the stated delay, one probe runs
 * cluster-wide. Skipped, saying why, where no PostgreSQL can be started.
 */
class ClusterLeaseTest {
    private static final int CONCURRENCY = 4;
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol")
            .domains(ImmutableList.of("aol.com"))
            .throttle(ThrottleHold.of(Duration.ofSeconds(2), 1.0, Duration.ofSeconds(2)))
            .concurrency(CONCURRENCY)
            .pacing(PacingSettings.FIXED)
            .build();
    private static final DestinationKey KEY = DestinationKey.of(AOL);
    private static final Duration BEAT = ClusterDestinationStateStore.DEFAULT_BEAT_EVERY;
    private static LocalPostgres server;

    private final List<AutoCloseable> opened = new ArrayList<>();
    private String database;

    @BeforeAll
    static void startServer() throws Exception {
        server = LocalPostgres.startOrSkip();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    /** A node: its own pool on the test's database, its own node id. */
    private ClusterDestinationStateStore node(Duration leaseFor, boolean heartbeatThread) {
        if (database == null) {
            database = server.createDatabase("cluster_lease");
        }
        Database db = Database.open(server.database(database));
        opened.add(db);
        ClusterDestinationStateStore store = ClusterDestinationStateStore.over(
                JdbcDestinationStateStore.on(db).busyWait(Duration.ofMillis(50)).open(), BEAT, leaseFor, heartbeatThread);
        opened.add(0, store);
        return store;
    }

    @Test
    void twoNodesTogetherNeverPassTheConcurrency() throws Exception {
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger[] granted = {new AtomicInteger(), new AtomicInteger()};
        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<Future<?>> runs = new ArrayList<>();
        Instant end = Instant.now().plusSeconds(4);
        for (int t = 0; t < 8; t++) {
            int n = t % 2;
            ClusterDestinationStateStore store = n == 0 ? a : b;
            runs.add(threads.submit(() -> {
                while (Instant.now().isBefore(end)) {
                    if (store.admit(KEY, AOL, Instant.now()).isGranted()) {
                        most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                        granted[n].incrementAndGet();
                        sleep(ThreadLocalRandom.current().nextInt(1, 5));
                        inFlight.decrementAndGet();
                        store.recordSuccess(KEY, AOL, "250 OK", Instant.now());
                        store.finished(KEY, Instant.now());
                    } else {
                        sleep(ThreadLocalRandom.current().nextInt(1, 20));
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : runs) {
            f.get(30, TimeUnit.SECONDS);
        }
        threads.shutdown();
        System.out.println("ClusterLeaseTest: grants node a " + granted[0] + ", node b " + granted[1] + ", most in flight " + most);
        assertThat(most.get()).isLessThanOrEqualTo(CONCURRENCY).isGreaterThan(1);
        assertThat(granted[0].get()).as("node a's grants").isPositive();
        assertThat(granted[1].get()).as("node b's grants").isPositive();
        // The outcomes counted in memory reach the row by the heartbeat.
        a.close();
        b.close();
        assertThat(a.get(KEY).get().attempts()).isEqualTo(granted[0].get() + granted[1].get());
    }

    @Test
    void aDeadNodesLeaseReturnsAfterTheLeaseTime() throws Exception {
        Duration leaseFor = BEAT.multipliedBy(4);
        // No heartbeat thread and never called again: a node killed with its slots in use.
        ClusterDestinationStateStore dead = node(leaseFor, false);
        ClusterDestinationStateStore alive = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        for (int i = 0; i < CONCURRENCY; i++) {
            assertThat(dead.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        }
        Instant died = Instant.now();
        assertThat(alive.admit(KEY, AOL, Instant.now()).reason()).contains("concurrency limit " + CONCURRENCY);
        Instant grantedAt = null;
        while (grantedAt == null && Instant.now().isBefore(died.plus(leaseFor).plusSeconds(10))) {
            if (alive.admit(KEY, AOL, Instant.now()).isGranted()) {
                grantedAt = Instant.now();
            } else {
                sleep(20);
            }
        }
        assertThat(grantedAt).as("granted once the dead node's lease ran out").isNotNull();
        assertThat(grantedAt).isAfterOrEqualTo(died.plus(leaseFor).minusMillis(100));
    }

    @Test
    void aHoldByOneNodeStopsTheOtherWithinAHeartbeat() throws Exception {
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        assertThat(a.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        assertThat(b.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        b.finished(KEY, Instant.now());
        // B keeps admitting in memory (within its lease) until it sees the hold.
        Instant throttled = Instant.now();
        a.recordThrottle(KEY, AOL, "421 4.7.1 : (DYN:T1)", Optional.empty(), throttled);
        Instant stopped = null;
        while (stopped == null && Instant.now().isBefore(throttled.plusSeconds(10))) {
            Admission admission = b.admit(KEY, AOL, Instant.now());
            if (admission.isGranted()) {
                b.finished(KEY, Instant.now());
                sleep(5);
            } else {
                stopped = Instant.now();
                assertThat(admission.reason()).contains("held until");
            }
        }
        assertThat(stopped).as("node b refused after node a's hold").isNotNull();
        Duration delay = Duration.between(throttled, stopped);
        System.out.println("ClusterLeaseTest: node b stopped admitting " + delay.toMillis() + " ms after node a's hold (heartbeat "
                + BEAT.toMillis() + " ms)");
        // The stated worst case: one heartbeat period plus the heartbeat's own transaction (a second's slack for a
        // loaded machine's scheduling).
        assertThat(delay).isLessThanOrEqualTo(BEAT.plusSeconds(1));
    }

    @Test
    void oneProbeRunsClusterWide() throws Exception {
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        assertThat(a.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        assertThat(b.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        a.recordThrottle(KEY, AOL, "421 4.7.1 : (DYN:T1)", Optional.empty(), Instant.now());
        a.finished(KEY, Instant.now());
        b.finished(KEY, Instant.now());
        // Node b may admit within its lease until its next heartbeat shows the hold (the stated delay): past that,
        // and past the 2 s hold, count.
        sleep(BEAT.multipliedBy(2).plusMillis(200).toMillis());
        AtomicInteger probes = new AtomicInteger();
        AtomicInteger otherGrants = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(6);
        List<Future<?>> runs = new ArrayList<>();
        Instant end = Instant.now().plusSeconds(6);
        for (int t = 0; t < 6; t++) {
            ClusterDestinationStateStore store = t % 2 == 0 ? a : b;
            runs.add(threads.submit(() -> {
                while (Instant.now().isBefore(end)) {
                    Admission admission = store.admit(KEY, AOL, Instant.now());
                    if (admission.isProbe()) {
                        probes.incrementAndGet();
                        // The probe never answers within the test: every other admission must wait for it.
                    } else if (admission.isGranted()) {
                        otherGrants.incrementAndGet();
                        store.finished(KEY, Instant.now());
                    } else {
                        sleep(20);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : runs) {
            f.get(30, TimeUnit.SECONDS);
        }
        threads.shutdown();
        assertThat(probes.get()).as("probes after the 2 s hold, both nodes together").isEqualTo(1);
        assertThat(otherGrants.get()).isZero();
    }

    @Test
    void anIdleNodeGivesItsSlotsBackForTheOtherWithinAHeartbeatOrTwo() throws Exception {
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        for (int i = 0; i < CONCURRENCY; i++) {
            assertThat(a.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        }
        for (int i = 0; i < CONCURRENCY; i++) {
            a.finished(KEY, Instant.now());
        }
        // Node a has no more mail: it must not sit on its slots.
        Instant idleFrom = Instant.now();
        int granted = 0;
        while (granted < CONCURRENCY && Instant.now().isBefore(idleFrom.plusSeconds(10))) {
            if (b.admit(KEY, AOL, Instant.now()).isGranted()) {
                granted++;
            } else {
                sleep(20);
            }
        }
        Duration took = Duration.between(idleFrom, Instant.now());
        System.out.println("ClusterLeaseTest: node b had all " + CONCURRENCY + " slots " + took.toMillis() + " ms after node a went idle");
        assertThat(granted).isEqualTo(CONCURRENCY);
        // Unused slots go back on the first heartbeat that finds no admission within the last heartbeat period: the
        // second at the latest (a second's slack for a loaded machine's scheduling).
        assertThat(took).isLessThanOrEqualTo(BEAT.multipliedBy(2).plusSeconds(1));
    }

    @Test
    void successesThatChangeNothingAreCountedInMemoryAndWrittenOnTheHeartbeat() {
        // No heartbeat thread: heartbeats run on the operations, by the times given.
        ClusterDestinationStateStore store = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        Database other = Database.open(server.database(database));
        opened.add(other);
        JdbcDestinationStateStore reader = JdbcDestinationStateStore.on(other).open();
        Instant t = Instant.now();
        for (int i = 0; i < 10; i++) {
            assertThat(store.admit(KEY, AOL, t).isGranted()).isTrue();
            store.recordSuccess(KEY, AOL, "250 OK " + i, t);
            store.finished(KEY, t);
        }
        assertThat(reader.get(KEY).get().attempts()).as("attempts in the row before a heartbeat").isZero();
        assertThat(store.get(KEY).get().attempts()).as("attempts as the node shows them").isEqualTo(10);
        assertThat(store.get(KEY).get().lastReply()).contains("250 OK 9");

        store.finished(KEY, t.plus(BEAT)); // nothing in flight: only the heartbeat that is due
        DestinationState row = reader.get(KEY).get();
        assertThat(row.attempts()).as("attempts in the row after the heartbeat").isEqualTo(10);
        assertThat(row.lastReply()).contains("250 OK 9");
    }

    /**
     * The stores prepare each statement anew on a pooled connection and close it; pgjdbc keeps the
     * query in the connection's cache all the same and, from the {@code prepareThreshold}-th use (5 by
     * default), executes it as a server-side prepared statement: parsed and planned once per connection.
     */
    @Test
    void aStatementUsedOnAPooledConnectionIsPreparedOnTheServer() throws Exception {
        Database db = Database.open(server.database(server.createDatabase("prepared")));
        opened.add(db);
        String sql = "SELECT COUNT(*) FROM pg_class WHERE relname = ?";
        long prepared = db.withConnection("count prepared statements", c -> {
            for (int i = 0; i < 6; i++) {
                try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setString(1, "x" + i);
                    ps.executeQuery().close();
                }
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE ?");
                 java.sql.ResultSet rs = setting(ps, "%FROM pg_class WHERE relname%").executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
        assertThat(prepared).as("server-side prepared statements for the query").isEqualTo(1);
    }

    private static java.sql.PreparedStatement setting(java.sql.PreparedStatement ps, String value) throws java.sql.SQLException {
        ps.setString(1, value);
        return ps;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
