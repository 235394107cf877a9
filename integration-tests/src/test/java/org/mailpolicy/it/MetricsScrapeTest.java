package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.james.testing.RepoLayout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Issue 11: the plugin's metrics reach Prometheus the way James's own do, through James 3.8.1's WebAdmin
 * {@code GET /metrics} (its {@code MetricsRoutes}, enabled in {@code webadmin.properties} as docs/operating.md says),
 * and the scrape rules the repository ships ({@code config/prometheus/delivery-policy-scrape.yml}) turn their names
 * into the labels the Grafana dashboard ({@code config/grafana/delivery-policy-dashboard.json}) queries. A delivery, an unknown user and a DYN:T1 hold on a real James and the
 * fake AOL, then a scrape.
 */
class MetricsScrapeTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Map<String, String> AOL = Map.of("destination", "aol");
    private static final Pattern METRIC_NAME = Pattern.compile("delivery_policy_[a-z_]+");

    private static PluginEnvironment env;
    private static HttpClient http;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.startWithWebAdmin(MetricsScrapeTest::holdsOf15Seconds);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void outcomesHoldsAndPaceArePrometheusSeriesLabelledByDestinationActionAndReason() throws Exception {
        env.reset();
        env.send("metrics-ok-" + System.nanoTime(), "ok-metrics-1@aol.com");
        env.send("metrics-unknown-" + System.nanoTime(), "unknown-metrics-1@aol.com");
        env.awaitDelivered(List.of("ok-metrics-1@aol.com"), WAIT);
        Poll.until(WAIT, "the unknown user's suppress outcome in /metrics",
                () -> value(scrape(), "delivery_policy_outcome_total",
                        Map.of("destination", "aol", "action", "suppress", "reason", "userunknown")),
                v -> v.orElse(0.0) >= 1);

        // AOL says DYN:T1 at the greeting: the destination is held, and the scrape says so while it lasts (15 s, so
        // that a mail sent meanwhile surely waits). Once the idle connections are closed, so that the next mail must
        // connect and be greeted.
        Poll.until(WAIT, "the plugin's idle connections to the fake closed", () -> env.aol.connections(),
                connections -> connections.stream().noneMatch(c -> c.open()));
        env.aol.setMode(Mode.DYN_T1);
        env.send("metrics-hold-" + System.nanoTime(), "ok-metrics-2@aol.com");
        // The hold is stored before the outcome is counted: a scrape may fall between the two, so wait for both.
        List<PrometheusScrape.Series> held = Poll.until(WAIT, "aol held and its throttle counted in /metrics",
                MetricsScrapeTest::scrape,
                series -> value(series, "delivery_policy_pace_held", AOL).orElse(0.0) == 1.0
                        && value(series, "delivery_policy_outcome_total",
                                Map.of("destination", "aol", "action", "throttle", "reason", "speeding")).isPresent());
        assertThat(value(held, "delivery_policy_holds_started_total", AOL)).hasValueSatisfying(v -> assertThat(v).isEqualTo(1.0));
        env.aol.setMode(Mode.NORMAL);
        env.send("metrics-waits-" + System.nanoTime(), "ok-metrics-3@aol.com");
        Poll.until(WAIT, "a mail waiting for the hold in /metrics",
                () -> value(scrape(), "delivery_policy_waits_total", AOL), v -> v.orElse(0.0) >= 1);
        env.awaitDelivered(List.of("ok-metrics-2@aol.com", "ok-metrics-3@aol.com"), WAIT);

        List<PrometheusScrape.Series> after = Poll.until(WAIT, "the hold over in /metrics", MetricsScrapeTest::scrape,
                series -> value(series, "delivery_policy_pace_held", AOL).orElse(1.0) == 0.0
                        && value(series, "delivery_policy_outcome_total", Map.of("destination", "aol", "action", "delivered"))
                                .orElse(0.0) >= 3);
        assertThat(value(after, "delivery_policy_attempts_total", AOL)).hasValueSatisfying(v -> assertThat(v).isGreaterThanOrEqualTo(4));
        assertThat(value(after, "delivery_policy_pace_rate", AOL)).isPresent();
        assertThat(value(after, "delivery_policy_pace_concurrency", AOL)).hasValueSatisfying(v -> assertThat(v).isPositive());
        assertThat(value(after, "delivery_policy_directory_outage_suspected", AOL)).hasValue(0.0);
        assertThat(value(after, "delivery_policy_suppressions_added_total", Map.of("source", "live_reply")))
                .hasValueSatisfying(v -> assertThat(v).isGreaterThanOrEqualTo(1));
        assertThat(value(after, "delivery_policy_connections_opened_total", AOL)).isPresent();
        // The per-destination total is dropped at scrape time: sum() over the labelled series is the total.
        assertThat(after).noneMatch(s -> s.name().equals("delivery_policy_attempts_total") && s.labels().isEmpty());
        // No plugin series left with a destination in its name: a metric added without a scrape rule fails here.
        assertThat(after).filteredOn(s -> s.name().startsWith("delivery_policy_"))
                .allSatisfy(s -> assertThat(s.name()).doesNotContain("_aol").doesNotEndWith("_default"));
        // James's own metrics are on the same page: this is James's exporter, not one of the plugin's.
        assertThat(after).anyMatch(s -> !s.name().startsWith("delivery_policy_"));

        // Every series the shipped Grafana dashboard queries is one this scrape produces, with the labels it groups
        // by. The parked-mail series exist only where the plugin's own schedule is configured (not in this policy).
        Set<String> scraped = after.stream().map(PrometheusScrape.Series::name).collect(Collectors.toSet());
        Set<String> queried = dashboardMetricNames();
        assertThat(queried).contains("delivery_policy_outcome_total", "delivery_policy_pace_held",
                "delivery_policy_parked_count");
        assertThat(queried).filteredOn(name -> !name.startsWith("delivery_policy_parked_"))
                .allSatisfy(name -> assertThat(scraped).as("series the dashboard queries").contains(name));
        assertThat(after).filteredOn(s -> queried.contains(s.name()) && !s.name().startsWith("delivery_policy_suppressions"))
                .allSatisfy(s -> assertThat(s.labels()).containsKey("destination"));
    }

    private static String holdsOf15Seconds(String policy) {
        String testHold = "throttle: { initial: 4s, growth: 1.5, max: 8s }";
        if (!policy.contains(testHold)) {
            throw new IllegalStateException("it-policy.yaml: expected '" + testHold + "' for the aol destination");
        }
        return policy.replace(testHold, "throttle: { initial: 15s, growth: 1.5, max: 20s }");
    }

    private static Set<String> dashboardMetricNames() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(
                RepoLayout.find().config().resolve("grafana/delivery-policy-dashboard.json").toFile());
        Set<String> names = new TreeSet<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                Matcher m = METRIC_NAME.matcher(target.get("expr").asText());
                while (m.find()) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    @Test
    void metricsIsPrometheusTextOnTheWebAdminPort() throws Exception {
        HttpResponse<String> response = get("/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
        assertThat(PrometheusScrape.parse(response.body())).isNotEmpty();
    }

    private static Optional<Double> value(List<PrometheusScrape.Series> series, String name, Map<String, String> labels) {
        return series.stream().filter(s -> s.name().equals(name) && s.has(labels)).map(PrometheusScrape.Series::value)
                .reduce(Double::sum);
    }

    private static List<PrometheusScrape.Series> scrape() throws Exception {
        HttpResponse<String> response = get("/metrics");
        assertThat(response.statusCode()).as("GET /metrics").isEqualTo(200);
        return PrometheusScrape.relabel(PrometheusScrape.parse(response.body()),
                RepoLayout.find().config().resolve("prometheus/delivery-policy-scrape.yml"));
    }

    private static HttpResponse<String> get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.james().webAdminPort() + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
