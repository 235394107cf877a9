package org.mailpolicy.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.mailpolicy.fakeaol.FakeAol;
import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.fakeaol.ReceivedMessage;
import org.mailpolicy.james.testing.FixedDns;

/**
 * Head-of-line (issue 11): does mail to a receiver that is slowing us down hold up mail to everyone else? N mails to
 * aol.com while the fake AOL accepts R a minute ({@code RATE_LIMIT}), and M mails to other domains (an always-250 fake,
 * the default destination's route), submitted together, interleaved, to one James with the plugin and the shipped
 * policy (durations / {@code --scale}); then, on a fresh James, the M alone: the baseline. A mail's latency is from
 * James accepting it over SMTP to the fake accepting it. Each run first sends {@code --warmup} W mails to the other
 * domains and waits for them (not counted), so that neither run pays the fresh JVM's and James's warm-up in its figures:
 * the first run in the JVM would otherwise carry it alone.
 *
 * <p>stdout, one JSON line per run and group, then the ratios: {@code othersP99Ratio} is the others' p99 with the AOL
 * load over their baseline p99, {@code aolRatio} AOL's drain time (first submission to last AOL acceptance) over the
 * ideal N / R. Goals: {@code othersP99Ratio <= 2.0}, {@code aolRatio <= 1.10}.
 */
public final class MixedBenchmark {
    static final String USAGE = "MixedBenchmark [--aol N (5000)] [--others M (500)] [--per-minute R (300)] [--scale F (60)]"
            + " [--domains D (10): how many other domains the M mails are spread over] [--connections C (4)]"
            + " [--warmup W (200): mails to the other domains before each run, not counted]";
    private static final int SUBMIT_CONNECTIONS = 4;

    private MixedBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Bench bench = Bench.start("mixed", USAGE, args,
                Set.of("aol", "others", "per-minute", "scale", "domains", "connections", "warmup"));
        int aolCount = bench.intFlag("aol", 5000, 0);
        int othersCount = bench.intFlag("others", 500, 1);
        int perMinute = bench.intFlag("per-minute", 300, 1);
        int scale = bench.intFlag("scale", 60, 1);
        int domains = bench.intFlag("domains", 10, 1);
        int connections = bench.intFlag("connections", SUBMIT_CONNECTIONS, 1);
        int warmup = bench.intFlag("warmup", 200, 0);
        double idealSeconds = aolCount * 60.0 / perMinute;
        Duration cap = Duration.ofSeconds(Math.round(4 * idealSeconds) + 120);

        List<String> aol = new ArrayList<>();
        for (int i = 1; i <= aolCount; i++) {
            aol.add("ok-mixed-" + i + "@aol.com");
        }
        List<String> others = new ArrayList<>();
        for (int i = 1; i <= othersCount; i++) {
            others.add("ok-mixed-" + i + "@others-" + (i % domains + 1) + ".test");
        }
        Bench.progress("mixed: %d to aol.com (fake accepts %d/min, ideal %.0f s) and %d to %d other domains (always 250),"
                + " policy durations / %d, cap %d s", aolCount, perMinute, idealSeconds, othersCount, domains, scale,
                cap.toSeconds());

        List<String> warmupRecipients = new ArrayList<>();
        for (int i = 1; i <= warmup; i++) {
            warmupRecipients.add("ok-warmup-" + i + "@others-" + (i % domains + 1) + ".test");
        }
        Run withAol = run("with-aol", ModeSetting.of(Mode.RATE_LIMIT).perMinute(perMinute), scale, warmupRecipients,
                interleave(aol, others), aol.size(), others, connections, cap);
        Run baseline = run("baseline", ModeSetting.of(Mode.NORMAL), scale, warmupRecipients, others, 0, others,
                connections, cap);

