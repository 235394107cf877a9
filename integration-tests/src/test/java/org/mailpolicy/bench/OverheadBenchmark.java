package org.mailpolicy.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.fakeaol.ModeSetting;

/**
 * The cost of the plugin: N messages through stock RemoteDelivery and through the plugin to a fake that accepts
 * everything ({@code 250} to {@code ok-*} recipients), end to end (SMTP submission to James until the fake has them
 * all). The plugin runs the shipped policy with the default destination routed to the fake (recipients are in
 * {@value #DOMAIN}, so no destination's rate limit applies); stock RemoteDelivery uses the fake as its gateway. Both
 * get a warm-up batch first, in the same JVM. Prints one JSON line per system and round, then the ratio.
 */
public final class OverheadBenchmark {
    static final String USAGE = "OverheadBenchmark [--messages N (1000)] [--warmup W (200)] [--rounds R (1)]"
            + " [--submitters S (4)]";
    static final String DOMAIN = "overhead.example";
    private static final int SCALE = 60;

    private OverheadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Bench bench = Bench.start("overhead", USAGE, args, Set.of("messages", "warmup", "rounds", "submitters"));
        int messages = bench.intFlag("messages", 1000, 1);
        int warmup = bench.intFlag("warmup", 200, 0);
        int rounds = bench.intFlag("rounds", 1, 1);
        int submitters = bench.intFlag("submitters", 4, 1);
        String policy = BenchPolicy.shipped(SCALE);
        DestinationPolicy defaults = DeliveryPolicy.parse(policy, "delivery-policy.yaml (scaled)").defaultDestination();
        List<Duration> delays = defaults.retrySchedule().explicitDelays();

        Bench.progress("overhead: %d messages (after %d warm-up) to %s, %d round(s), %d submitting connections",
                messages, warmup, DOMAIN, rounds, submitters);
        List<Map<String, Object>> results = new ArrayList<>();
        double stockTotal = 0;
        double pluginTotal = 0;
        for (int round = 1; round <= rounds; round++) {
            try (BenchSystem stock = BenchSystem.stock(ModeSetting.normal(), delays,
                    DrainBenchmark.retriesWithin(delays, defaults.maxAge()))) {
                Map<String, Object> r = measure(stock, round, messages, warmup, submitters);
                stockTotal += (double) r.get("messagesPerSecond");
                results.add(r);
            }
            try (BenchSystem plugin = BenchSystem.plugin(ModeSetting.normal(), SCALE,
                    port -> BenchPolicy.routeDefault(policy, port))) {
                Map<String, Object> r = measure(plugin, round, messages, warmup, submitters);
                r.put("destinations", plugin.destinations().all().size());
                pluginTotal += (double) r.get("messagesPerSecond");
                results.add(r);
            }
        }
        results.forEach(Bench::result);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("benchmark", "overhead");
        summary.put("system", "plugin/stock");
        summary.put("messages", messages);
        summary.put("rounds", rounds);
        summary.put("stockMessagesPerSecond", Bench.round(stockTotal / rounds, 1));
        summary.put("pluginMessagesPerSecond", Bench.round(pluginTotal / rounds, 1));
        summary.put("ratio", Bench.round(pluginTotal / stockTotal, 3));
        Bench.result(summary);
        System.exit(0);
    }

    private static Map<String, Object> measure(BenchSystem system, int round, int messages, int warmup,
            int submitters) throws Exception {
        if (warmup > 0) {
            system.submitAll(recipients("warmup", warmup), "warm-up", submitters);
            awaitDelivered(system, warmup, Duration.ofMinutes(5));
            system.aol.reset();
        }
        Instant start = Instant.now();
        system.submitAll(recipients("overhead", messages), "overhead", submitters);
        double submitSeconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
        boolean finished = awaitDelivered(system, messages, Duration.ofMinutes(10));
        Instant end = finished ? system.lastDelivery() : Instant.now();
        double seconds = Duration.between(start, end).toMillis() / 1000.0;
        BenchSystem.FakeView fake = system.fakeView();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("benchmark", "overhead");
        result.put("system", system.name);
        result.put("round", round);
        result.put("messages", messages);
        result.put("seconds", Bench.round(seconds, 2));
        result.put("messagesPerSecond", Bench.round(messages / seconds, 1));
        result.put("submitSeconds", Bench.round(submitSeconds, 2));
        result.put("attempts", fake.attempts());
        result.put("finished", finished);
        Bench.progress("%s round %d: %d messages in %.1f s (submitted in %.1f s)", system.name, round, messages, seconds,
                submitSeconds);
        return result;
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
