package org.mailpolicy.bench;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.jdbc.LocalPostgres;

/**
 * Delivery capacity: N messages to a fake that accepts everything ({@code 250} to {@code ok-*} recipients), through stock
 * RemoteDelivery and through the plugin with connection reuse off ({@code maxMessages: 1}) and on (the shipped
 * default). Each system first gets a warm-up batch over SMTP; then the N messages are put straight on James's delivery
 * queue, all due at one instant a little later, so the queue is full before delivery starts and SMTP intake is not
 * measured; the time runs from that instant to the fake's last acceptance. The plugin runs the shipped policy with the
 * default destination routed to the fake (recipients are in {@value #DOMAIN}, so no destination's rate limit applies);
 * stock RemoteDelivery uses the fake as its gateway. Prints one JSON line per system and round (with the connections
 * the fake saw), then the ratios.
 */
public final class OverheadBenchmark {
    static final String USAGE = "OverheadBenchmark [--messages N (1000)] [--warmup W (200)] [--rounds R (1)] [--warmup-rounds U (1)]"
            + " [--submitters S (4)] [--stores h2|h2,postgresql (h2)] [--tls on|off (off)]";
    static final String DOMAIN = "overhead.example";
    private static final int SCALE = 60;
    private static final com.sun.management.OperatingSystemMXBean JVM =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    /** The shipped default block's connection settings, which the reuse-off run replaces. */
    static final String SHIPPED_CONNECTIONS = "  connections: { maxMessages: 100, idleTimeout: 2s, rsetAfterIdle: 1s }\n";

    private OverheadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Bench bench = Bench.start("overhead", USAGE, args, Set.of("messages", "warmup", "rounds", "warmup-rounds", "submitters", "stores",
                "tls"));
        int messages = bench.intFlag("messages", 1000, 1);
        int warmup = bench.intFlag("warmup", 200, 0);
        int rounds = bench.intFlag("rounds", 1, 1);
        // Rounds run first and left out of the figures. Each system boots in the same JVM, so in the first
        // round the code they share (JavaMail, James's mailet pipeline, the fake) is still being compiled,
        // and the system that runs first, stock, paid for it: stock's first round ran at half its second
        // even after 2,000 warm-up mails, which made the plugin's ratios look better than they are.
        int warmupRounds = bench.intFlag("warmup-rounds", 1, 0);
        int submitters = bench.intFlag("submitters", 4, 1);
        String tlsFlag = bench.stringFlag("tls", "off");
        if (!tlsFlag.equals("on") && !tlsFlag.equals("off")) {
            bench.fail("--tls must be on or off, was '" + tlsFlag + "'");
        }
        boolean tls = tlsFlag.equals("on");
        String policy = BenchPolicy.shipped(SCALE);
        if (!policy.contains("\ndefault:\n") || !policy.contains(SHIPPED_CONNECTIONS)) {
            throw new IllegalStateException("the shipped policy's default block has no '" + SHIPPED_CONNECTIONS.trim() + "'");
        }
        String withoutReuse = policy.replace(SHIPPED_CONNECTIONS, "  connections: { maxMessages: 1 }\n");
        DestinationPolicy defaults = DeliveryPolicy.parse(policy, "delivery-policy.yaml (scaled)").defaultDestination();
        List<Duration> delays = defaults.retrySchedule().explicitDelays();
        Optional<LocalPostgres> postgres = Optional.empty();
        String stores = bench.stringFlag("stores", "h2");
        if (!stores.equals("h2") && !stores.equals("h2,postgresql")) {
            bench.fail("--stores must be h2 or h2,postgresql, was '" + stores + "'");
        }
        if (stores.equals("h2,postgresql")) {
            StringBuilder whyNot = new StringBuilder();
            postgres = LocalPostgres.start(whyNot);
            if (postgres.isEmpty()) {
                throw new IllegalStateException("--stores h2,postgresql: no PostgreSQL can be started here: " + whyNot);
            }
        }