        Bench.result(line("with-aol", "aol", withAol.aol));
        Bench.result(line("with-aol", "others", withAol.others));
        Bench.result(line("baseline", "others", baseline.others));
        Map<String, Object> ratios = new LinkedHashMap<>();
        ratios.put("benchmark", "mixed");
        ratios.put("othersP99Ratio", ratio(withAol.others.p99(), baseline.others.p99()));
        Double aolDrain = withAol.aolDrainSeconds;
        ratios.put("aolRatio", aolDrain == null || aolCount == 0 ? null : Bench.round(aolDrain / idealSeconds, 3));
        Bench.result(ratios);
        System.exit(0);
    }

    /** What one group's mails did: how many were submitted and delivered, and the delivered ones' latencies. */
    record Group(int count, List<Double> latencies) {
        Double p50() {
            return percentile(0.50);
        }

        Double p99() {
            return percentile(0.99);
        }

        /** Nearest rank over the delivered mails; none delivered, no figure. */
        private Double percentile(double p) {
            if (latencies.isEmpty()) {
                return null;
            }
            List<Double> sorted = latencies.stream().sorted().toList();
            int rank = (int) Math.ceil(p * sorted.size());
            return Bench.round(sorted.get(Math.max(0, rank - 1)), 3);
        }
    }

    private record Run(Group aol, Group others, Double aolDrainSeconds) {
    }

    private static Map<String, Object> line(String run, String group, Group g) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("benchmark", "mixed");
        line.put("run", run);
        line.put("group", group);
        line.put("count", g.count());
        line.put("delivered", g.latencies().size());
        line.put("p50Seconds", g.p50());
        line.put("p99Seconds", g.p99());
        return line;
    }

    private static Double ratio(Double value, Double baseline) {
        return value == null || baseline == null || baseline == 0 ? null : Bench.round(value / baseline, 3);
    }

    /** The others spread evenly through the AOL mails, so both are submitted over the same span of time. */
    static List<String> interleave(List<String> aol, List<String> others) {
        List<String> all = new ArrayList<>(aol.size() + others.size());
        int a = 0;
        for (int o = 0; o < others.size(); o++) {
            int until = (int) ((long) aol.size() * (o + 1) / others.size());
            while (a < until) {
                all.add(aol.get(a++));
            }
            all.add(others.get(o));
        }
        all.addAll(aol.subList(a, aol.size()));
        return all;
    }

    private static Run run(String name, ModeSetting aolMode, int scale, List<String> warmup, List<String> recipients,
            int aolCount, List<String> othersInOrder, int connections, Duration cap) throws Exception {
        int othersCount = othersInOrder.size();
        try (FakeAol othersFake = FakeAol.start(FakeAolSettings.ephemeralPorts());
             BenchSystem system = BenchSystem.plugin(aolMode, scale, FakeAolSettings.ephemeralPorts(),
                     FixedDns.loopbackMx(List.of("aol.com")),
                     port -> BenchPolicy.routeDefault(BenchPolicy.routeDestination(BenchPolicy.shipped(scale), "aol", port),
                             othersFake.smtpPort()))) {
            if (!warmup.isEmpty()) {
                Instant warmupStart = Instant.now();
                submit(system, warmup, connections, new ConcurrentHashMap<>());
                Instant warmupDeadline = warmupStart.plus(cap);
                while (distinctRecipients(othersFake.messages()) < warmup.size() && Instant.now().isBefore(warmupDeadline)) {
                    Thread.sleep(100);
                }
                Bench.progress("%s: warm-up, %d of %d mails to the other domains delivered in %.1f s (not counted)", name,
                        distinctRecipients(othersFake.messages()), warmup.size(), seconds(warmupStart, Instant.now()));
                othersFake.clearMessages();
            }
            Map<String, Instant> submitted = new ConcurrentHashMap<>();
            Instant start = Instant.now();
            submit(system, recipients, connections, submitted);
            Bench.progress("%s: %d mails submitted in %.1f s", name, recipients.size(), seconds(start, Instant.now()));

            Instant deadline = start.plus(cap);
            Instant nextReport = Instant.now();
            while (Instant.now().isBefore(deadline)) {
                long aolDone = distinctRecipients(system.aol.messages());
                long othersDone = distinctRecipients(othersFake.messages());
                if (Instant.now().isAfter(nextReport) || (aolDone >= aolCount && othersDone >= othersCount)) {
                    Bench.progress("%s: %4.0f s aol %d/%d, others %d/%d", name, seconds(start, Instant.now()), aolDone,
                            aolCount, othersDone, othersCount);
                    nextReport = Instant.now().plusSeconds(15);
                }
                if (aolDone >= aolCount && othersDone >= othersCount) {
                    break;
                }
                Thread.sleep(250);
            }
            Group aol = group(aolCount, system.aol.messages(), submitted);
            Group others = group(othersCount, othersFake.messages(), submitted);
            progressBySubmissionOrder(name, othersInOrder, othersFake.messages(), submitted);
            Double drain = aolCount > 0 && aol.latencies().size() == aolCount
                    ? seconds(start, system.lastDelivery()) : null;
            return new Run(aol, others, drain);
        }
    }

    /** Over {@code connections} SMTP sessions, recipient i on session i mod connections; each acceptance time kept. */
    private static void submit(BenchSystem system, List<String> recipients, int connections,
            Map<String, Instant> submitted) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                int first = c;
                done.add(pool.submit(() -> {
                    try (BenchSystem.Submitter submitter = system.submitter()) {
                        for (int i = first; i < recipients.size(); i += connections) {
                            submitter.send(recipients.get(i), "mixed " + (i + 1));
                            submitted.put(recipients.get(i).toLowerCase(Locale.ROOT), Instant.now());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Latency of each recipient's first acceptance at a fake, from its submission. */
    private static Group group(int count, List<ReceivedMessage> messages, Map<String, Instant> submitted) {
        Map<String, Instant> firstAccepted = firstAcceptance(messages);
        List<Double> latencies = new ArrayList<>();
        firstAccepted.forEach((recipient, at) -> {
            Instant sent = submitted.get(recipient);
            if (sent != null) {
                latencies.add(Math.max(0, seconds(sent, at)));
            }
        });
        return new Group(count, latencies);
    }

    /** The others' latencies by tenths of their submission order: whether the slow ones are early, late or spread. */
    private static void progressBySubmissionOrder(String name, List<String> othersInOrder, List<ReceivedMessage> messages,
            Map<String, Instant> submitted) {
        Map<String, Instant> accepted = firstAcceptance(messages);
        StringBuilder tenths = new StringBuilder();
        int n = othersInOrder.size();
        for (int t = 0; t < 10 && n >= 10; t++) {
            double max = 0;
            List<Double> part = new ArrayList<>();
            for (String r : othersInOrder.subList(t * n / 10, (t + 1) * n / 10)) {
                String key = r.toLowerCase(Locale.ROOT);
                if (accepted.containsKey(key) && submitted.containsKey(key)) {
                    double l = seconds(submitted.get(key), accepted.get(key));
                    part.add(l);
                    max = Math.max(max, l);
                }
            }
            part.sort(null);
            tenths.append(String.format(Locale.ROOT, " [%d: p50 %.3f max %.3f]", t + 1,
                    part.isEmpty() ? Double.NaN : part.get(part.size() / 2), max));
        }
        Bench.progress("%s: others' latency by tenth of submission order:%s", name, tenths);
    }

    /** Each recipient (lower case) with the time a fake first accepted a message for it. */
    private static Map<String, Instant> firstAcceptance(List<ReceivedMessage> messages) {
        Map<String, Instant> first = new LinkedHashMap<>();
        for (ReceivedMessage m : messages) {
            for (String r : m.recipients()) {
                first.merge(r.toLowerCase(Locale.ROOT), m.receivedAt(), (x, y) -> x.isBefore(y) ? x : y);
            }
        }
        return first;
    }

    private static long distinctRecipients(List<ReceivedMessage> messages) {
        return messages.stream().flatMap(m -> m.recipients().stream()).map(r -> r.toLowerCase(Locale.ROOT)).distinct()
                .count();
    }

    private static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toMillis() / 1000.0;
    }
}
