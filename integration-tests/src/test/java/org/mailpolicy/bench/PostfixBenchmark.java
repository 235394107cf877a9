package org.mailpolicy.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.testing.FixedDns;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RunningJames;
import org.mailpolicy.postfix.PostfixReceiver;

/**
 * Delivering to a real Postfix that limits each client the way a small receiving site does: at most 2 connections at
 * once ({@code 421 4.7.0 ... too many connections} beyond) and 60 MAIL FROM a minute ({@code 450 4.7.1 ... too much
 * mail} beyond). N mails, 2% of them to unknown users (550 5.1.1), go first through James with the plugin (the
 * shipped policy plus a destination for the Postfix domain: route to it, concurrency 5, rate 300/m, the default's
 * retry and throttle), then through stock RemoteDelivery with Postfix as its gateway and the same retry delays. Each
 * system gets a fresh Postfix, so the counts are its own. Durations of the policy are the shipped ones unless
 * {@code --scale} divides them; Postfix's limits count real minutes either way.
 *
 * <p>Prints one JSON line per system: seconds until every known recipient had its mail (or the cap), the ideal
 * (N at 60 a minute), their ratio, the transactions (attempts) and connections Postfix logged and its 421/450
 * refusals.
 */
public final class PostfixBenchmark {
    static final String USAGE = "PostfixBenchmark [--messages N (300)] [--minutes CAP (20)] [--scale F (1)]"
            + " [--only plugin|stock]";
    private static final String DOMAIN = "postfix.test";
    /** Postfix's limits: the issue's small receiving site. */
    private static final int CONNECTION_LIMIT = 2;
    private static final int PER_MINUTE = 60;
    /** The plugin's destination for the Postfix domain. */
    private static final int PLUGIN_CONCURRENCY = 5;
    private static final String PLUGIN_RATE = "300/m";
    /** Every 50th mail is for an unknown user: 2%. */
    private static final int UNKNOWN_EVERY = 50;

    private PostfixBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Bench bench = Bench.start("postfix", USAGE, args, Set.of("messages", "minutes", "scale", "only"));
        String only = bench.stringFlag("only", "");
        int messages = bench.intFlag("messages", 300, 1);
        Duration cap = Duration.ofMinutes(bench.intFlag("minutes", 20, 1));
        int scale = bench.intFlag("scale", 1, 1);
        Optional<String> whyNot = PostfixReceiver.whyUnavailable();
        if (whyNot.isPresent()) {
            Bench.progress("postfix: cannot run: %s", whyNot.get());
            System.exit(2);
        }

        List<String> recipients = new ArrayList<>();
        List<String> knownUsers = new ArrayList<>();
        for (int i = 1; i <= messages; i++) {
            String user = (i % UNKNOWN_EVERY == 0 ? "unknown-" : "user-") + i;
            recipients.add(user + "@" + DOMAIN);
            if (user.startsWith("user-")) {
                knownUsers.add(user);
            }
        }
        double idealSeconds = messages * 60.0 / PER_MINUTE;
        String shipped = BenchPolicy.shipped(scale);
        // Parsed here to fail before anything boots; stock RemoteDelivery gets the same retry delays.
        DestinationPolicy destination = DeliveryPolicy.parse(pluginPolicy(shipped, 25), "delivery-policy.yaml (bench)")
                .destination("postfix").orElseThrow(() -> new IllegalStateException("no postfix destination"));
        List<Duration> delays = destination.retrySchedule().explicitDelays();
        int maxRetries = DrainBenchmark.retriesWithin(delays, destination.maxAge());