        Bench.progress("overhead: %d messages (after %d warm-up) to %s, %d round(s) after %d warm-up round(s), queue filled"
                + " before delivery, %s", messages, warmup, DOMAIN, rounds, warmupRounds, tls ? "STARTTLS (self-signed certificate) for both systems"
                        : "plaintext (the fake offers no STARTTLS)");
        List<Map<String, Object>> results = new ArrayList<>();
        Map<String, Double> totals = new LinkedHashMap<>();
        for (int round = 1 - warmupRounds; round <= rounds; round++) {
            // Warm-up rounds are numbered 0 and below; their lines say so and their rates are not added up.
            Map<String, Double> addTo = round >= 1 ? totals : new LinkedHashMap<>();
            int thisRound = round;
            Optional<LocalPostgres> server = postgres;
            List<SystemRun> systems = new ArrayList<>();
            systems.add(() -> {
                try (BenchSystem stock = BenchSystem.stock(ModeSetting.normal(), delays,
                        DrainBenchmark.retriesWithin(delays, defaults.maxAge()), fake(tls), tls)) {
                    results.add(measure(stock, "stock", thisRound, messages, warmup, submitters, addTo, tls, Optional.empty()));
                }
            });
            systems.add(() -> {
                try (BenchSystem plugin = BenchSystem.plugin(ModeSetting.normal(), SCALE, fake(tls), BenchSystem.DNS,
                        port -> BenchPolicy.routeDefault(withoutReuse, port))) {
                    results.add(measure(plugin, "plugin-no-reuse", thisRound, messages, warmup, submitters, addTo, tls,
                            Optional.empty()));
                }
            });
            systems.add(() -> {
                try (BenchSystem plugin = BenchSystem.plugin(ModeSetting.normal(), SCALE, fake(tls), BenchSystem.DNS,
                        port -> BenchPolicy.routeDefault(policy, port))) {
                    results.add(measure(plugin, "plugin-reuse", thisRound, messages, warmup, submitters, addTo, tls,
                            Optional.empty()));
                }
            });
            if (server.isPresent()) {
                systems.add(() -> {
                    String onPostgres = postgresPolicy(server.get(), policy, thisRound);
                    try (BenchSystem plugin = BenchSystem.plugin(ModeSetting.normal(), SCALE, fake(tls), BenchSystem.DNS,
                            port -> BenchPolicy.routeDefault(onPostgres, port))) {
                        results.add(measure(plugin, "plugin-reuse-postgresql", thisRound, messages, warmup, submitters,
                                addTo, tls, server));
                    }
                });
            }
            // Each round starts with the next system. All share one JVM, and what a system's batch costs depends on
            // what ran before it (the JIT recompiling shared code for other types, the heap left behind): a fixed
            // order charges that to the same system every round. --rounds equal to the number of systems puts each
            // in every place.
            Collections.rotate(systems, -Math.floorMod(round - 1, systems.size()));
            for (SystemRun system : systems) {
                system.run();
            }
        }
        if (postgres.isPresent()) {
            postgres.get().close();
        }
        results.forEach(Bench::result);
        double stock = totals.get("stock") / rounds;
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("benchmark", "overhead");
        summary.put("system", "plugin/stock");
        summary.put("tls", tls);
        summary.put("messages", messages);
        summary.put("rounds", rounds);
        summary.put("warmupRounds", warmupRounds);
        summary.put("stockMessagesPerSecond", Bench.round(stock, 1));
        summary.put("pluginNoReuseMessagesPerSecond", Bench.round(totals.get("plugin-no-reuse") / rounds, 1));
        summary.put("pluginReuseMessagesPerSecond", Bench.round(totals.get("plugin-reuse") / rounds, 1));
        summary.put("ratioNoReuse", Bench.round(totals.get("plugin-no-reuse") / rounds / stock, 3));
        summary.put("ratioReuse", Bench.round(totals.get("plugin-reuse") / rounds / stock, 3));
        // CPU a mail, the mean over the rounds; the ratios are stock's over the plugin's (above 1: the plugin spends less).
        for (String system : List.of("stock", "plugin-no-reuse", "plugin-reuse", "plugin-reuse-postgresql")) {
            if (totals.containsKey(system + " cpu")) {
                summary.put("cpuMillisPerMail " + system, Bench.round(totals.get(system + " cpu") / rounds, 3));
            }
        }
        summary.put("cpuRatioNoReuse", Bench.round(totals.get("stock cpu") / totals.get("plugin-no-reuse cpu"), 3));
        summary.put("cpuRatioReuse", Bench.round(totals.get("stock cpu") / totals.get("plugin-reuse cpu"), 3));
        if (postgres.isPresent()) {
            summary.put("pluginReusePostgresqlMessagesPerSecond",
                    Bench.round(totals.get("plugin-reuse-postgresql") / rounds, 1));
            summary.put("ratioPostgresqlToH2",
                    Bench.round(totals.get("plugin-reuse-postgresql") / totals.get("plugin-reuse"), 3));
            summary.put("cpuRatioH2ToPostgresql",
                    Bench.round(totals.get("plugin-reuse cpu") / totals.get("plugin-reuse-postgresql cpu"), 3));
        }
        Bench.result(summary);
        System.exit(0);
    }

    /** One system's measured batch in a round. */
    @FunctionalInterface
    private interface SystemRun {
        void run() throws Exception;
    }

    /** The fake: offering STARTTLS with a self-signed certificate when {@code tls}. */
    private static FakeAolSettings fake(boolean tls) throws IOException {
        return tls ? FakeAolSettings.ephemeralPorts().withSelfSignedStartTls() : FakeAolSettings.ephemeralPorts();
    }

    /**
     * One measured batch. Besides the rate, the CPU time spent on it (from the moment delivery may start to
     * the last delivery): the benchmark's JVM (the system, the fake and the benchmark's own polling) and,
     * for {@code server}, PostgreSQL's processes. On a machine shared with other work the rate moves with
     * the others' load; CPU time a mail moves much less, and shows what the wall clock hides (PostgreSQL's
     * work is done on the other core).
     */
    private static Map<String, Object> measure(BenchSystem system, String name, int round, int messages, int warmup,
            int submitters, Map<String, Double> totals, boolean tls, Optional<LocalPostgres> server) throws Exception {
        if (warmup > 0) {
            system.submitAll(recipients("warmup", warmup), "warm-up", submitters);
            awaitDelivered(system, warmup, Duration.ofMinutes(5));
        }
        // Idle connections of the warm-up expire (the shipped idle timeout is 2 s) before the measured batch.
        Thread.sleep(3000);
        system.aol.reset();
        Instant fillStart = Instant.now();
        // Due once the queue is surely full: filling the in-memory queue takes well under a millisecond a mail.
        Instant due = fillStart.plusSeconds(2).plusMillis(messages);
        system.queueForDelivery(recipients("overhead", messages), "overhead", due);
        double fillSeconds = Duration.between(fillStart, Instant.now()).toMillis() / 1000.0;
        if (Instant.now().isAfter(due)) {
            Bench.progress("%s round %d: the queue was still filling when delivery started (%.1f s)", name, round,
                    fillSeconds);
        }
        Thread.sleep(Math.max(0, Duration.between(Instant.now(), due).toMillis()));
        long jvmCpuAtStart = JVM.getProcessCpuTime();
        ThreadCpu threadsAtStart = ThreadCpu.snapshot();
        Optional<Duration> serverCpuAtStart = server.flatMap(LocalPostgres::serverCpu);
        boolean finished = awaitDelivered(system, messages, Duration.ofMinutes(10));
        double jvmCpuSeconds = (JVM.getProcessCpuTime() - jvmCpuAtStart) / 1e9;
        Map<String, Double> byThread = threadsAtStart.perMailSince(messages, jvmCpuSeconds);
        Map<String, Double> jvmThreads = threadsAtStart.jvmThreadsPerMailSince(messages);
        long gcMillis = threadsAtStart.gcMillisSince();
        long jitMillis = threadsAtStart.jitMillisSince();
        Optional<Double> serverCpuSeconds = serverCpuAtStart.flatMap(at -> server.flatMap(LocalPostgres::serverCpu)
                .map(now -> now.minus(at).toMillis() / 1000.0));
        Instant end = finished ? system.lastDelivery() : Instant.now();
        double seconds = Duration.between(due, end).toMillis() / 1000.0;
        BenchSystem.FakeView fake = system.fakeView();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("benchmark", "overhead");
        result.put("system", name);
        result.put("round", round);
        if (round < 1) {
            result.put("warmupRound", true);
        }
        result.put("messages", messages);
        result.put("seconds", Bench.round(seconds, 2));
        result.put("messagesPerSecond", Bench.round(messages / seconds, 1));
        result.put("fillSeconds", Bench.round(fillSeconds, 2));
        result.put("transactions", fake.attempts());
        result.put("connectionsOpened", system.connectionsOpened());
        // Counted by the fake: a system that silently sent plaintext would show fewer than its transactions.
        result.put("transactionsOverTls", system.aol.mailsOverTls());
        result.put("finished", finished);
        result.put("jvmCpuSeconds", Bench.round(jvmCpuSeconds, 2));
        serverCpuSeconds.ifPresent(cpu -> result.put("postgresqlCpuSeconds", Bench.round(cpu, 2)));
        double cpuMillisPerMail = (jvmCpuSeconds + serverCpuSeconds.orElse(0.0)) * 1000 / messages;
        result.put("cpuMillisPerMail", Bench.round(cpuMillisPerMail, 3));
        result.put("jvmCpuMillisPerMailByThread", byThread);
        result.put("jvmOwnThreadsCpuMillisPerMail", jvmThreads);
        result.put("gcMillis", gcMillis);
        result.put("jitMillis", jitMillis);
        totals.merge(name, messages / seconds, Double::sum);
        totals.merge(name + " cpu", cpuMillisPerMail, Double::sum);
        Bench.progress("%s round %d: %d messages delivered in %.1f s over %d connections, %.3f CPU ms a mail", name, round,
                messages, seconds, system.connectionsOpened(), cpuMillisPerMail);
        return result;
    }

    /** The policy with its stores in a new database of {@code server}, one per round so no round starts warm. */
    private static String postgresPolicy(LocalPostgres server, String policy, int round) throws Exception {
        String name = server.createDatabase("overhead");
        return BenchPolicy.onPostgresql(policy, server.database(name).url(), server.user(), server.password());
    }

    private static List<String> recipients(String prefix, int count) {
        List<String> recipients = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            recipients.add("ok-" + prefix + "-" + i + "@" + DOMAIN);
        }
        return recipients;
    }

    private static boolean awaitDelivered(BenchSystem system, int count, Duration timeout) throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        while (system.deliveredRecipients() < count) {
            if (Instant.now().isAfter(deadline)) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }
}
