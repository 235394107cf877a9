package org.mailpolicy.fakeaol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The HTTP control API, driven with the JDK's HttpClient. */
class FakeAolControlApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static FakeAol aol;

    @BeforeAll
    static void start() throws IOException {
        aol = FakeAol.start(FakeAolSettings.ephemeralPorts());
    }

    @AfterAll
    static void stop() {
        aol.close();
    }

    @BeforeEach
    void reset() {
        aol.reset();
    }

    @Test
    void putModeSetsTheModeWithItsDurationAndParameters() throws Exception {
        HttpResponse<String> put = request("PUT", "/mode", "{\"mode\": \"RATE_LIMIT\", \"seconds\": 20, \"perMinute\": 5}");
        assertThat(put.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(put.body());
        assertThat(body.get("mode").asText()).isEqualTo("RATE_LIMIT");
        assertThat(body.get("perMinute").asInt()).isEqualTo(5);
        assertThat(body.get("remainingSeconds").asDouble()).isBetween(15.0, 20.0);
        assertThat(aol.mode().setting()).isEqualTo(ModeSetting.of(Mode.RATE_LIMIT).perMinute(5)
                .lasting(Duration.ofSeconds(20)));

        request("PUT", "/mode", "{\"mode\": \"slow\", \"delayMillis\": 1500}");
        JsonNode got = JSON.readTree(request("GET", "/mode", null).body());
        assertThat(got.get("mode").asText()).isEqualTo("SLOW");
        assertThat(got.get("delayMillis").asLong()).isEqualTo(1500);
        assertThat(got.get("until").isNull()).isTrue();
        assertThat(aol.mode().setting().delay()).isEqualTo(Duration.ofMillis(1500));

        request("PUT", "/mode", "{\"mode\": \"DYN_T1\"}");
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            assertThat(client.readReply()).isEqualTo("421 4.7.1 : (DYN:T1)");
        }
    }

    @Test
    void badModeRequestsGet400NamingTheProblem() throws Exception {
        assertBadRequest("{\"mode\": \"DYN_T9\"}", "mode: unknown mode 'DYN_T9'", "RATE_LIMIT");
        assertBadRequest("{\"mode\": \"DYN_T1\", \"seconds\": 20", "malformed JSON at line 1");
        assertBadRequest("{\"seconds\": 20}", "mode: required string field is missing");
        assertBadRequest("{\"mode\": \"DYN_T1\", \"seconds\": -1}", "seconds: expected a positive number");
        assertBadRequest("{\"mode\": \"DYN_T1\", \"perMinute\": 3}", "perMinute applies only to RLY_NW and RATE_LIMIT");
        assertBadRequest("{\"mode\": \"RLY_NW\", \"perMinute\": \"many\"}", "perMinute: expected an integer");
        assertBadRequest("{\"mode\": \"NORMAL\", \"secs\": 3}", "unknown field 'secs'");
        assertBadRequest("[\"DYN_T1\"]", "expected a JSON object");
        assertBadRequest("", "empty request body");
        assertThat(aol.mode().mode()).isEqualTo(Mode.NORMAL);
    }

    @Test
    void connectionsCountTheTransactionsEachCarriedAndIdleOnesCanBeDropped() throws Exception {
        try (RawSmtpClient reused = RawSmtpClient.connect(aol.smtpPort())) {
            reused.startMail("bob@sender.example");
            reused.send("RCPT TO:<ok-1@aol.com>");
            reused.data("Subject: one\r\n\r\nbody\r\n");
            reused.send("RSET");
            reused.send("MAIL FROM:<bob@sender.example>");
            reused.send("RCPT TO:<ok-2@aol.com>");
            reused.data("Subject: two\r\n\r\nbody\r\n");
            try (RawSmtpClient idle = RawSmtpClient.connect(aol.smtpPort())) {
                idle.readReply();
                JsonNode connections = JSON.readTree(request("GET", "/connections", null).body());
                assertThat(connections).hasSize(2);
                assertThat(connections.get(0).get("transactions").asInt()).isEqualTo(2);
                assertThat(connections.get(0).get("open").asBoolean()).isTrue();
                assertThat(connections.get(1).get("transactions").asInt()).isZero();
                assertThat(JSON.readTree(request("GET", "/transactions", null).body()).get(1).get("connection").asInt())
                        .isEqualTo(connections.get(0).get("connection").asInt());

                JsonNode dropped = JSON.readTree(request("POST", "/connections/drop-idle", "").body());
                assertThat(dropped.get("dropped").asInt()).isEqualTo(2);
                assertThat(idle.readReply()).isEqualTo(RawSmtpClient.CLOSED);
            }
        }
        assertThat(aol.connections()).extracting(ConnectionSummary::transactions).containsExactly(2, 0);
    }

    private static void assertBadRequest(String body, String... messageParts) throws Exception {
        HttpResponse<String> response = request("PUT", "/mode", body);
        assertThat(response.statusCode()).as(body).isEqualTo(400);
        assertThat(JSON.readTree(response.body()).get("error").asText()).contains(messageParts);
    }

    @Test
    void transactionsAreListedOldestFirstWithNullsForStagesThatDidNotHappen() throws Exception {
        aol.setMode(Mode.RTR_BB);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.readReply();
        }
        aol.setMode(Mode.NORMAL);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<unknown-1@aol.com>");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.data("Subject: hi\r\n\r\nbody\r\n");
        }

        HttpResponse<String> response = request("GET", "/transactions", null);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        JsonNode transactions = JSON.readTree(response.body());
        assertThat(transactions).hasSize(2);

        JsonNode rejected = transactions.get(0);
        assertThat(rejected.get("connectReply").asText()).isEqualTo("554 RTR:BB");
        assertThat(rejected.get("client").asText()).isEqualTo("127.0.0.1");
        assertThat(rejected.get("time").asText()).matches("\\d{4}-\\d{2}-\\d{2}T.*Z");
        assertThat(rejected.get("mailFrom").isNull()).isTrue();
        assertThat(rejected.get("recipients")).isEmpty();
        assertThat(rejected.get("dataReply").isNull()).isTrue();

        JsonNode delivered = transactions.get(1);
        assertThat(delivered.get("connectReply").asText()).startsWith("220-rly-dd08.mx.aol.com");
        assertThat(delivered.get("mailFrom").asText()).isEqualTo("bob@sender.example");
        assertThat(delivered.get("recipients").get(0).get("address").asText()).isEqualTo("unknown-1@aol.com");
        assertThat(delivered.get("recipients").get(0).get("reply").asText()).isEqualTo("550 MAILBOX NOT FOUND");
        assertThat(delivered.get("recipients").get(1).get("reply").asText()).isEqualTo("250 OK");
        assertThat(delivered.get("dataReply").asText()).isEqualTo("250 OK");

        assertThat(request("DELETE", "/transactions", null).statusCode()).isEqualTo(204);
        assertThat(JSON.readTree(request("GET", "/transactions", null).body())).isEmpty();
    }

    @Test
    void messagesAreListedWithEnvelopeSizeAndHeadersAndCanBeDeleted() throws Exception {
        String message = "From: Bob <bob@sender.example>\r\nTo: ok-1@aol.com\r\n"
                + "Subject: =?UTF-8?Q?caf=C3=A9?=\r\nMessage-ID: <abc@sender.example>\r\n\r\nbody\r\n";
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.send("RCPT TO:<ok-2@aol.com>");
            assertThat(client.data(message)).isEqualTo("250 OK");
        }

        JsonNode messages = JSON.readTree(request("GET", "/messages", null).body());
        assertThat(messages).hasSize(1);
        JsonNode listed = messages.get(0);
        assertThat(listed.get("mailFrom").asText()).isEmpty();
        assertThat(listed.get("recipients").toString()).isEqualTo("[\"ok-1@aol.com\",\"ok-2@aol.com\"]");
        assertThat(listed.get("size").asInt()).isEqualTo(message.length());
        assertThat(listed.get("subject").asText()).isEqualTo("café");
        assertThat(listed.get("messageId").asText()).isEqualTo("<abc@sender.example>");
        assertThat(listed.get("from").asText()).isEqualTo("Bob <bob@sender.example>");
        assertThat(listed.get("autoSubmitted").isNull()).isTrue();

        HttpResponse<String> raw = request("GET", "/messages/0", null);
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().firstValue("Content-Type")).contains("message/rfc822");
        assertThat(raw.body()).isEqualTo(message);
        assertThat(request("GET", "/messages/1", null).statusCode()).isEqualTo(404);
        assertThat(request("GET", "/messages/first", null).statusCode()).isEqualTo(404);

        assertThat(request("DELETE", "/messages", null).statusCode()).isEqualTo(204);
        assertThat(aol.messages()).isEmpty();
    }

    @Test
    void unknownPathsAndMethodsAreRefused() throws Exception {
        HttpResponse<String> missing = request("GET", "/modes", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).get("error").asText()).contains("/modes");

        HttpResponse<String> wrongMethod = request("POST", "/transactions", "{}");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("GET, DELETE");
    }

    @Test
    void resetReturnsToAFreshFake() throws Exception {
        aol.setMode(Mode.DOWN);
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.readReply();
        }
        assertThat(request("POST", "/reset", "").statusCode()).isEqualTo(204);
        assertThat(aol.mode().mode()).isEqualTo(Mode.NORMAL);
        assertThat(aol.transactions()).isEmpty();
    }

    static HttpResponse<String> request(String method, String path, String body) throws Exception {
        return request(aol, method, path, body);
    }

    static HttpResponse<String> request(FakeAol fake, String method, String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fake.controlPort() + path))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