        Bench.progress("postfix: %d messages (%d to unknown users); Postfix allows %d connections and %d messages a"
                + " minute per client; policy durations / %d; cap %d min per system", messages,
                messages - knownUsers.size(), CONNECTION_LIMIT, PER_MINUTE, scale, cap.toMinutes());
        List<Map<String, Object>> results = new ArrayList<>();
        if (!only.equals("stock")) {
            results.add(run("plugin", destination, recipients, knownUsers, idealSeconds, cap, port -> JamesSetup
                    .of(BenchSystem.tempDir(), JamesPorts.EPHEMERAL, dns(), pluginPolicy(shipped, port))
                    .withConfFile(BenchPolicy.RULES_FILE, BenchPolicy.scaledRules(scale))));
        }
        if (!only.equals("plugin")) {
            Bench.progress("stock: RemoteDelivery delayTime %s, maxRetries %d (the plugin's retry schedule for"
                    + " the destination)", delays, maxRetries);
            results.add(run("stock", destination, recipients, knownUsers, idealSeconds, cap, port -> JamesSetup
                    .of(BenchSystem.tempDir(), JamesPorts.EPHEMERAL, dns(), "version: 1\n")
                    .withMailetContainer(BenchSystem.stockMailetContainer(port, delays, maxRetries))));
        }
        results.forEach(Bench::result);
        System.exit(0);
    }

    /** The shipped policy (scaled) with a destination for the Postfix domain routed to 127.0.0.1:port. */
    private static String pluginPolicy(String shipped, int port) {
        return BenchPolicy.addRoutedDestination(shipped, "postfix", DOMAIN, port, PLUGIN_CONCURRENCY, PLUGIN_RATE);
    }

    private interface SetupForPort {
        JamesSetup make(int postfixPort) throws Exception;
    }

    /** The DNS James resolves from: nothing needs it (both systems go to 127.0.0.1:port), so no name leads anywhere else. */
    private static FixedDns dns() {
        return FixedDns.loopbackMx(List.of(DOMAIN));
    }

    private static Map<String, Object> run(String system, DestinationPolicy destination, List<String> recipients,
            List<String> knownUsers, double idealSeconds, Duration cap, SetupForPort setup) throws Exception {
        try (PostfixReceiver postfix = PostfixReceiver.builder().domain(DOMAIN).users(knownUsers)
                .connectionCountLimit(CONNECTION_LIMIT).messageRatePerMinute(PER_MINUTE).start()) {
            JamesSetup jamesSetup = setup.make(postfix.port());
            try (RunningJames james = BenchSystem.startJames(jamesSetup)) {
                Optional<Path> policyFile = system.equals("plugin")
                        ? Optional.of(jamesSetup.workingDirectory().resolve("conf/delivery-policy.yaml")) : Optional.empty();
                return deliver(system, postfix, james, recipients, knownUsers.size(), idealSeconds, cap,
                        new PaceTimeline("postfix", system, policyFile, "postfix", destination, Instant.now()));
            } finally {
                BenchSystem.deleteTree(jamesSetup.workingDirectory());
            }
        }
    }

    private static Map<String, Object> deliver(String system, PostfixReceiver postfix, RunningJames james,
            List<String> recipients, int known, double idealSeconds, Duration cap, PaceTimeline timeline)
            throws Exception {
        Instant start = Instant.now();
        BenchSystem.submitAll(james.smtpPort(), recipients, "postfix", 2);
        Bench.progress("%s: %d messages submitted in %.1f s", system, recipients.size(), seconds(start, Instant.now()));

        Instant deadline = start.plus(cap);
        Instant nextReport = start.plusSeconds(60);
        int deliveredAtLastReport = 0;
        int delivered = 0;
        Instant end = null;
        while (Instant.now().isBefore(deadline)) {
            delivered = postfix.usersWithMail();
            timeline.sample(delivered, postfix.refusedConnections() + postfix.refusedMessages());
            if (delivered >= known) {
                end = Instant.now();
                break;
            }
            if (Instant.now().isAfter(nextReport)) {
                report(system, postfix, start, delivered, deliveredAtLastReport);
                deliveredAtLastReport = delivered;
                nextReport = nextReport.plusSeconds(60);
            }
            Thread.sleep(500);
        }
        if (end == null) {
            end = Instant.now();
        }
        report(system, postfix, start, delivered, deliveredAtLastReport);
        double seconds = seconds(start, end);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("benchmark", "postfix");
        result.put("system", system);
        result.put("messages", recipients.size());
        result.put("delivered", delivered);
        result.put("seconds", Bench.round(seconds, 1));
        result.put("idealSeconds", Bench.round(idealSeconds, 1));
        result.put("ratio", Bench.round(seconds / idealSeconds, 3));
        result.put("attempts", postfix.transactions());
        result.put("connections", postfix.connections());
        result.put("refused", postfix.refusedConnections() + postfix.refusedMessages());
        return result;
    }

    private static void report(String system, PostfixReceiver postfix, Instant start, int delivered, int before) {
        Bench.progress("%s: %4.0f s delivered %d (+%d), Postfix saw %d connections, refused %d (421 too many"
                + " connections) and %d (450 too much mail)", system, seconds(start, Instant.now()), delivered,
                delivered - before, postfix.connections(), postfix.refusedConnections(), postfix.refusedMessages());
    }

    private static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toMillis() / 1000.0;
    }
}
