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
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ModeSetting;

/**
 * Draining a throttled queue: N messages to aol.com while the fake AOL accepts R a minute per client ({@code 421 4.7.1 :
 * (DYN:T1)} beyond, {@code 554 RLY:B1} at connect for a client that keeps connecting while over), first through James
 * with the plugin and the shipped policy, then through stock RemoteDelivery with the same retry delays. Every duration
 * of the policy and of the built-in rules is divided by {@code --scale} (default 60: 15 minutes become 15 seconds);
 * the rate limits (the fake's and the policy's) are real per-minute rates. Prints one JSON line per system.
 */
public final class DrainBenchmark {
    static final String USAGE = "DrainBenchmark [--messages N (1000)] [--per-minute R (300)] [--scale F (60)]"
            + " [--aol-rate COUNT/m] [--aol-concurrency C] (these two replace the shipped aol values, to try others)"
            + " [--only plugin|stock]";

    private DrainBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Bench bench = Bench.start("drain", USAGE, args,
                Set.of("messages", "per-minute", "scale", "aol-rate", "aol-concurrency", "only"));
        String only = bench.stringFlag("only", "");
        int messages = bench.intFlag("messages", 1000, 1);
        int perMinute = bench.intFlag("per-minute", 300, 1);
        int scale = bench.intFlag("scale", 60, 1);
        double idealSeconds = messages * 60.0 / perMinute;
        // Four times the ideal and a minute: a system that needs longer has failed the benchmark anyway.
        Duration cap = Duration.ofSeconds(Math.round(4 * idealSeconds) + 60);
        ModeSetting mode = ModeSetting.of(Mode.RATE_LIMIT).perMinute(perMinute);

        String shipped = BenchPolicy.shipped(scale);
        String policy = shipped;
        if (bench.stringFlag("aol-rate", null) != null) {
            policy = BenchPolicy.setInDestination(policy, "aol", "rate", bench.stringFlag("aol-rate", null));
        }
        if (bench.intFlag("aol-concurrency", 0, 1) > 0) {
            policy = BenchPolicy.setInDestination(policy, "aol", "concurrency",
                    String.valueOf(bench.intFlag("aol-concurrency", 0, 1)));
        }
        String pluginPolicy = policy;
        DestinationPolicy aol = DeliveryPolicy.parse(policy, "delivery-policy.yaml (scaled)").destination("aol")
                .orElseThrow(() -> new IllegalStateException("config/delivery-policy.yaml has no aol destination"));
        List<Duration> delays = aol.retrySchedule().explicitDelays();
        int maxRetries = retriesWithin(delays, aol.maxAge());
        List<Map<String, Object>> results = new ArrayList<>();

        Bench.progress("drain: %d messages, fake AOL accepts %d/min, policy durations / %d, cap %d s per system",
                messages, perMinute, scale, cap.toSeconds());
        if (!only.equals("stock")) {
            try (BenchSystem plugin = BenchSystem.plugin(mode, scale,
                    port -> BenchPolicy.routeDestination(pluginPolicy, "aol", port))) {
                Map<String, Object> result = drain(plugin, aol, messages, perMinute, idealSeconds, cap);
                result.put("config", (policy.equals(shipped) ? "shipped" : "changed") + " aol destination: concurrency "
                        + aol.concurrency() + ", rate " + aol.rateLimit().map(Object::toString).orElse("none")
                        + ", throttle " + aol.throttleHold() + ", durations / " + scale);
                results.add(result);
            }
        }
        if (!only.equals("plugin")) {
            try (BenchSystem stock = BenchSystem.stock(mode, delays, maxRetries)) {
                Map<String, Object> result = drain(stock, aol, messages, perMinute, idealSeconds, cap);
                result.put("config", "RemoteDelivery delayTime " + delays + " (the aol retry schedule / " + scale
                        + "), maxRetries " + maxRetries + " (maxAge " + aol.maxAge() + ")");
                results.add(result);
            }
        }
        results.forEach(Bench::result);
        System.exit(0);
    }

    private static Map<String, Object> drain(BenchSystem system, DestinationPolicy aol, int messages, int perMinute,
            double idealSeconds, Duration cap) throws Exception {
        Instant start = Instant.now();
        PaceTimeline timeline = new PaceTimeline("drain", system.name, system.policyFile(), "aol", aol, start);
        List<String> recipients = new ArrayList<>();
        for (int i = 1; i <= messages; i++) {
            recipients.add("ok-drain-" + i + "@aol.com");
        }
        system.submitAll(recipients, "drain", 2);
        double submitSeconds = seconds(start, Instant.now());
        Bench.progress("%s: %d messages submitted in %.1f s", system.name, messages, submitSeconds);

        Instant deadline = start.plus(cap);
        Instant nextReport = Instant.now();
        long delivered = 0;
        BenchSystem.Reports reports = new BenchSystem.Reports(0, 0);
        boolean finished = false;
        while (Instant.now().isBefore(deadline)) {
            delivered = system.deliveredRecipients();
            BenchSystem.FakeView seen = system.fakeView();
            String pace = timeline.sample(seen.accepted(), seen.rejected());
            if (delivered >= messages || Instant.now().isAfter(nextReport)) {
                reports = system.reports();
                Bench.progress("%s: %4.0f s delivered %d bounced %d, fake saw %d attempts, %d refused%s%s", system.name,
                        seconds(start, Instant.now()), delivered, reports.failed(), seen.attempts(), seen.rejected(),
                        seen.blocked() ? ", RLY:B1 block" : "", pace);
                nextReport = Instant.now().plusSeconds(15);
            }
            if (delivered + reports.failed() >= messages) {
                finished = true;
                break;
            }
            Thread.sleep(500);
        }
        // All delivered: the fake's own time of the last acceptance; bounces or the cap: when it was seen.
        Instant end = finished && delivered >= messages ? system.lastDelivery() : Instant.now();
        double drainSeconds = seconds(start, end);
        BenchSystem.FakeView fake = system.fakeView();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("benchmark", "drain");
        result.put("system", system.name);
        result.put("messages", messages);
        result.put("limitPerMinute", perMinute);
        result.put("drainSeconds", Bench.round(drainSeconds, 1));
        result.put("idealSeconds", Bench.round(idealSeconds, 1));
        result.put("ratio", Bench.round(drainSeconds / idealSeconds, 3));
        result.put("attempts", fake.attempts());
        result.put("rejectedAttempts", fake.rejected());
        result.put("bounced", reports.failed());
        result.put("blocked", fake.blocked());
        result.put("finished", finished);
        result.put("delivered", delivered);
        result.put("delayNotices", reports.delayed());
        result.put("submitSeconds", Bench.round(submitSeconds, 1));
        return result;
    }

    /** How many retries of stock RemoteDelivery fit in {@code maxAge} with these delays (the last one repeating). */
    static int retriesWithin(List<Duration> delays, Duration maxAge) {
        Duration total = Duration.ZERO;
        int retries = 0;
        while (true) {
            Duration next = delays.get(Math.min(retries, delays.size() - 1));
            if (total.plus(next).compareTo(maxAge) > 0) {
                return Math.max(1, retries);
            }
            total = total.plus(next);
            retries++;
        }
    }

    private static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toMillis() / 1000.0;
    }
}
