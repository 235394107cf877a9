package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Issue 13 on a real James 3.8.1: the fake AOL's directory breaks and it answers {@code 550 MAILBOX NOT FOUND} for
 * everyone. The first few real people are believed (suppressed, a DSN each); once five distinct recipients within 60 s
 * were answered unknown, the guard suspects AOL's directory: the replies are retried, not suppressed, the suppressions
 * the surge wrote are lifted, and WebAdmin's destination state says so. When the directory is back, the retried mail
 * is delivered once, and after the quiet period an unknown user is suppressed again.
 */
class DirectoryOutageTest {
    /** The test policy's timings: retries 1 s then every 2 s, expiry after 60 s; the guard's in seconds too. */
    private static final String GUARD = "    unknownRecipientGuard: { window: 60s, minRecipients: 5, share: 0.5, quiet: 5s }\n";
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PluginEnvironment env;
    private static HttpClient http;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.startWithWebAdmin(DirectoryOutageTest::withGuard);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    private static String withGuard(String policy) {
        String route = "    route: 127.0.0.1:";
        assertThat(policy).contains(route);
        return policy.replace(route, GUARD + route);
    }

    @Test
    void anAolDirectoryOutageDoesNotEmptyAol() throws Exception {
        env.aol.setMode(Mode.DIRECTORY_OUTAGE);

        // Below the threshold the replies are believed: four real people suppressed, a DSN each.
        for (int i = 0; i < 4; i++) {
            String subject = "outage-believed-" + i + "-" + System.nanoTime();
            env.send(subject, person(i));
            InternetHeaders failed = Dsns.status(env.awaitDsnAbout(subject, WAIT)).recipient(person(i));
            assertThat(failed.getHeader("Action", null)).isEqualToIgnoringCase("failed");
            assertThat(call("GET", "/suppressions/" + person(i)).status()).isEqualTo(200);
        }

        // The fifth makes the surge: it and everyone after are retried, and the four suppressions are lifted.
        List<String> retriedSubjects = new ArrayList<>();
        for (int i = 4; i < 8; i++) {
            String subject = "outage-retried-" + i + "-" + System.nanoTime();
            String recipient = person(i);
            retriedSubjects.add(subject);
            env.send(subject, recipient);
            Poll.until(WAIT, recipient + " to be answered unknown twice (tried again)", () -> env.rcptsFor(recipient),
                    t -> t.size() >= 2);
        }
        JsonNode aol = Poll.until(WAIT, "WebAdmin to show aol's directory as suspect",
                () -> destination(ok(call("GET", "/destinations")), "aol"),
                d -> d.get("directoryOutageSuspected").asBoolean());
        assertThat(aol.get("directoryOutageSince").asText()).isNotEmpty();
        assertThat(aol.get("directoryOutageUntil").asText()).isNotEmpty();
        assertThat(aol.get("unknownRecipients").asInt()).isGreaterThanOrEqualTo(5);
        for (int i = 0; i < 8; i++) {
            assertThat(call("GET", "/suppressions/" + person(i)).status()).as("%s suppressed", person(i)).isEqualTo(404);
        }
        for (String subject : retriedSubjects) {
            assertThat(env.dsnsAbout(subject)).as("a DSN about %s", subject).isEmpty();
        }

        // The directory is back: each retried person gets the mail exactly once, and no DSN.
        env.aol.setMode(Mode.NORMAL);
        for (int i = 4; i < 8; i++) {
            String recipient = person(i);
            Poll.until(WAIT, recipient + " to be delivered", () -> deliveriesTo(recipient), n -> n == 1);
        }
        Poll.during(Duration.ofSeconds(3), "each retried person delivered once",
                () -> List.of(4, 5, 6, 7).stream().mapToLong(i -> deliveriesTo(person(i))).sum(), n -> n == 4);
        for (String subject : retriedSubjects) {
            assertThat(env.dsnsAbout(subject)).as("a DSN about %s", subject).isEmpty();
        }
        // A lifted person is tried again, and is there.
        env.send("outage-lifted-" + System.nanoTime(), person(0));
        Poll.until(WAIT, person(0) + " to be delivered after the lift", () -> deliveriesTo(person(0)), n -> n == 1);

        // Once the surge has left the window and the quiet period passed, an unknown user suppresses again.
        Poll.until(Duration.ofSeconds(60), "the suspicion of aol's directory to end",
                () -> destination(ok(call("GET", "/destinations")), "aol"),
                d -> !d.get("directoryOutageSuspected").asBoolean());
        String subject = "outage-over-" + System.nanoTime();
        env.send(subject, "unknown-after-outage@aol.com");
        MimeMessage dsn = env.awaitDsnAbout(subject, WAIT);
        assertThat(Dsns.status(dsn).recipient("unknown-after-outage@aol.com").getHeader("Action", null))
                .isEqualToIgnoringCase("failed");
        assertThat(call("GET", "/suppressions/unknown-after-outage@aol.com").status()).isEqualTo(200);
    }

    /** Real people at AOL (the fake's NORMAL mode accepts them), answered unknown only while its directory is broken. */
    private static String person(int i) {
        return "ok-directory-" + i + "@aol.com";
    }

    private static long deliveriesTo(String address) {
        return env.aol.messages().stream().filter(m -> m.recipients().contains(address)).count();
    }

    private static JsonNode destination(JsonNode destinations, String name) {
        return StreamSupport.stream(destinations.spliterator(), false)
                .filter(d -> d.get("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no destination " + name + " in " + destinations));
    }

    private static JsonNode ok(HttpReply reply) throws Exception {
        assertThat(reply.status()).as("HTTP status; body: %s", reply.body()).isEqualTo(200);
        return reply.json();
    }

    private static HttpReply call(String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.james().webAdminPort()
                        + "/delivery-policy" + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody())
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
