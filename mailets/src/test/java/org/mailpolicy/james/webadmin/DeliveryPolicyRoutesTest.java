package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.james.webadmin.WebAdminServer;
import org.apache.james.webadmin.WebAdminUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.decision.AttemptOutcome;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.Scope;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DirectoryOutageGuard;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SuppressionEntry;

/** The routes in a real James WebAdminServer (Spark, James's error handling), over HTTP. */
class DeliveryPolicyRoutesTest {
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    private static final String POLICY = "version: 1\n"
            + "destinations:\n"
            + "  - name: aol\n"
            + "    domains: [aol.com]\n"
            + "    throttle: {initial: 15m, growth: 2.0, max: 4h}\n";

    @TempDir
    Path dir;
    private JdbcSuppressionList suppressions;
    private InMemoryDestinationStateStore states;
    private final DirectoryOutageGuard outages = new DirectoryOutageGuard();
    private final List<String> released = new ArrayList<>();
    private DeliveryPolicy policy;
    private final org.mailpolicy.parking.ParkedMailStore parked = org.mailpolicy.parking.JdbcParkedMailStore.inMemory();
    private WebAdminServer server;
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() throws Exception {
        suppressions = JdbcSuppressionList.openH2(dir.resolve("suppressions"));
        states = new InMemoryDestinationStateStore();
        policy = DeliveryPolicy.parse(POLICY, "test-policy.yaml");
        DeliveryPolicyRoutes routes = DeliveryPolicyRoutes.of(suppressions, states, outages, policy,
                (destination, reply) -> classify(destination, reply), Clock.fixed(NOW, ZoneOffset.UTC),
                () -> Optional.of(QueuedMailCounter.Counts.of(Map.of("aol", 7L, "example.org", 3L), true)),
                destination -> {
                    released.add(destination);
                    return OptionalLong.of(0);
                }, parked);
        server = WebAdminUtils.createWebAdminServer(routes).start();
    }

    @AfterEach
    void stop() {
        server.destroy();
        suppressions.close();
    }

