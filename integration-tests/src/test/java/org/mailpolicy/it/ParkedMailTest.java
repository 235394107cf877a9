package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.testing.DelayIgnoringMailQueue;
import org.mailpolicy.james.testing.MailQueueKind;
import org.mailpolicy.parking.ParkedSummary;
import org.mailpolicy.state.DestinationState;

/**
 * The plugin's own schedule of waiting mail ({@code waits: in: parked}) on a real James 3.8.1 whose queue ignores
 * delays as the distributed server's RabbitMQ queue does ({@link MailQueueKind#DELAY_IGNORING}). With waits in the
 * queue, every held mail would come straight back and be dequeued again as fast as the threads run; parked, each mail
 * is dequeued once when it first meets the hold and once more per release, and a held AOL costs one probe per hold.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ParkedMailTest {
    private static final int MAILS = 200;
    private static final String OUTGOING = "outgoing";
    private static final String WAITS = "\nwaits:\n  in: parked\n  repository: memory://var/mail/policy-parked/\n";
    /** Holds of 10 to 15 s, so that a WebAdmin release is seen to come before the hold's end. */
    private static final String AOL_THROTTLE = "    throttle: { initial: 4s, growth: 1.5, max: 8s }\n";
    private static final Duration DYN_T1_FOR = Duration.ofSeconds(30);

    private static PluginEnvironment env;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.startWithWebAdminOnQueue(MailQueueKind.DELAY_IGNORING, policy -> {
            assertThat(policy).contains(AOL_THROTTLE);
            // Long enough to hold a few hundred mails through the mode and drain them after: none expires here.
            return policy.replace(AOL_THROTTLE, "    throttle: { initial: 10s, growth: 1.5, max: 15s }\n")
                    .replace("maxAge: 60s", "maxAge: 600s").replace("delayWarning: 50s", "delayWarning: 500s") + WAITS;
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    private static PolicyRuntime runtime() throws Exception {
        return PolicyRuntime.forPolicyFile(env.workDir.resolve("conf/delivery-policy.yaml").toString());
    }

    private static Optional<ParkedSummary> aolParked() throws Exception {
        return runtime().parked().summaries(Instant.now()).stream().filter(s -> s.destination().equals("aol")).findFirst();
    }

    private static long parkedNow() throws Exception {
        return aolParked().map(ParkedSummary::parked).orElse(0L);
    }

    private static HttpResponse<String> webAdmin(String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.james().webAdminPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Order(1)
    void heldMailIsParkedNotChurnedAndDeliveredOnceWhenTheModeEnds() throws Exception {
        env.reset();
        env.aol.setMode(Mode.DYN_T1);
        long dequeuedBefore = DelayIgnoringMailQueue.dequeued(OUTGOING);
        List<String> recipients = new ArrayList<>();
        Instant modeStart = Instant.now();
        for (int i = 0; i < MAILS; i++) {
            String r = String.format("ok-park%03d@aol.com", i);
            recipients.add(r);
            env.send("park-" + i, r);
        }
        Poll.until(Duration.ofSeconds(60), "all " + MAILS + " mails parked for aol", ParkedMailTest::parkedNow,
                n -> n == MAILS);
        long sinceStart = Duration.between(modeStart, Instant.now()).toMillis();
        Thread.sleep(Math.max(0, DYN_T1_FOR.toMillis() - sinceStart));

        long dequeuedInMode = DelayIgnoringMailQueue.dequeued(OUTGOING) - dequeuedBefore;
        int refused = env.aol.transactions().size();
        ParkedSummary parked = aolParked().get();
        System.out.println("ParkedMailTest: DYN:T1 for " + DYN_T1_FOR.toSeconds() + " s with " + MAILS
                + " mails: outgoing dequeues " + dequeuedInMode + ", transactions at the fake " + refused
                + ", parked " + parked.parked() + ", released " + parked.released());
        assertThat(env.aol.messages()).as("nothing delivered while AOL refuses").isEmpty();
        // Each mail is dequeued once when it first meets the hold; after that only the probe of each hold's end
        // (a transaction at the fake) comes off the queue, plus at most the two attempts that met the first refusal.
        assertThat(dequeuedInMode).as("dequeues while held").isLessThanOrEqualTo(MAILS + refused + 2L);
        assertThat(refused).as("refused transactions: the first attempts and one probe per hold")
                .isBetween(1, 2 + (int) (DYN_T1_FOR.toSeconds() / 10) + 1);

        env.aol.setMode(Mode.NORMAL);
        Instant normal = Instant.now();
        env.awaitDelivered(recipients, Duration.ofSeconds(120));
        System.out.println("ParkedMailTest: " + MAILS + " parked mails delivered "
                + Duration.between(normal, Instant.now()).toMillis() + " ms after the mode ended");
        Poll.during(Duration.ofSeconds(3), "each recipient delivered once", () -> env.aol.messages().size(),
                n -> n == MAILS);
        env.assertDeliveredOnce(recipients);
        Poll.until(Duration.ofSeconds(10), "nothing left parked", () -> runtime().parked().summaries(Instant.now()),
                List::isEmpty);
        assertThat(env.james().repositoryMails("memory://var/mail/policy-parked/")).as("parked content").isEmpty();
    }

    @Test
    @Order(2)
    void releasingTheHoldInWebAdminReleasesTheParkedMailBeforeTheHoldWouldEnd() throws Exception {
        env.reset();
        Poll.until(Duration.ofSeconds(30), "aol not held", () -> runtime().destinations().get("aol"),
                s -> !s.isPresent() || !s.get().isHeldAt(Instant.now()));
        env.aol.setMode(Mode.DYN_T1);
        List<String> recipients = List.of("ok-rel1@aol.com", "ok-rel2@aol.com", "ok-rel3@aol.com", "ok-rel4@aol.com");
        for (String r : recipients) {
            env.send("release-" + r, r);
        }
        Poll.until(Duration.ofSeconds(30), "the four mails parked", ParkedMailTest::parkedNow, n -> n == 4);
        DestinationState held = runtime().destinations().get("aol").get();
        assertThat(held.isHeldAt(Instant.now())).isTrue();
        Instant heldUntil = held.heldUntil().get();

        JsonNode listed = JSON.readTree(webAdmin("GET", "/delivery-policy/parked").body());
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).get("destination").asText()).isEqualTo("aol");
        assertThat(listed.get(0).get("parked").asInt()).isEqualTo(4);
        assertThat(listed.get(0).get("heldUntil").asText()).isEqualTo(heldUntil.toString());

        env.aol.setMode(Mode.NORMAL);
        assertThat(webAdmin("DELETE", "/delivery-policy/destinations/aol/hold").statusCode()).isEqualTo(204);
        env.awaitDelivered(recipients, Duration.ofSeconds(30));
        Instant delivered = Instant.now();

        System.out.println("ParkedMailTest: hold released in WebAdmin; four parked mails delivered "
                + Duration.between(delivered, heldUntil).toMillis() + " ms before the hold would have ended");
        assertThat(delivered).as("delivered before the hold would have ended").isBefore(heldUntil);
        env.assertDeliveredOnce(recipients);
    }
}
