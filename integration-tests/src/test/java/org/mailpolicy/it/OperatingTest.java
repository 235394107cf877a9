package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.StreamSupport;

import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.cli.DeliveryPolicyCli;
import org.mailpolicy.fakeaol.AolBounce;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ReceivedMessage;
import org.mailpolicy.james.PolicyRuntime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Issue 5 on a real James 3.8.1: the plugin's WebAdmin routes, loaded as an operator loads them
 * ({@code conf/extensions.properties} and {@code extensions.routes} in {@code conf/webadmin.properties}), answered over HTTP on James's WebAdmin port while the delivery mailets run, and
 * bounce ingestion end to end (the fake AOL's asynchronous bounce arriving through James's SMTP server).
 *
 * <p>The routes must share the mailets' state, not merely answer: a suppression added over HTTP stops the next
 * delivery, a suppression found by the mailets is listed, a hold started by a DYN:T1 is shown and released.
 */
class OperatingTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static PluginEnvironment env;
    private static HttpClient http;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.startWithWebAdmin(OperatingTest::longHolds);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @BeforeEach
    void freshFake() {
        env.reset();
    }

    @Test
    void suppressionsFoundByDeliveryAreListedRemovedAndAddedBack() throws Exception {
        String address = "unknown-1@aol.com";
        env.send("suppress-" + System.nanoTime(), address);

        HttpReply entry = Poll.until(WAIT, address + " on the suppression list", () -> call("GET", "/suppressions/" + address),
                reply -> reply.status() == 200);
        JsonNode found = entry.json();
        assertThat(found.get("address").asText()).isEqualTo(address);
        assertThat(found.get("domain").asText()).isEqualTo("aol.com");
        assertThat(found.get("source").asText()).isEqualTo("live_reply");
        assertThat(found.get("reason").asText()).isEqualTo("userunknown");
        assertThat(found.get("reply").asText()).contains("550").contains("MAILBOX NOT FOUND");
        assertThat(Instant.parse(found.get("since").asText())).isBefore(Instant.now().plusSeconds(1));

        JsonNode list = ok(call("GET", "/suppressions"));
        assertThat(addresses(list)).contains(address);
        assertThat(list.get("total").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(addresses(ok(call("GET", "/suppressions?domain=aol.com")))).contains(address);
        assertThat(addresses(ok(call("GET", "/suppressions?domain=example.org")))).isEmpty();

        assertThat(call("DELETE", "/suppressions/" + address).status()).isEqualTo(204);
        HttpReply gone = call("GET", "/suppressions/" + address);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().get("message").asText()).contains(address);
        assertThat(call("DELETE", "/suppressions/" + address).status()).isEqualTo(404);
        assertThat(addresses(ok(call("GET", "/suppressions")))).doesNotContain(address);

        HttpReply added = call("PUT", "/suppressions/" + address, "{\"reason\": \"complained\", \"reply\": \"asked by phone\"}");
        assertThat(added.status()).isEqualTo(201);
        assertThat(added.json().get("source").asText()).isEqualTo("manual");
        JsonNode back = ok(call("GET", "/suppressions/" + address));
        assertThat(back.get("reason").asText()).isEqualTo("complained");
        assertThat(back.get("source").asText()).isEqualTo("manual");
        // Already there: the first entry is kept.
        HttpReply again = call("PUT", "/suppressions/" + address, "");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("reason").asText()).isEqualTo("complained");

        HttpReply malformed = call("GET", "/suppressions/not-an-address");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.json().get("message").asText()).contains("not-an-address");
        HttpReply badPut = call("PUT", "/suppressions/bob@aol.com", "{\"why\": \"x\"}");
        assertThat(badPut.status()).isEqualTo(400);
        assertThat(badPut.json().get("message").asText()).contains("why");
        assertThat(call("GET", "/suppressions?limit=lots").json().get("message").asText()).contains("limit");
    }

    @Test
    void anAddressSuppressedOverHttpIsNotTriedByDelivery() throws Exception {
        // An address the fake would accept: only the shared suppression list can stop it.
        String address = "ok-manual@aol.com";
        assertThat(call("PUT", "/suppressions/" + address, "").status()).isEqualTo(201);
        String subject = "manual-" + System.nanoTime();
        env.send(subject, address);

        MimeMessage dsn = env.awaitDsnAbout(subject, WAIT);
        assertThat(Dsns.status(dsn).recipient(address).getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(env.rcptsFor(address)).isEmpty();
    }

    @Test
    void dynT1HoldIsShownAndReleased() throws Exception {
        env.aol.setMode(Mode.DYN_T1);
        env.send("hold-" + System.nanoTime(), "ok-h1@aol.com");

        JsonNode aol = Poll.until(WAIT, "aol held after DYN:T1, with its mail queued",
                () -> destination(ok(call("GET", "/destinations")), "aol"),
                d -> d.get("held").asBoolean() && d.get("queued").asLong() == 1);
        assertThat(aol.get("configured").asBoolean()).isTrue();
        Instant heldUntil = Instant.parse(aol.get("heldUntil").asText());
        assertThat(heldUntil).as("a hold of the test policy's 60 s").isAfter(Instant.now().plusSeconds(30));
        assertThat(aol.get("lastReply").asText()).contains("DYN:T1");
        assertThat(aol.get("consecutiveThrottles").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(aol.get("attempts").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(aol.get("queuedComplete").asBoolean()).isTrue();
        assertThat(env.aol.transactions()).isNotEmpty().allSatisfy(t -> assertThat(t.connectReply()).contains("DYN:T1"));

        env.aol.setMode(Mode.NORMAL);
        assertThat(call("DELETE", "/destinations/aol/hold").status()).isEqualTo(204);
        JsonNode released = destination(ok(call("GET", "/destinations")), "aol");
        assertThat(released.get("held").asBoolean()).isFalse();
        assertThat(released.get("heldUntil").isNull()).isTrue();
        HttpReply notHeld = call("DELETE", "/destinations/aol/hold");
        assertThat(notHeld.status()).isEqualTo(409);
        assertThat(notHeld.json().get("message").asText()).contains("not held");
        HttpReply unknown = call("DELETE", "/destinations/nowhere/hold");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("message").asText()).contains("nowhere");

        // Released: the mail that waited for the hold goes now, not when the hold would have ended; so does new mail.
        ReceivedMessage h1 = Poll.until(WAIT, "ok-h1 delivered", () -> deliveredTo("ok-h1@aol.com"), Optional::isPresent).get();
        assertThat(h1.receivedAt()).isBefore(heldUntil);
        env.send("after-release-" + System.nanoTime(), "ok-h2@aol.com");
        ReceivedMessage h2 = Poll.until(WAIT, "ok-h2 delivered", () -> deliveredTo("ok-h2@aol.com"), Optional::isPresent).get();
        assertThat(h2.receivedAt()).isBefore(heldUntil);
        assertThat(env.aol.messages()).filteredOn(m -> m.recipients().contains("ok-h1@aol.com")).hasSize(1);
        assertThat(env.aol.messages()).filteredOn(m -> m.recipients().contains("ok-h2@aol.com")).hasSize(1);
    }

    @Test
    void classifyAnswersAsTheCommandLineDoes() throws Exception {
        String reply = "421 4.7.1 : (DYN:T1)";
        HttpReply answer = call("POST", "/classify", reply);
        assertThat(answer.status()).isEqualTo(200);
        JsonNode routeJson = answer.json();
        assertThat(routeJson.get("action").asText()).isEqualTo("throttle");
        assertThat(routeJson.get("rule").asText()).isEqualTo("aol.dyn-t1");
        assertThat(routeJson.get("token").asText()).isEqualTo("DYN:T1");
        assertThat(routeJson).isEqualTo(classifiedByCli(reply));

        // With a destination, its own rules come first, as in delivery (the test policy's short-hold DYN:T1 rule).
        JsonNode forAol = ok(call("POST", "/classify?destination=aol", "{\"reply\": \"" + reply + "\", \"stage\": \"connect\"}"));
        assertThat(forAol.get("rule").asText()).isEqualTo("it.dyn-t1");
        assertThat(forAol.get("stage").asText()).isEqualTo("CONNECT");

        HttpReply badStage = call("POST", "/classify", "{\"reply\": \"550 x\", \"stage\": \"bogus\"}");
        assertThat(badStage.status()).isEqualTo(400);
        assertThat(badStage.json().get("message").asText()).contains("bogus");
        HttpReply badDestination = call("POST", "/classify?destination=nowhere", reply);
        assertThat(badDestination.status()).isEqualTo(400);
        assertThat(badDestination.json().get("message").asText()).contains("nowhere");
        assertThat(call("POST", "/classify", "").status()).isEqualTo(400);
    }

    @Test
    void bounceForAMessageWeSentSuppressesAndForgedOnesDoNot() throws Exception {
        String recipient = "ok-later@aol.com";
        String messageId = env.send("later-" + System.nanoTime(), recipient);
        Poll.until(WAIT, "the fake to accept " + messageId, () -> env.aol.messages().stream()
                .anyMatch(m -> m.messageId().map(messageId::equals).orElse(false)), accepted -> accepted);
        // The delivery mailet writes the ledger just after the 250; a bounce racing it would be (rightly) unverified.
        PolicyRuntime runtime = PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString());
        Poll.until(WAIT, "the sent-message ledger to record " + messageId,
                () -> runtime.sentMessages().find(messageId, java.util.List.of(recipient)), Optional::isPresent);
        assertThat(call("GET", "/suppressions/" + recipient).status()).isEqualTo(404);

        // Forged: an id we never sent; and a real id but a recipient it never went to.
        String forgedId = env.aol.sendBounce(bounce("ok-forged@aol.com").withOriginalMessageId("<forged-" + System.nanoTime()
                + "@nowhere.example>"));
        String otherId = env.aol.sendBounce(bounce("ok-other@aol.com").withOriginalMessageId(messageId));
        String realId = env.aol.sendBounce(bounce(recipient).withOriginalMessageId(messageId));

        JsonNode entry = Poll.until(WAIT, recipient + " suppressed by the bounce", () -> call("GET", "/suppressions/" + recipient),
                reply -> reply.status() == 200).json();
        assertThat(entry.get("source").asText()).isEqualTo("bounce");
        assertThat(entry.get("reason").asText()).isEqualTo("userunknown");
        assertThat(entry.get("reply").asText()).contains("MAILBOX NOT FOUND");
        assertThat(entry.get("messageId").asText()).contains(stripBrackets(messageId));

        // Every bounce still reaches alice, the suppressing one included.
        List<MimeMessage> bounces = Poll.until(WAIT, "the three bounces in alice's INBOX",
                () -> inboxWithIds(List.of(forgedId, otherId, realId)), found -> found.size() == 3);
        assertThat(bounces).allSatisfy(m -> assertThat(m.getSubject()).isEqualTo("Returned mail: User unknown"));
        assertThat(call("GET", "/suppressions/ok-forged@aol.com").status()).isEqualTo(404);
        assertThat(call("GET", "/suppressions/ok-other@aol.com").status()).isEqualTo(404);
    }

    /**
     * AOL's holds a minute long instead of the test policy's 4 s: a release must bring the held mail forward, which a
     * short hold would hide by ending on its own.
     */
    private static String longHolds(String policy) {
        String testHold = "throttle: { initial: 4s, growth: 1.5, max: 8s }";
        if (!policy.contains(testHold)) {
            throw new IllegalStateException("it-policy.yaml: expected '" + testHold + "' for the aol destination");
        }
        return policy.replace(testHold, "throttle: { initial: 60s, growth: 1.5, max: 90s }");
    }

    private static AolBounce bounce(String finalRecipient) {
        return AolBounce.of(TestPolicy.ALICE, finalRecipient, "127.0.0.1", env.james().smtpPort());
    }

    private static List<MimeMessage> inboxWithIds(List<String> ids) throws Exception {
        return env.inbox().stream().filter(m -> {
            try {
                return ids.contains(m.getMessageID());
            } catch (javax.mail.MessagingException e) {
                return false;
            }
        }).toList();
    }

    private static Optional<ReceivedMessage> deliveredTo(String address) {
        return env.aol.messages().stream().filter(m -> m.recipients().contains(address)).findFirst();
    }

    private static String stripBrackets(String id) {
        return id.replace("<", "").replace(">", "");
    }

    /** What {@code bin/delivery-policy classify} prints for this reply (the launcher runs this class). */
    private static JsonNode classifiedByCli(String reply) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = DeliveryPolicyCli.run(new String[] {"classify"},
                new ByteArrayInputStream((reply + "\n").getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(status).as("CLI exit status; stderr: %s", err).isZero();
        return JSON.readTree(out.toString(StandardCharsets.UTF_8));
    }

    private static JsonNode destination(JsonNode destinations, String name) {
        return StreamSupport.stream(destinations.spliterator(), false)
                .filter(d -> d.get("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no destination " + name + " in " + destinations));
    }

    private static List<String> addresses(JsonNode page) {
        return StreamSupport.stream(page.get("entries").spliterator(), false).map(e -> e.get("address").asText()).toList();
    }

    private static JsonNode ok(HttpReply reply) throws Exception {
        assertThat(reply.status()).as("HTTP status; body: %s", reply.body()).isEqualTo(200);
        return reply.json();
    }

    private static HttpReply call(String method, String path) throws Exception {
        return call(method, path, null);
    }

    private static HttpReply call(String method, String path, String body) throws Exception {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.james().webAdminPort()
                        + "/delivery-policy" + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, publisher)
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new HttpReply(response.statusCode(), response.body());
    }

    private record HttpReply(int status, String body) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }
}