    /** Route tests check what the route does with a classification; the engine's tests check classifications. */
    private static Classification classify(Optional<DestinationPolicy> destination, SmtpReply reply) {
        String rule = destination.map(d -> d.name() + ".dyn-t1").orElse("any.dyn-t1");
        return new Classification(reply, Action.THROTTLE, "speeding", Scope.DESTINATION, rule,
                "AOL is limiting the rate.", "Slow down.", "AOL postmaster", Duration.ofMinutes(15), null);
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort().getValue() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** As {@code curl -d} sends: any body labelled as a form. */
    private HttpResponse<String> sendAsForm(String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort().getValue() + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode body(HttpResponse<String> r) throws Exception {
        return json.readTree(r.body());
    }

    private void suppress(String address, SuppressionEntry.Source source) {
        suppressions.add(SuppressionEntry.of(address, NOW.minusSeconds(60), "userunknown", "550 MAILBOX NOT FOUND",
                "aol.mailbox-not-found", source, Optional.of("m1@example.com")));
    }

    @Test
    void listsParkedMailPerDestinationAndReleasesItNow() throws Exception {
        parked.park(org.mailpolicy.parking.ParkedMail.of("p1", "aol", NOW.plusSeconds(600), NOW.minusSeconds(60), "held"));
        parked.park(org.mailpolicy.parking.ParkedMail.of("p2", "aol", NOW.plusSeconds(900), NOW, "held"));
        parked.park(org.mailpolicy.parking.ParkedMail.of("p3", "example.org", NOW.plusSeconds(300), NOW, "retry"));

        JsonNode list = body(send("GET", "/delivery-policy/parked", null));

        assertThat(list).hasSize(2);
        assertThat(list.get(0).get("destination").asText()).isEqualTo("aol");
        assertThat(list.get(0).get("parked").asLong()).isEqualTo(2);
        assertThat(list.get(0).get("oldest").asText()).isEqualTo(NOW.minusSeconds(60).toString());
        assertThat(list.get(0).get("nextDue").asText()).isEqualTo(NOW.plusSeconds(600).toString());

        HttpResponse<String> release = send("POST", "/delivery-policy/parked/aol/release", null);

        assertThat(release.statusCode()).isEqualTo(200);
        assertThat(body(release).get("madeDue").asInt()).isEqualTo(2);
        assertThat(parked.destinationsDue(NOW)).containsExactly("aol");
        assertThat(send("POST", "/delivery-policy/parked/a%20b/release", null).statusCode()).isEqualTo(400);
    }

    @Test
    void releasingAHoldAlsoMakesTheDestinationsParkedMailDue() throws Exception {
        states.recordThrottle(policy.destination("aol").get(), "421 4.7.0 [TSS04] throttled", Optional.empty(),
                NOW.minusSeconds(60));
        parked.park(org.mailpolicy.parking.ParkedMail.of("p1", "aol", NOW.plusSeconds(840), NOW.minusSeconds(60), "held"));
        assertThat(body(send("GET", "/delivery-policy/parked", null)).get(0).get("heldUntil").isNull()).isFalse();

        assertThat(send("DELETE", "/delivery-policy/destinations/aol/hold", null).statusCode()).isEqualTo(204);

        assertThat(parked.destinationsDue(NOW)).containsExactly("aol");
        assertThat(released).containsExactly("aol");
    }

    @Test
    void listsSuppressionsPagedAndByDomain() throws Exception {
        suppress("a@aol.com", SuppressionEntry.Source.LIVE_REPLY);
        suppress("b@aol.com", SuppressionEntry.Source.BOUNCE);
        suppress("c@yahoo.com", SuppressionEntry.Source.LIVE_REPLY);

        JsonNode all = body(send("GET", "/delivery-policy/suppressions", null));
        assertThat(all.get("total").asLong()).isEqualTo(3);
        assertThat(all.get("entries")).hasSize(3);

        JsonNode page = body(send("GET", "/delivery-policy/suppressions?offset=1&limit=1", null));
        assertThat(page.get("entries")).hasSize(1);
        assertThat(page.get("entries").get(0).get("address").asText()).isEqualTo("b@aol.com");
        assertThat(page.get("entries").get(0).get("source").asText()).isEqualTo("bounce");
        assertThat(page.get("entries").get(0).get("messageId").asText()).isEqualTo("m1@example.com");

        JsonNode aol = body(send("GET", "/delivery-policy/suppressions?domain=AOL.com", null));
        assertThat(aol.get("total").asLong()).isEqualTo(2);
        assertThat(aol.get("entries").findValuesAsText("address")).containsExactly("a@aol.com", "b@aol.com");
    }

    @Test
    void badPagingOrDomainIs400WithAMessage() throws Exception {
        HttpResponse<String> r = send("GET", "/delivery-policy/suppressions?limit=abc", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(body(r).get("message").asText()).contains("limit must be a whole number");

        assertThat(send("GET", "/delivery-policy/suppressions?offset=-1", null).statusCode()).isEqualTo(400);
        assertThat(send("GET", "/delivery-policy/suppressions?limit=100000", null).statusCode()).isEqualTo(400);
        HttpResponse<String> d = send("GET", "/delivery-policy/suppressions?domain=a@b", null);
        assertThat(d.statusCode()).isEqualTo(400);
        assertThat(body(d).get("message").asText()).contains("not a domain");
    }

    @Test
    void getPutDeleteOneAddress() throws Exception {
        assertThat(send("GET", "/delivery-policy/suppressions/bob@aol.com", null).statusCode()).isEqualTo(404);

        HttpResponse<String> created = send("PUT", "/delivery-policy/suppressions/Bob@AOL.com",
                "{\"reason\": \"complained\", \"reply\": \"asked by phone\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        SuppressionEntry stored = suppressions.find("bob@aol.com").get();
        assertThat(stored.source()).isEqualTo(SuppressionEntry.Source.MANUAL);
        assertThat(stored.reason()).isEqualTo("complained");
        assertThat(stored.reply()).isEqualTo("asked by phone");
        assertThat(stored.since()).isEqualTo(NOW);

        HttpResponse<String> again = send("PUT", "/delivery-policy/suppressions/bob@aol.com", null);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(body(again).get("reason").asText()).isEqualTo("complained");

        JsonNode got = body(send("GET", "/delivery-policy/suppressions/bob@aol.com", null));
        assertThat(got.get("address").asText()).isEqualTo("bob@aol.com");
        assertThat(got.get("since").asText()).isEqualTo("2026-11-22T12:00:00Z");
        assertThat(got.get("source").asText()).isEqualTo("manual");

        assertThat(send("DELETE", "/delivery-policy/suppressions/bob@aol.com", null).statusCode()).isEqualTo(204);
        assertThat(suppressions.find("bob@aol.com")).isEmpty();
        assertThat(send("DELETE", "/delivery-policy/suppressions/bob@aol.com", null).statusCode()).isEqualTo(404);
    }

    @Test
    void putWithoutBodyIsAManualEntry() throws Exception {
        assertThat(send("PUT", "/delivery-policy/suppressions/ann@aol.com", "").statusCode()).isEqualTo(201);
        SuppressionEntry ann = suppressions.find("ann@aol.com").get();
        assertThat(ann.reason()).isEqualTo("manual");
        assertThat(ann.ruleId()).isEqualTo("manual");
    }

    @Test
    void addressWithPlusAndEncodedCharactersRoundTrips() throws Exception {
        String path = "/delivery-policy/suppressions/" + URLEncoder.encode("bob+news@aol.com", StandardCharsets.UTF_8)
                .replace("+", "%2B");
        assertThat(send("PUT", path, null).statusCode()).isEqualTo(201);
        assertThat(suppressions.find("bob+news@aol.com")).isPresent();
    }

    @Test
    void badAddressOrBodyIs400() throws Exception {
        HttpResponse<String> noAt = send("PUT", "/delivery-policy/suppressions/not-an-address", null);
        assertThat(noAt.statusCode()).isEqualTo(400);
        assertThat(body(noAt).get("message").asText()).contains("not a mail address");

        HttpResponse<String> notJson = send("PUT", "/delivery-policy/suppressions/bob@aol.com", "reason=x");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(body(notJson).get("message").asText()).contains("not valid JSON");

        HttpResponse<String> unknownField = send("PUT", "/delivery-policy/suppressions/bob@aol.com", "{\"reasn\": \"x\"}");
        assertThat(unknownField.statusCode()).isEqualTo(400);
        assertThat(body(unknownField).get("message").asText()).contains("reasn");

        HttpResponse<String> wrongType = send("PUT", "/delivery-policy/suppressions/bob@aol.com", "{\"reason\": 5}");
        assertThat(wrongType.statusCode()).isEqualTo(400);
        assertThat(suppressions.find("bob@aol.com")).isEmpty();
    }

    @Test
    void listsConfiguredAndSeenDestinationsWithTheirHolds() throws Exception {
        states.recordThrottle(policy.destination("aol").get(), "421 DYN:T1", Optional.empty(), NOW.minusSeconds(60));
        // Unlisted domains: one state each, under the default's settings.
        states.recordThrottle(DestinationKey.of("example.org"), policy.defaultDestination(), "421 4.7.0 later",
                Optional.empty(), NOW.minusSeconds(30));
        states.admit(DestinationKey.of("example.net"), policy.defaultDestination(), NOW.minusSeconds(10));

        JsonNode list = body(send("GET", "/delivery-policy/destinations", null));

        assertThat(list.findValuesAsText("name")).containsExactly("aol", "example.net", "example.org");
        assertThat(list.findValuesAsText("policy")).containsExactly("aol", "default", "default");
        JsonNode aol = list.get(0);
        assertThat(aol.get("configured").asBoolean()).isTrue();
        assertThat(aol.get("held").asBoolean()).isTrue();
        assertThat(aol.get("heldUntil").asText()).isEqualTo("2026-11-22T12:14:00Z");
        assertThat(aol.get("currentHold").asText()).isEqualTo("PT15M");
        assertThat(aol.get("currentHoldSeconds").asLong()).isEqualTo(900);
        assertThat(aol.get("lastReply").asText()).isEqualTo("421 DYN:T1");
        assertThat(aol.get("attempts").asLong()).isEqualTo(1);
        assertThat(aol.get("queued").asLong()).isEqualTo(7);
        JsonNode net = list.get(1);
        assertThat(net.get("configured").asBoolean()).isFalse();
        assertThat(net.get("held").asBoolean()).isFalse();
        assertThat(net.get("heldUntil").isNull()).isTrue();
        assertThat(net.get("inFlight").asInt()).isEqualTo(1);
        assertThat(net.get("queued").asLong()).isZero();
        assertThat(net.get("queuedComplete").asBoolean()).isTrue();
        JsonNode org = list.get(2);
        assertThat(org.get("held").asBoolean()).isTrue();
        assertThat(org.get("lastReply").asText()).isEqualTo("421 4.7.0 later");
        assertThat(org.get("queued").asLong()).isEqualTo(3);
    }

    @Test
    void aDestinationSaysWhenItsDirectoryIsSuspected() throws Exception {
        Classification unknown = new Classification(SmtpReply.parse("550 MAILBOX NOT FOUND", Stage.RCPT), Action.SUPPRESS,
                "userunknown", Scope.RECIPIENT, "aol.mailbox-not-found", "No such user.", "Remove it.", "AOL", null, null);
        AttemptOutcome.Builder all = AttemptOutcome.builder();
        for (int i = 0; i < 20; i++) {
            all.failed("person" + i + "@aol.com", unknown);
        }
        outages.review(DestinationKey.of("aol"), policy.destination("aol").get(), all.build(), NOW.minusSeconds(60));
        // An unlisted domain the guard counts but the state store does not know is listed too.
        outages.review(DestinationKey.of("example.com"), policy.defaultDestination(),
                AttemptOutcome.builder().delivered("a@example.com").build(), NOW.minusSeconds(60));

        JsonNode list = body(send("GET", "/delivery-policy/destinations", null));

        assertThat(list.findValuesAsText("name")).containsExactly("aol", "example.com");
        JsonNode aol = list.get(0);
        assertThat(aol.get("directoryOutageSuspected").asBoolean()).isTrue();
        assertThat(aol.get("directoryOutageSince").asText()).isEqualTo("2026-11-22T11:59:00Z");
        assertThat(aol.get("directoryOutageUntil").asText()).isEqualTo("2026-11-22T12:29:00Z");
        assertThat(aol.get("unknownRecipients").asInt()).isEqualTo(20);
        assertThat(aol.get("answeredRecipients").asInt()).isEqualTo(20);
        JsonNode example = list.get(1);
        assertThat(example.get("directoryOutageSuspected").asBoolean()).isFalse();
        assertThat(example.get("directoryOutageUntil").isNull()).isTrue();
        assertThat(example.get("answeredRecipients").asInt()).isEqualTo(1);
    }

    @Test
    void classifyReadsABodyCurlLabelledAsAForm() throws Exception {
        HttpResponse<String> plain = sendAsForm("/delivery-policy/classify?destination=aol", "421 4.7.1 : (DYN:T1)");
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(body(plain).get("code").asInt()).isEqualTo(421);
        assertThat(body(plain).get("input").asText()).isEqualTo("421 4.7.1 : (DYN:T1)");
        assertThat(body(plain).get("rule").asText()).isEqualTo("aol.dyn-t1");
        HttpResponse<String> json = sendAsForm("/delivery-policy/classify", "{\"reply\": \"550 MAILBOX NOT FOUND\", \"stage\": \"rcpt\"}");
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(body(json).get("input").asText()).isEqualTo("550 MAILBOX NOT FOUND");
        assertThat(body(json).get("stage").asText()).isEqualTo("RCPT");
    }

    @Test
    void releasesAHold() throws Exception {
        states.recordThrottle(policy.destination("aol").get(), "421 DYN:T1", Optional.empty(), NOW);

        assertThat(send("DELETE", "/delivery-policy/destinations/aol/hold", null).statusCode()).isEqualTo(204);
        assertThat(states.get("aol").get().heldUntil()).isEmpty();
        assertThat(released).containsExactly("aol");

        HttpResponse<String> notHeld = send("DELETE", "/delivery-policy/destinations/aol/hold", null);
        assertThat(notHeld.statusCode()).isEqualTo(409);
        assertThat(body(notHeld).get("message").asText()).contains("not held");

        HttpResponse<String> unknown = send("DELETE", "/delivery-policy/destinations/nowhere/hold", null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(body(unknown).get("message").asText()).contains("nowhere");
    }

    @Test
    void releasesTheHoldOfAnUnlistedDomain() throws Exception {
        states.recordThrottle(DestinationKey.of("example.org"), policy.defaultDestination(), "421 4.7.0 later",
                Optional.empty(), NOW);
        states.recordThrottle(DestinationKey.of("example.net"), policy.defaultDestination(), "421 4.7.0 later",
                Optional.empty(), NOW);

        // Any case, as an operator types it; only that domain is released.
        assertThat(send("DELETE", "/delivery-policy/destinations/Example.ORG/hold", null).statusCode()).isEqualTo(204);
        assertThat(states.get("example.org").get().heldUntil()).isEmpty();
        assertThat(states.get("example.net").get().isHeldAt(NOW)).isTrue();
        assertThat(released).containsExactly("example.org");

        assertThat(send("DELETE", "/delivery-policy/destinations/example.org/hold", null).statusCode()).isEqualTo(409);
        HttpResponse<String> never = send("DELETE", "/delivery-policy/destinations/never-seen.example/hold", null);
        assertThat(never.statusCode()).isEqualTo(404);
        assertThat(body(never).get("message").asText()).contains("never-seen.example");
        HttpResponse<String> bad = send("DELETE", "/delivery-policy/destinations/a%20b/hold", null);
        assertThat(bad.statusCode()).isEqualTo(400);
    }

    @Test
    void classifiesARawReply() throws Exception {
        HttpResponse<String> r = send("POST", "/delivery-policy/classify", "421 4.7.0 DYN:T1 try later\r\n");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode c = body(r);
        assertThat(c.get("action").asText()).isEqualTo("throttle");
        assertThat(c.get("reason").asText()).isEqualTo("speeding");
        assertThat(c.get("scope").asText()).isEqualTo("destination");
        assertThat(c.get("rule").asText()).isEqualTo("any.dyn-t1");
        assertThat(c.get("code").asInt()).isEqualTo(421);
        assertThat(c.get("stage").asText()).isEqualTo("UNKNOWN");
        assertThat(c.get("hold").asText()).isEqualTo("15m");
        assertThat(c.has("explanation")).isTrue();
        assertThat(c.has("enhancedCode")).isTrue();
        assertThat(c.has("token")).isTrue();
    }

    @Test
    void classifiesJsonWithAStage() throws Exception {
        JsonNode c = body(send("POST", "/delivery-policy/classify", "{\"reply\": \"421 DYN:T1\", \"stage\": \"end-of-data\"}"));
        assertThat(c.get("stage").asText()).isEqualTo("END_OF_DATA");
        assertThat(c.get("input").asText()).isEqualTo("421 DYN:T1");
    }

    @Test
    void classifiesWithTheRulesOfANamedDestination() throws Exception {
        assertThat(body(send("POST", "/delivery-policy/classify?destination=aol", "421 DYN:T1")).get("rule").asText())
                .isEqualTo("aol.dyn-t1");
        assertThat(body(send("POST", "/delivery-policy/classify", "{\"reply\": \"421\", \"destination\": \"default\"}"))
                .get("rule").asText()).isEqualTo("default.dyn-t1");
        HttpResponse<String> unknown = send("POST", "/delivery-policy/classify?destination=nowhere", "421 DYN:T1");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(body(unknown).get("message").asText()).contains("nowhere");
    }

    @Test
    void classifyRejectsEmptyAndBadInput() throws Exception {
        assertThat(send("POST", "/delivery-policy/classify", "").statusCode()).isEqualTo(400);
        assertThat(send("POST", "/delivery-policy/classify", "{\"stage\": \"rcpt\"}").statusCode()).isEqualTo(400);
        HttpResponse<String> stage = send("POST", "/delivery-policy/classify", "{\"reply\": \"550\", \"stage\": \"helo2\"}");
        assertThat(stage.statusCode()).isEqualTo(400);
        assertThat(body(stage).get("message").asText()).contains("unknown stage 'helo2'").contains("rcpt");
    }
}
