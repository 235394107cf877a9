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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.TestClock;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.PostgresServer;

/**
 * Two or three nodes' {@link ClusterDestinationStateStore}s on one real PostgreSQL (each with its own
 * pool, as two James processes have), on the real clock or one the test moves: together they never pass
 * the concurrency, a dead node's lease returns, a hold by one stops the other within the stated delay,
 * one probe runs cluster-wide, busy nodes each get slots within the stated bound. Skipped, saying why,
 * where no PostgreSQL can be started.
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

    @RegisterExtension
    static final PostgresServer POSTGRES = new PostgresServer();

    private final List<AutoCloseable> opened = new ArrayList<>();
    private String database;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    /** A node: its own pool on the test's database, its own node id. */
    private ClusterDestinationStateStore node(Duration leaseFor, boolean heartbeatThread) {
        return node(BEAT, leaseFor, heartbeatThread);
    }

    private ClusterDestinationStateStore node(Duration beat, Duration leaseFor, boolean heartbeatThread) {
        if (database == null) {
            database = POSTGRES.createDatabase("cluster_lease");
        }
        Database db = Database.open(POSTGRES.database(database));
        opened.add(db);
        ClusterDestinationStateStore store = ClusterDestinationStateStore.over(
                JdbcDestinationStateStore.on(db).busyWait(Duration.ofMillis(50)).open(), beat, leaseFor, heartbeatThread);
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

    /**
     * An {@link Error} thrown on the heartbeat thread (here by the clock it reads, at the start of a
     * heartbeat and within one): the executor that runs the heartbeat would cancel every later run
     * without a word, the lease would no longer be renewed and the other nodes would take its slots
     * while its attempts still run. The heartbeat logs it at ERROR and goes on.
     */
    @Test
    void anErrorOnTheHeartbeatThreadIsLoggedAndTheHeartbeatGoesOn() throws Exception {
        heartbeatGoesOnAfter(new AssertionError("injected: a bug on the heartbeat thread"), 1);
    }

    @Test
    void anOutOfMemoryErrorWithinAHeartbeatIsLoggedAndTheHeartbeatGoesOn() throws Exception {
        heartbeatGoesOnAfter(new OutOfMemoryError("injected: no memory for one heartbeat"), 2);
    }

    /** Node a's heartbeat thread gets {@code error} from its {@code nth} clock read of a heartbeat, once. */
    private void heartbeatGoesOnAfter(Error error, int nth) throws Exception {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(ClusterDestinationStateStore.class.getName());
        List<java.util.logging.LogRecord> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Duration beat = Duration.ofMillis(200);
        // Ten heartbeats: a loaded machine that delays a few of them does not let the lease expire.
        Duration leaseFor = beat.multipliedBy(10);
        // Reads on the heartbeat thread, from its first heartbeat (a beat period after the store opens): the first at
        // the start of a heartbeat, the second within it.
        ClockFailingOnce clock = new ClockFailingOnce(error, nth);
        logger.addHandler(handler);
        try {
            database = POSTGRES.createDatabase("cluster_error");
            Database db = Database.open(POSTGRES.database(database));
            opened.add(db);
            ClusterDestinationStateStore a = ClusterDestinationStateStore.over(
                    JdbcDestinationStateStore.on(db).clock(clock).busyWait(Duration.ofMillis(50)).open(), beat, leaseFor, true);
            opened.add(0, a);
            assertThat(a.admit(KEY, AOL, Instant.now()).isGranted()).isTrue(); // in flight until the end
            Instant armed = Instant.now();
            while (!clock.failed() && Instant.now().isBefore(armed.plusSeconds(10))) {
                sleep(20);
            }
            assertThat(clock.failed()).as("the heartbeat thread read the clock").isTrue();
            // Twice the lease time: a heartbeat that stopped lets the lease expire.
            sleep(leaseFor.multipliedBy(2).toMillis());
            assertThat(liveLeasedSlots()).as("slots of node a's lease still renewed " + leaseFor.multipliedBy(2).toMillis()
                    + " ms after the error").isPositive();
        } finally {
            logger.removeHandler(handler);
        }
        List<String> errors = new ArrayList<>();
        for (java.util.logging.LogRecord r : logged) {
            if (r.getLevel() == java.util.logging.Level.SEVERE) {
                errors.add(r.getMessage());
                assertThat(r.getThrown()).isSameAs(error);
            }
        }
        System.out.println("ClusterLeaseTest: logged at ERROR: " + errors);
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0)).contains(error.getClass().getName()).contains(KEY.asString());
    }

    /** The system clock, except that the heartbeat thread's {@code nth} read throws {@code error}, once. */
    private static final class ClockFailingOnce extends TestClock {
        private final Error error;
        private final int nth;
        private final AtomicInteger heartbeatReads = new AtomicInteger();
        private volatile boolean failed;

        ClockFailingOnce(Error error, int nth) {
            super(Instant.now());
            this.error = error;
            this.nth = nth;
        }

        boolean failed() {
            return failed;
        }

        @Override
        public Instant instant() {
            if (Thread.currentThread().getName().equals("delivery-policy-leases") && heartbeatReads.incrementAndGet() == nth) {
                failed = true;
                throw error;
            }
            return Instant.now();
        }
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

    /**
     * Node a has more mail than the concurrency and holds every slot; node b starts later with as
     * much. Within a few heartbeats node b must run its share (the concurrency over the two nodes) at
     * once, and keep it, while the two together never pass the concurrency. Node a's delivery threads
     * ask again a millisecond after a refusal, node b's when the refusal says (the store's wait, as a
     * mail put back for that wait is): a slot node a gives back must go to node b, not back to node a.
     */
    @Test
    void aNodeThatStartsLaterGetsItsShareFromABusyNodeWithinAFewHeartbeats() throws Exception {
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        int share = (CONCURRENCY + 1) / 2;
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger[] nodeInFlight = {new AtomicInteger(), new AtomicInteger()};
        AtomicInteger[] granted = {new AtomicInteger(), new AtomicInteger()};
        AtomicInteger[] grantedLate = {new AtomicInteger(), new AtomicInteger()};
        int threadsPerNode = 2 * CONCURRENCY;
        ExecutorService threads = Executors.newFixedThreadPool(2 * threadsPerNode + 1);
        List<Future<?>> runs = new ArrayList<>();
        Instant bStarts = Instant.now().plusSeconds(2);
        Instant end = bStarts.plus(BEAT.multipliedBy(8));
        for (int t = 0; t < 2 * threadsPerNode; t++) {
            int n = t < threadsPerNode ? 0 : 1;
            ClusterDestinationStateStore store = n == 0 ? a : b;
            runs.add(threads.submit(() -> {
                if (n == 1) {
                    sleep(Math.max(0, Duration.between(Instant.now(), bStarts).toMillis()));
                }
                // As the delivery threads of a node with a long queue: a refused attempt is followed by the next mail's.
                while (Instant.now().isBefore(end)) {
                    Admission admission = store.admit(KEY, AOL, Instant.now());
                    if (admission.isGranted()) {
                        most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                        nodeInFlight[n].incrementAndGet();
                        granted[n].incrementAndGet();
                        if (Instant.now().isAfter(end.minus(BEAT.multipliedBy(3)))) {
                            grantedLate[n].incrementAndGet();
                        }
                        sleep(ThreadLocalRandom.current().nextInt(300, 500));
                        nodeInFlight[n].decrementAndGet();
                        inFlight.decrementAndGet();
                        store.recordSuccess(KEY, AOL, "250 OK", Instant.now());
                        store.finished(KEY, Instant.now());
                    } else {
                        Instant asked = admission.notBefore().orElse(Instant.now());
                        sleep(n == 0 ? 1 : Math.max(1, Math.min(1000, Duration.between(Instant.now(), asked).toMillis())));
                    }
                }
                return null;
            }));
        }
        // Node b's attempts in flight, sampled: when it first ran its share at once, and how many it ran at the end.
        double[] lateMean = new double[1];
        Future<Instant> sampled = threads.submit(() -> {
            Instant first = null;
            long samples = 0;
            long sum = 0;
            while (Instant.now().isBefore(end)) {
                int running = nodeInFlight[1].get();
                Instant at = Instant.now();
                if (first == null && running >= share) {
                    first = at;
                }
                if (at.isAfter(end.minus(BEAT.multipliedBy(3)))) {
                    samples++;
                    sum += running;
                }
                sleep(5);
            }
            lateMean[0] = samples == 0 ? 0 : (double) sum / samples;
            return first;
        });
        for (Future<?> f : runs) {
            f.get(60, TimeUnit.SECONDS);
        }
        Instant bHadItsShare = sampled.get(60, TimeUnit.SECONDS);
        threads.shutdown();
        String took = bHadItsShare == null ? "never" : Duration.between(bStarts, bHadItsShare).toMillis() + " ms";
        System.out.println("ClusterLeaseTest: node b ran its share of " + share + " at once " + took + " after it started; in its last "
                + BEAT.multipliedBy(3).toMillis() + " ms it ran " + String.format("%.2f", lateMean[0]) + " on average; grants node a "
                + granted[0] + ", node b " + granted[1] + " (in the last " + BEAT.multipliedBy(3).toMillis() + " ms: node a "
                + grantedLate[0] + ", node b " + grantedLate[1] + "), most in flight " + most);
        assertThat(most.get()).isLessThanOrEqualTo(CONCURRENCY);
        assertThat(bHadItsShare).as("node b ran its share at once within the test (" + took + ")").isNotNull();
        // A few heartbeats: b's wish is seen by a's next heartbeat, a's attempts beyond its share end and their slots
        // go back, b takes them (a second's slack for a loaded machine's scheduling).
        assertThat(Duration.between(bStarts, bHadItsShare)).isLessThanOrEqualTo(BEAT.multipliedBy(3).plusSeconds(1));
        // And keeps it: its attempts are 300-500 ms with up to the store's wait (50 ms) between, so it runs a little under
        // its share on average.
        assertThat(lateMean[0]).as("node b's attempts in flight on average at the end").isGreaterThanOrEqualTo(share - 0.75);
    }

    /**
     * Two busy nodes hold the destination's 4 slots, 2 each; a third, as busy, starts later. With each
     * node's share the concurrency over the nodes rounded up (2 each), the first two kept to their share and
     * the third waited for as long as they stayed busy. Every node must get a slot within a few heartbeats.
     */
    @Test
    void aThirdBusyNodeGetsSlotsOfFourWithinAFewHeartbeats() {
        everyBusyNodeGetsSlotsWithinTheBound(4);
    }

    /**
     * Three busy nodes over 2 slots: no share of one slot each for all. The slots must go round, every node
     * running attempts within the stated bound (a turn of the extra slots, plus a few heartbeats).
     */
    @Test
    void threeBusyNodesOverTwoSlotsEachGetOneWithinTheBound() {
        everyBusyNodeGetsSlotsWithinTheBound(2);
    }

    /**
     * Three nodes on a clock the test moves, in steps of 50 ms (a refused delivery thread's wait): nodes a and
     * b busy from the start, node c from the fourth second, each with more mail than the concurrency. Each
     * step every node ends its attempts that are due (300 to 690 ms long) and admits until refused, the nodes
     * acting in turn first. No heartbeat thread: the operations run the heartbeats, by the clock.
     */
    private void everyBusyNodeGetsSlotsWithinTheBound(int concurrency) {
        DestinationPolicy policy = AOL.toBuilder().concurrency(concurrency).build();
        TestClock clock = new TestClock(Instant.now());
        database = POSTGRES.createDatabase("cluster_share");
        List<ClusterDestinationStateStore> nodes = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            Database db = Database.open(POSTGRES.database(database));
            opened.add(db);
            ClusterDestinationStateStore store = ClusterDestinationStateStore.over(
                    JdbcDestinationStateStore.on(db).clock(clock).busyWait(Duration.ofMillis(50)).open(), BEAT,
                    ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
            opened.add(0, store);
            nodes.add(store);
        }
        Duration step = Duration.ofMillis(50);
        Instant start = clock.instant();
        Instant cStarts = start.plusSeconds(4);
        Instant end = cStarts.plusSeconds(40);
        // Every node has waited at most this long for a slot: the turn of the extra slots, when there are fewer
        // slots than nodes, plus three heartbeats (the wish seen, an attempt of the node over its share ended).
        Duration bound = ClusterDestinationStateStore.turnOf(BEAT).multipliedBy(Math.max(0, nodes.size() - concurrency))
                .plus(BEAT.multipliedBy(3));
        List<List<Instant>> running = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            running.add(new ArrayList<>());
        }
        Instant[] lastRan = new Instant[3];
        Duration[] longestWait = {Duration.ZERO, Duration.ZERO, Duration.ZERO};
        long[] slotSteps = new long[3];
        int most = 0;
        long steps = 0;
        long stepsSinceCStarted = 0;
        int attempt = 0;
        for (Instant now = start; now.isBefore(end); now = clock.step(step)) {
            steps++;
            for (int i = 0; i < 3; i++) {
                int n = (int) ((i + steps) % 3);
                ClusterDestinationStateStore store = nodes.get(n);
                List<Instant> ends = running.get(n);
                for (java.util.Iterator<Instant> it = ends.iterator(); it.hasNext(); ) {
                    if (!it.next().isAfter(now)) {
                        it.remove();
                        store.recordSuccess(KEY, policy, "250 OK", now);
                        store.finished(KEY, now);
                    }
                }
                boolean busy = n < 2 || !now.isBefore(cStarts);
                for (int k = 0; busy && k < concurrency && store.admit(KEY, policy, now).isGranted(); k++) {
                    ends.add(now.plusMillis(300 + (attempt++ * 130) % 400));
                }
            }
            int inFlight = 0;
            boolean allBusy = !now.isBefore(cStarts);
            stepsSinceCStarted += allBusy ? 1 : 0;
            for (int n = 0; n < 3; n++) {
                int mine = running.get(n).size();
                inFlight += mine;
                slotSteps[n] += allBusy ? mine : 0;
                Instant busyFrom = n < 2 ? start : cStarts;
                if (now.isBefore(busyFrom)) {
                    continue;
                }
                if (mine > 0) {
                    lastRan[n] = now;
                }
                Duration waited = Duration.between(lastRan[n] == null ? busyFrom : lastRan[n], now);
                if (waited.compareTo(longestWait[n]) > 0) {
                    longestWait[n] = waited;
                }
            }
            most = Math.max(most, inFlight);
        }
        System.out.println("ClusterLeaseTest: 3 busy nodes over " + concurrency + " slots (node c from the 4th second): longest wait "
                + "for a slot node a " + longestWait[0].toMillis() + " ms, b " + longestWait[1].toMillis() + " ms, c "
                + longestWait[2].toMillis() + " ms (bound " + bound.toMillis() + " ms); slots in use on average once all three "
                + "were busy a " + String.format("%.2f, b %.2f, c %.2f", slotSteps[0] / (double) stepsSinceCStarted,
                slotSteps[1] / (double) stepsSinceCStarted, slotSteps[2] / (double) stepsSinceCStarted) + "; most in flight " + most);
        assertThat(most).as("attempts in flight on the three nodes together").isLessThanOrEqualTo(concurrency);
        for (int n = 0; n < 3; n++) {
            assertThat(longestWait[n]).as("node %s's longest wait for a slot while busy", "abc".charAt(n)).isLessThanOrEqualTo(bound);
            // Over the 40 s every node runs about a third of the concurrency; giving slots back and taking them costs a little.
            assertThat(slotSteps[n] / (double) stepsSinceCStarted).as("node %s's slots in use on average once all three were busy",
                    "abc".charAt(n)).isGreaterThanOrEqualTo(0.8 * concurrency / 3);
        }
        assertThat((slotSteps[0] + slotSteps[1] + slotSteps[2]) / (double) stepsSinceCStarted)
                .as("slots in use on average, the three nodes together").isGreaterThanOrEqualTo(concurrency - 0.25);
    }

    /**
     * Two slots over three nodes: in a turn where a node's share is none, it refuses while the others hold
     * theirs without a transaction (each of its delivery threads would otherwise lock the row in turn, to be
     * refused), and in the next turn where it has one it takes the slot the node whose turn ended gives back
     * as its attempt ends.
     */
    @Test
    void aNodeWhoseShareIsNoneThisTurnRefusesWithoutATransactionAndHasASlotInItsTurn() throws Exception {
        DestinationPolicy two = AOL.toBuilder().concurrency(2).build();
        database = POSTGRES.createDatabase("cluster_turns");
        Duration turnLength = ClusterDestinationStateStore.turnOf(BEAT);
        TestClock clock = new TestClock(Instant.now());
        List<String> ids = new ArrayList<>();
        List<ClusterDestinationStateStore> nodes = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            Database db = Database.open(POSTGRES.database(database));
            opened.add(db);
            JdbcDestinationStateStore store = JdbcDestinationStateStore.on(db).clock(clock).busyWait(Duration.ofMillis(50)).open();
            ids.add(store.nodeId());
            ClusterDestinationStateStore node = ClusterDestinationStateStore.over(store, BEAT,
                    ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
            opened.add(0, node);
            nodes.add(node);
        }
        // From the start of the next turn in which node c's share of 2 slots over 3 nodes is none.
        int placeOfC = DestinationTransitions.placeAmong(ids.get(2), ids.subList(0, 2));
        long turn = DestinationTransitions.shareTurn(clock.instant(), turnLength) + 1;
        while (DestinationTransitions.fairShare(2, 3, placeOfC, turn) != 0) {
            turn++;
        }
        Instant t = clock.step(Duration.ofMillis(turn * turnLength.toMillis() - clock.instant().toEpochMilli()));
        ClusterDestinationStateStore a = nodes.get(0);
        ClusterDestinationStateStore b = nodes.get(1);
        ClusterDestinationStateStore c = nodes.get(2);
        assertThat(a.admit(KEY, two, t).isGranted()).isTrue();
        assertThat(b.admit(KEY, two, t).isGranted()).isTrue();
        assertThat(c.admit(KEY, two, t).isGranted()).as("a third attempt over 2 slots").isFalse();
        // Two heartbeats, each run by the node's next admission: by the second each node sees the three, and that
        // another waits (a and b refused beyond their share of 1 since the first).
        for (int beat = 0; beat < 2; beat++) {
            t = clock.step(BEAT);
            assertThat(a.admit(KEY, two, t).isGranted()).as("node a beyond its share").isFalse();
            assertThat(b.admit(KEY, two, t).isGranted()).as("node b beyond its share").isFalse();
            assertThat(c.admit(KEY, two, t).isGranted()).as("node c, its share none").isFalse();
        }
        // Before c's next heartbeat is due.
        t = clock.step(Duration.ofMillis(10));
        failLeaseWrites(true);
        Admission refused;
        try {
            refused = c.admit(KEY, two, t);
        } finally {
            failLeaseWrites(false);
        }
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.reason()).contains("for this node's share of 0");
        // The next turn: c's share is one, and one of a and b has none; its attempt ends and c takes the slot.
        t = clock.step(Duration.ofMillis(turnLength.toMillis() * (turn + 1) - t.toEpochMilli()));
        a.finished(KEY, t);
        b.finished(KEY, t);
        assertThat(c.admit(KEY, two, t).isGranted()).as("node c in the turn where its share is one").isTrue();
        int othersGranted = 0;
        for (int i = 0; i < 2; i++) {
            othersGranted += a.admit(KEY, two, t).isGranted() ? 1 : 0;
            othersGranted += b.admit(KEY, two, t).isGranted() ? 1 : 0;
        }
        assertThat(othersGranted).as("nodes a and b's grants with node c's 1 in flight").isEqualTo(1);
    }

    /** While on, every write of a lease row or a destination row fails in the database. */
    private void failLeaseWrites(boolean on) throws Exception {
        failRowUpdates(on);
        try (java.sql.Connection conn = POSTGRES.unpooled(database).getConnection(); java.sql.Statement st = conn.createStatement()) {
            st.execute("DROP TRIGGER IF EXISTS test_fault ON " + DestinationTables.LEASES);
            st.execute("CREATE TRIGGER test_fault BEFORE INSERT OR UPDATE ON " + DestinationTables.LEASES
                    + " FOR EACH ROW EXECUTE FUNCTION test_fault()");
        }
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
        Database other = Database.open(POSTGRES.database(database));
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
     * The database out of reach while a node admits within its lease: an outcome or the end of an
     * attempt must not fail because the heartbeat it ran on the way could not renew (an exception
     * after a delivered attempt would put the mail back on the queue: delivered twice). What was
     * counted in memory reaches the row once the database answers again.
     */
    @Test
    void anOperationDoesNotFailWhenTheHeartbeatItRunsCannotReachTheDatabase() throws Exception {
        ClusterDestinationStateStore store = nodeWithoutPool();
        Instant t = Instant.now();
        assertThat(store.admit(KEY, AOL, t).isGranted()).isTrue();
        reachable(database, false);
        try {
            // A heartbeat is due: the operations run it, and it fails.
            Instant later = t.plus(BEAT).plusMillis(1);
            store.recordSuccess(KEY, AOL, "250 OK", later);
            store.finished(KEY, later);
        } finally {
            reachable(database, true);
        }
        store.finished(KEY, t.plus(BEAT.multipliedBy(3))); // nothing in flight: only the heartbeat that is due
        JdbcDestinationStateStore reader = JdbcDestinationStateStore.on(Database.on(POSTGRES.unpooled(database), "reader")).open();
        assertThat(reader.get(KEY).get().attempts()).as("the attempt counted while the database was away").isEqualTo(1);
    }

    /**
     * Held, a node gives back the slot of each attempt that finishes at once (the probe waits for
     * them). With the database out of reach, the end of the attempt must not fail for it: the slot
     * goes back on the next heartbeat that reaches the database.
     */
    @Test
    void anAttemptFinishedWhileHeldDoesNotFailWhenItsSlotCannotGoBackAtOnce() throws Exception {
        ClusterDestinationStateStore store = nodeWithoutPool();
        Instant t = Instant.now();
        assertThat(store.admit(KEY, AOL, t).isGranted()).isTrue();
        assertThat(store.admit(KEY, AOL, t).isGranted()).isTrue();
        store.recordThrottle(KEY, AOL, "421 4.7.1 : (DYN:T1)", Optional.empty(), t);
        assertThat(liveLeasedSlots()).as("slots leased once held: the two in use").isEqualTo(2);
        reachable(database, false);
        try {
            store.finished(KEY, t);
        } finally {
            reachable(database, true);
        }
        store.finished(KEY, t.plus(BEAT)); // the heartbeat that is due gives back both
        assertThat(liveLeasedSlots()).as("slots leased once both attempts ended").isZero();
    }

    /**
     * A heartbeat that fails after it gave slots back (the database stops answering between two of
     * its statements): the slots it gave back are no longer the node's, in memory as in the database,
     * or the node and the one that leases them next pass the concurrency together.
     */
    @Test
    void aHeartbeatThatFailsHalfwayKeepsNoSlotItGaveBack() throws Exception {
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        Instant t = Instant.now();
        for (int i = 0; i < CONCURRENCY; i++) {
            assertThat(a.admit(KEY, AOL, t).isGranted()).isTrue();
        }
        a.recordSuccess(KEY, AOL, "250 OK", t);
        for (int i = 0; i < CONCURRENCY; i++) {
            a.finished(KEY, t);
        }
        // The row's update that adds the counted attempts fails, after the idle slots went back.
        failRowUpdates(true);
        Instant idle = t.plus(BEAT);
        try {
            a.beat(idle);
            org.assertj.core.api.Assertions.fail("the heartbeat was to fail");
        } catch (org.mailpolicy.jdbc.StoreException expected) {
            assertThat(expected).hasMessageContaining("injected");
        } finally {
            failRowUpdates(false);
        }
        int bGranted = 0;
        for (int i = 0; i < CONCURRENCY; i++) {
            if (b.admit(KEY, AOL, idle).isGranted()) {
                bGranted++;
            }
        }
        assertThat(bGranted).as("node b's grants: node a gave its slots back").isEqualTo(CONCURRENCY);
        int aGranted = 0;
        for (int i = 0; i < CONCURRENCY; i++) {
            // Before node a's next heartbeat is due (one beat after its first admission), so that none runs first.
            if (a.admit(KEY, AOL, t.plus(BEAT).minusMillis(1)).isGranted()) {
                aGranted++;
            }
        }
        assertThat(aGranted).as("node a's grants with node b's " + CONCURRENCY + " in flight").isZero();
    }

    /**
     * A node that could not renew its lease for the whole lease time (cut from the database) has lost
     * it: the others took its slots. Back, it must not renew the expired lease (its slots would
     * count twice) nor admit within it; its attempts still running wait for slots the database gives.
     */
    @Test
    void aLeaseThatExpiredIsNotRenewedAndItsSlotsAreNotUsedAgain() throws Exception {
        Duration beat = Duration.ofMillis(200);
        Duration leaseFor = beat.multipliedBy(4);
        ClusterDestinationStateStore a = node(beat, leaseFor, false);
        ClusterDestinationStateStore b = node(beat, leaseFor, true);
        for (int i = 0; i < CONCURRENCY; i++) {
            assertThat(a.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        }
        // Node a hears nothing from the database for longer than its lease, its attempts still running.
        sleep(leaseFor.plusMillis(200).toMillis());
        for (int i = 0; i < CONCURRENCY; i++) {
            assertThat(b.admit(KEY, AOL, Instant.now()).isGranted()).as("node b's grant " + i + " after node a's lease expired")
                    .isTrue();
        }
        a.finished(KEY, Instant.now()); // and its heartbeat, due
        a.finished(KEY, Instant.now());
        a.finished(KEY, Instant.now());
        Admission again = a.admit(KEY, AOL, Instant.now());
        assertThat(again.isGranted()).as("node a admitted with node b's " + CONCURRENCY + " in flight: " + again).isFalse();
        assertThat(liveLeasedSlots()).as("slots of live leases").isLessThanOrEqualTo(CONCURRENCY);
    }

    /**
     * close() adds what the node counted in memory: also the outcomes counted while a heartbeat of
     * the thread was still running (here waiting for the row, locked by another transaction).
     */
    @Test
    void closeAddsTheOutcomesCountedWhileAHeartbeatWasRunning() throws Exception {
        Duration beat = Duration.ofMillis(200);
        ClusterDestinationStateStore store = node(beat, ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        assertThat(store.admit(KEY, AOL, Instant.now()).isGranted()).isTrue();
        store.recordSuccess(KEY, AOL, "250 OK 1", Instant.now());
        store.finished(KEY, Instant.now());
        try (java.sql.Connection lock = POSTGRES.unpooled(database).getConnection()) {
            lock.setAutoCommit(false);
            try (java.sql.Statement st = lock.createStatement()) {
                st.executeQuery("SELECT name FROM " + JdbcDestinationStateStore.STATE + " FOR UPDATE").close();
            }
            // The thread's next heartbeat takes the first outcome and waits to add it to the locked row.
            sleep(beat.multipliedBy(3).toMillis());
            store.recordSuccess(KEY, AOL, "250 OK 2", Instant.now());
            ExecutorService closing = Executors.newSingleThreadExecutor();
            Future<?> closed = closing.submit(() -> {
                store.close();
                return null;
            });
            sleep(beat.multipliedBy(2).toMillis());
            lock.commit();
            closed.get(30, TimeUnit.SECONDS);
            closing.shutdown();
        }
        JdbcDestinationStateStore reader = JdbcDestinationStateStore.on(Database.on(POSTGRES.unpooled(database), "reader")).open();
        assertThat(reader.get(KEY).get().attempts()).as("attempts in the row after close").isEqualTo(2);
    }

    /**
     * The store's transactions are written for READ COMMITTED (a row lock, then the leases as
     * committed by then). A server whose default is SERIALIZABLE (a DBA's setting) must not turn
     * the nodes' contention into failed admissions and outcomes.
     */
    @Test
    void twoNodesWorkOnADatabaseWhoseDefaultIsSerializable() throws Exception {
        database = POSTGRES.createDatabase("cluster_serializable");
        try (java.sql.Connection c = POSTGRES.unpooledAdmin().getConnection(); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("ALTER DATABASE " + database + " SET default_transaction_isolation TO 'serializable'");
        }
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, true);
        DestinationPolicy limited = DestinationPolicy.builder("yahoo")
                .domains(ImmutableList.of("yahoo.com"))
                .throttle(ThrottleHold.of(Duration.ofSeconds(2), 1.0, Duration.ofSeconds(2)))
                .concurrency(CONCURRENCY)
                .rate(org.mailpolicy.destination.RateLimit.of(1000, Duration.ofSeconds(1)))
                .pacing(PacingSettings.FIXED)
                .build();
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        List<String> firstFailure = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<Future<?>> runs = new ArrayList<>();
        Instant end = Instant.now().plusSeconds(3);
        for (int t = 0; t < 8; t++) {
            ClusterDestinationStateStore store = t % 2 == 0 ? a : b;
            // Half the threads admit attempt by attempt in the database (a rate), half within leases.
            DestinationPolicy policy = t % 4 < 2 ? AOL : limited;
            DestinationKey key = DestinationKey.of(policy);
            runs.add(threads.submit(() -> {
                while (Instant.now().isBefore(end)) {
                    try {
                        if (store.admit(key, policy, Instant.now()).isGranted()) {
                            granted.incrementAndGet();
                            store.recordFailure(key, policy, "450 try later", Instant.now());
                            store.finished(key, Instant.now());
                        }
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                        if (firstFailure.isEmpty()) {
                            firstFailure.add(e.getMessage());
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : runs) {
            f.get(30, TimeUnit.SECONDS);
        }
        threads.shutdown();
        System.out.println("ClusterLeaseTest: serializable default: " + granted + " grants, " + failures + " failures " + firstFailure);
        assertThat(failures.get()).as("failed operations; the first: " + firstFailure).isZero();
        assertThat(granted.get()).isPositive();
    }

    /**
     * The concurrency lowered while the nodes' leases add up to more (a pace cut, a policy lowered):
     * the leases are within the old concurrency, and each node's share of the new one rounds up.
     * Once the attempts in flight then have ended, the nodes together must keep to the new one.
     */
    @Test
    void whenTheConcurrencyIsLoweredTheNodesTogetherComeDownToIt() throws Exception {
        DestinationPolicy wide = AOL.toBuilder().concurrency(8).build();
        DestinationPolicy narrow = AOL.toBuilder().concurrency(3).build();
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        ClusterDestinationStateStore b = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        ClusterDestinationStateStore[] nodes = {a, b};
        int[] inFlight = new int[2];
        Instant t = Instant.now();
        // Node a leases all 8 slots, node b asks; a heartbeat later they share them, four each.
        for (int i = 0; i < 4; i++) {
            assertThat(a.admit(KEY, wide, t).isGranted()).isTrue();
            inFlight[0]++;
        }
        assertThat(b.admit(KEY, wide, t).isGranted()).isFalse();
        t = t.plus(BEAT);
        a.beat(t);
        b.beat(t);
        for (int i = 0; i < 4; i++) {
            assertThat(b.admit(KEY, wide, t).isGranted()).as("node b's grant " + i).isTrue();
            inFlight[1]++;
        }
        // Lowered to 3. Both nodes busy: four times a heartbeat period, each node's attempts end and it admits what it can.
        int most = 0;
        for (int round = 0; round < 24; round++) {
            t = t.plus(BEAT.dividedBy(4));
            for (int n = 0; n < 2; n++) {
                for (; inFlight[n] > 0; inFlight[n]--) {
                    nodes[n].finished(KEY, t);
                }
                for (int i = 0; i < 8 && nodes[n].admit(KEY, narrow, t).isGranted(); i++) {
                    inFlight[n]++;
                }
            }
            if (round >= 12) {
                most = Math.max(most, inFlight[0] + inFlight[1]);
            }
        }
        System.out.println("ClusterLeaseTest: concurrency lowered from 8 to 3: in flight at the end, node a " + inFlight[0]
                + ", node b " + inFlight[1] + ", slots leased " + liveLeasedSlots());
        assertThat(most).as("attempts in flight on both nodes, from the fourth heartbeat period on").isLessThanOrEqualTo(3);
    }

    /**
     * A node whose lease holds the destination's whole concurrency, all of it in use, has nothing to
     * ask the database for: it refuses in memory. Each refusal was a transaction on the row, under the
     * key's monitor, so the node's other delivery threads waited for it to finish their attempts.
     */
    @Test
    void aNodeUsingTheWholeConcurrencyRefusesWithoutATransaction() throws Exception {
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        Instant t = Instant.now();
        for (int i = 0; i < CONCURRENCY; i++) {
            assertThat(a.admit(KEY, AOL, t).isGranted()).as("grant " + i).isTrue();
        }
        failRowUpdates(true);
        try {
            Admission refused = a.admit(KEY, AOL, t);
            assertThat(refused.isGranted()).isFalse();
            assertThat(refused.reason()).contains("concurrency limit " + CONCURRENCY + " reached");
            a.finished(KEY, t);
            assertThat(a.admit(KEY, AOL, t).isGranted()).as("the slot given back, taken again in memory").isTrue();
        } finally {
            failRowUpdates(false);
        }
    }

    /**
     * A node's fair share follows its concurrency between heartbeats. It was worked out at a heartbeat
     * from the concurrency then (3 here; a pace cut back and growing again does the same), and kept: the
     * node then refused attempts with slots of its own lease free, each refusal a transaction on the row.
     */
    @Test
    void aNodeWhoseConcurrencyRoseUsesItsWholeLeaseBeforeTheNextHeartbeat() {
        DestinationPolicy narrow = AOL.toBuilder().concurrency(3).build();
        DestinationPolicy wide = AOL.toBuilder().concurrency(8).build();
        ClusterDestinationStateStore a = node(ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        Instant t = Instant.now();
        for (int i = 0; i < 3; i++) {
            assertThat(a.admit(KEY, narrow, t).isGranted()).as("grant " + i + " at concurrency 3").isTrue();
        }
        t = t.plus(BEAT);
        a.beat(t);
        for (int i = 3; i < 8; i++) {
            assertThat(a.admit(KEY, wide, t).isGranted()).as("grant " + i + " at concurrency 8").isTrue();
        }
        for (int i = 0; i < 4; i++) {
            a.finished(KEY, t);
        }
        for (int i = 0; i < 4; i++) {
            assertThat(a.admit(KEY, wide, t).isGranted()).as("grant %d of the 4 slots this node's lease has free", i).isTrue();
        }
        assertThat(a.admit(KEY, wide, t).isGranted()).as("a ninth at concurrency 8").isFalse();
    }

    /**
     * A lease whose renewal took long (the row locked by another transaction for most of the lease
     * time) expires from when the renewal wrote it: the node stops using it half the lease time after
     * that, not after the database answered, or it still admits once the others were given its slots.
     */
    @Test
    void aLeaseRenewedSlowlyIsUsedForHalfTheLeaseFromBeforeTheRenewal() throws Exception {
        Duration beat = Duration.ofMillis(500);
        Duration leaseFor = beat.multipliedBy(4);
        database = POSTGRES.createDatabase("cluster_slow");
        String role = "node_" + database;
        try (java.sql.Connection c = POSTGRES.unpooled(database).getConnection(); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("CREATE ROLE " + role + " LOGIN");
            st.executeUpdate("GRANT ALL ON SCHEMA public TO " + role);
        }
        org.postgresql.ds.PGSimpleDataSource asNodeA = (org.postgresql.ds.PGSimpleDataSource) POSTGRES.unpooled(database);
        asNodeA.setUser(role);
        // Node a opens first: its role creates (and owns) the tables.
        ClusterDestinationStateStore a = ClusterDestinationStateStore.over(JdbcDestinationStateStore.on(
                Database.on(asNodeA, "PostgreSQL " + database + " as " + role)).open(), beat, leaseFor, false);
        opened.add(0, a);
        ClusterDestinationStateStore b = node(beat, leaseFor, false);
        Instant first = Instant.now();
        assertThat(a.admit(KEY, AOL, first).isGranted()).isTrue();
        a.finished(KEY, first);
        sleep(leaseFor.dividedBy(2).plusMillis(100).toMillis()); // its lease is no longer used without renewal
        Instant t0;
        try (java.sql.Connection lock = POSTGRES.unpooled(database).getConnection()) {
            lock.setAutoCommit(false);
            try (java.sql.Statement st = lock.createStatement()) {
                st.executeQuery("SELECT name FROM " + JdbcDestinationStateStore.STATE + " FOR UPDATE").close();
            }
            t0 = Instant.now();
            Instant renewalTime = t0;
            ExecutorService admitting = Executors.newSingleThreadExecutor();
            Future<Admission> renewed = admitting.submit(() -> a.admit(KEY, AOL, renewalTime));
            sleep(leaseFor.minusMillis(200).toMillis());
            lock.commit();
            assertThat(renewed.get(30, TimeUnit.SECONDS).isGranted()).as("the admission that renewed the lease").isTrue();
            admitting.shutdown();
        }
        // Node a is now cut from the database; its lease expires at t0 + leaseFor for the others.
        try (java.sql.Connection c = POSTGRES.unpooled(database).getConnection(); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("ALTER ROLE " + role + " NOLOGIN");
            st.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'").close();
        }
        sleep(Math.max(0, Duration.between(Instant.now(), t0.plus(leaseFor).plusMillis(100)).toMillis()));
        for (int i = 0; i < CONCURRENCY; i++) {
            assertThat(b.admit(KEY, AOL, Instant.now()).isGranted()).as("node b's grant " + i + " once node a's lease expired").isTrue();
        }
        boolean granted;
        try {
            // At a time before node a's next heartbeat is due, so that none runs first.
            granted = a.admit(KEY, AOL, t0.plusMillis(100)).isGranted();
        } catch (org.mailpolicy.jdbc.StoreException cutOff) {
            granted = false;
        }
        long sinceRenewal = Duration.between(t0, Instant.now()).toMillis();
        assertThat(granted).as("node a admitted within its expired lease " + sinceRenewal + " ms after the renewal began, with node b's "
                + CONCURRENCY + " in flight").isFalse();
    }

    /** Makes the test's database refuse (or accept again) every new connection, and ends the open ones. */
    /**
     * A node on a new database with a connection per call, as a node whose network to the database is cut
     * gets: no pool to wait on. No heartbeat thread: its operations run the heartbeat.
     */
    private ClusterDestinationStateStore nodeWithoutPool() {
        database = POSTGRES.createDatabase("cluster_lease");
        JdbcDestinationStateStore jdbc = JdbcDestinationStateStore.on(Database.on(POSTGRES.unpooled(database), "PostgreSQL " + database))
                .open();
        ClusterDestinationStateStore store = ClusterDestinationStateStore.over(jdbc, BEAT,
                ClusterDestinationStateStore.DEFAULT_LEASE_FOR, false);
        opened.add(0, store);
        return store;
    }

    private void reachable(String name, boolean yes) throws Exception {
        try (java.sql.Connection c = POSTGRES.unpooledAdmin().getConnection(); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("ALTER DATABASE " + name + " ALLOW_CONNECTIONS " + yes);
            if (!yes) {
                st.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'").close();
            }
        }
    }

    /** While on, every update of a destination row fails in the database, as a statement does when the server goes away. */
    private void failRowUpdates(boolean on) throws Exception {
        try (java.sql.Connection c = POSTGRES.unpooled(database).getConnection(); java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS test_fault (on_ BOOLEAN)");
            st.execute("CREATE OR REPLACE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "IF EXISTS (SELECT 1 FROM test_fault) THEN RAISE EXCEPTION 'injected: the database failed mid-heartbeat'; END IF; "
                    + "RETURN NEW; END $$");
            st.execute("DROP TRIGGER IF EXISTS test_fault ON " + JdbcDestinationStateStore.STATE);
            st.execute("CREATE TRIGGER test_fault BEFORE UPDATE ON " + JdbcDestinationStateStore.STATE
                    + " FOR EACH ROW EXECUTE FUNCTION test_fault()");
            st.execute(on ? "INSERT INTO test_fault VALUES (TRUE)" : "DELETE FROM test_fault");
        }
    }

    private int liveLeasedSlots() throws Exception {
        try (java.sql.Connection c = POSTGRES.unpooled(database).getConnection(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT COALESCE(SUM(slots), 0) FROM " + DestinationTables.LEASES
                     + " WHERE expires_ms > " + System.currentTimeMillis())) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * The stores prepare each statement anew on a pooled connection and close it; pgjdbc keeps the
     * query in the connection's cache all the same and, from the {@code prepareThreshold}-th use (5 by
     * default), executes it as a server-side prepared statement: parsed and planned once per connection.
     */
    @Test
    void aStatementUsedOnAPooledConnectionIsPreparedOnTheServer() throws Exception {
        Database db = Database.open(POSTGRES.database(POSTGRES.createDatabase("prepared")));
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
