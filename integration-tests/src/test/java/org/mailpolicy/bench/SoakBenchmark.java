package org.mailpolicy.bench;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.james.testing.FixedDns;

/**
 * Soak: James with the plugin under a steady load for a while, sampling what must stay flat. Mail goes to many
 * different domains ({@code d<n>.example}: the default destination, which keeps state per recipient domain) and one
 * message in twenty to aol.com (the aol destination), all through their MX as a production James sends: the test DNS
 * gives every domain an MX on 127.0.0.1, so the fake AOL listens on port 25 ({@code --port}). (A {@code route:} would
 * make every domain one destination, which is not what a soak of the destination table wants.) The fake accepts
 * everything. Every {@code --sample-seconds}: the heap used after a
 * full GC, the JVM's live threads, and the plugin's destination count (its state store, which James's mailets share).
 * The fake's own record of messages and transactions is emptied at each sample so that it does not count as growth.
 * Prints a JSON line per sample, then one with the first, last and largest of each.
 */
public final class SoakBenchmark {
    static final String USAGE = "SoakBenchmark [--minutes M (10)] [--rate MESSAGES_PER_SECOND (50)] [--domains D (5000)]"
            + " [--sample-seconds S (30)] [--port SMTP_PORT_OF_THE_FAKE (25)]";
    private static final int SCALE = 60;

    private SoakBenchmark() {
    }

    record Sample(double minute, long sent, long delivered, long heapUsedMb, long threads, long destinations) {
    }

    public static void main(String[] args) throws Exception {
        Bench bench = Bench.start("soak", USAGE, args, Set.of("minutes", "rate", "domains", "sample-seconds", "port"));
        double minutes = bench.doubleFlag("minutes", 10, 0.1);
        double rate = bench.doubleFlag("rate", 50, 0.1);
        int port = bench.intFlag("port", 25, 1);
        int domains = bench.intFlag("domains", 5000, 1);
        int sampleSeconds = bench.intFlag("sample-seconds", 30, 1);
        String policy = BenchPolicy.shipped(SCALE);
        List<String> dnsDomains = new ArrayList<>(List.of("aol.com"));
        for (int d = 0; d < domains; d++) {
            dnsDomains.add(domain(d));
        }

        Bench.progress("soak: %.1f min at %.1f messages/s to %d random domains (and aol.com), a sample every %d s",
                minutes, rate, domains, sampleSeconds);
        List<Sample> samples = new ArrayList<>();
        Map<String, Object> summary = new LinkedHashMap<>();
        try (BenchSystem plugin = BenchSystem.plugin(ModeSetting.normal(), SCALE, FakeAolSettings.ports(port, 0),
                FixedDns.loopbackMx(dnsDomains), fakePort -> policy)) {
            AtomicLong sent = new AtomicLong();
            AtomicLong failedSubmissions = new AtomicLong();
            AtomicLong delivered = new AtomicLong();
            Random random = new Random(42);
            BenchSystem.Submitter submitter = plugin.submitter();
            ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
            Instant start = Instant.now();
            long periodNanos = Math.round(1e9 / rate);
            sender.scheduleAtFixedRate(() -> {
                long n = sent.get() + 1;
                String domain = n % 20 == 0 ? "aol.com" : domain(random.nextInt(domains));
                try {
                    submitter.send("ok-soak-" + n + "@" + domain, "soak " + n);
                    sent.incrementAndGet();
                } catch (Exception e) {
                    failedSubmissions.incrementAndGet();
                }
            }, 0, periodNanos, TimeUnit.NANOSECONDS);

            Instant end = start.plusMillis(Math.round(minutes * 60_000));
            while (Instant.now().isBefore(end)) {
                Instant next = Instant.now().plusSeconds(sampleSeconds);
                Thread.sleep(Math.max(0, Duration.between(Instant.now(), next.isBefore(end) ? next : end).toMillis()));
                samples.add(sample(plugin, start, sent, delivered));
            }
            sender.shutdown();
            sender.awaitTermination(1, TimeUnit.MINUTES);
            submitter.close();
            // The queue drains within a minute when the plugin keeps up; then one more sample.
            Instant drainDeadline = Instant.now().plusSeconds(60);
            while (delivered.addAndGet(countAndClear(plugin)) < sent.get() && Instant.now().isBefore(drainDeadline)) {
                Thread.sleep(1000);
            }
            samples.add(sample(plugin, start, sent, delivered));
            summary.put("benchmark", "soak");
            summary.put("system", "plugin");
            summary.put("minutes", minutes);
            summary.put("targetRate", rate);
            summary.put("achievedRate", Bench.round(sent.get() / (minutes * 60), 1));
            summary.put("sent", sent.get());
            summary.put("delivered", delivered.get());
            summary.put("failedSubmissions", failedSubmissions.get());
            summary.put("samples", samples.size());
            summary.put("heapUsedMb", stats(samples, Sample::heapUsedMb));
            summary.put("threads", stats(samples, Sample::threads));
            summary.put("destinations", stats(samples, Sample::destinations));
        }
        Bench.result(summary);
        System.exit(0);
    }

    private static String domain(int n) {
        return "d" + n + ".example";
    }

    private static Sample sample(BenchSystem plugin, Instant start, AtomicLong sent, AtomicLong delivered)
            throws Exception {
        delivered.addAndGet(countAndClear(plugin));
        System.gc();
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
        Sample s = new Sample(Bench.round(Duration.between(start, Instant.now()).toMillis() / 60_000.0, 2), sent.get(),
                delivered.get(), heap, ManagementFactory.getThreadMXBean().getThreadCount(),
                plugin.destinations().all().size());
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("benchmark", "soak-sample");
        line.put("minute", s.minute());
        line.put("sent", s.sent());
        line.put("delivered", s.delivered());
        line.put("heapUsedMb", s.heapUsedMb());
        line.put("threads", s.threads());
        line.put("destinations", s.destinations());
        Bench.result(line);
        return s;
    }

    /**
     * Messages the fake accepted since the last call, forgetting them and its transactions (a message that arrives
     * between the two steps is forgotten uncounted; the final count may be short by that).
     */
    private static long countAndClear(BenchSystem plugin) {
        long count = plugin.aol.messages().size();
        plugin.aol.clearMessages();
        plugin.aol.clearTransactions();
        return count;
    }

    private static Map<String, Long> stats(List<Sample> samples, ToLongFunction<Sample> field) {
        Map<String, Long> stats = new LinkedHashMap<>();
        stats.put("first", field.applyAsLong(samples.get(0)));
        stats.put("last", field.applyAsLong(samples.get(samples.size() - 1)));
        stats.put("max", samples.stream().mapToLong(field).max().orElse(0));
        return stats;
    }
}
