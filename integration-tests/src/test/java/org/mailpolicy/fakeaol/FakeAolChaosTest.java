package org.mailpolicy.fakeaol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** CHAOS: random 4xx/5xx replies at RCPT and at the end of DATA, the same for the same seed. */
class FakeAolChaosTest {
    /** The client address the relay is asked about: CHAOS answers every client alike. */
    private static final String CLIENT = "127.0.0.1";

    private static final String MESSAGE = "From: bob@sender.example\r\nTo: ok-1@aol.com\r\nSubject: chaos\r\n"
            + "Message-ID: <chaos1@sender.example>\r\n\r\nHi.\r\n";
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
    void theSameSeedGivesTheSameRepliesWhateverTheOrderOfTheConversations() {
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            addresses.add("ok-" + i + "@aol.com");
        }
        Map<String, String> first = rcptReplies(chaosRelay(7), addresses);
        List<String> shuffled = new ArrayList<>(addresses);
        Collections.shuffle(shuffled, new java.util.Random(3));
        assertThat(rcptReplies(chaosRelay(7), shuffled)).isEqualTo(first);
        assertThat(rcptReplies(chaosRelay(8), addresses)).as("another seed").isNotEqualTo(first);

        AolRelay relay = chaosRelay(7);
        List<String> endOfData = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            endOfData.add(relay.onEndOfData(CLIENT, List.of("ok-" + i + "@aol.com", "ok-x@aol.com"), false).toString());
        }
        AolRelay again = chaosRelay(7);
        for (int i = 0; i < 100; i++) {
            // The same recipients in another order are the same message to the fake.
            assertThat(again.onEndOfData(CLIENT, List.of("ok-x@aol.com", "ok-" + i + "@aol.com"), false).toString())
                    .isEqualTo(endOfData.get(i));
        }
    }

    @Test
    void aboutOneRcptInFiveAndOneEndOfDataInFourFailWithEveryReplyOfTheList() {
        AolRelay relay = chaosRelay(1);
        Map<String, Integer> rcpt = new HashMap<>();
        Map<String, Integer> data = new HashMap<>();
        int n = 4000;
        for (int i = 0; i < n; i++) {
            rcpt.merge(relay.onRecipient(CLIENT, "ok-" + i + "@aol.com").toString(), 1, Integer::sum);
            data.merge(relay.onEndOfData(CLIENT, List.of("ok-" + i + "@aol.com"), false).toString(), 1, Integer::sum);
        }
        assertThat(rcpt.get("250 OK")).isBetween(n * 75 / 100, n * 85 / 100);
        for (String reply : ChaosReplies.RCPT_REPLIES) {
            String expected = reply.startsWith("421") ? reply + " then close" : reply;
            assertThat(rcpt).as(reply).containsKey(expected);
        }
        assertThat(rcpt).hasSize(1 + ChaosReplies.RCPT_REPLIES.size());

        assertThat(data.get("250 OK")).isBetween(n * 70 / 100, n * 80 / 100);
        assertThat(data.get("(accepted, no reply) then close")).isBetween(n * 3 / 100, n * 7 / 100);
        for (String reply : ChaosReplies.END_OF_DATA_REPLIES) {
            String expected = reply.startsWith("421") ? reply + " then close" : reply;
            assertThat(data).as(reply).containsKey(expected);
        }
        assertThat(data).hasSize(2 + ChaosReplies.END_OF_DATA_REPLIES.size());
    }

    @Test
    void aRetriedRecipientDrawsAfreshAndTheRecipientScenariosStillApply() {
        AolRelay relay = chaosRelay(5);
        String refused = null;
        for (int i = 0; refused == null; i++) {
            if (!relay.onRecipient(CLIENT, "ok-r" + i + "@aol.com").isPositive()) {
                refused = "ok-r" + i + "@aol.com";
            }
        }
        boolean acceptedLater = false;
        for (int attempt = 0; attempt < 50 && !acceptedLater; attempt++) {
            acceptedLater = relay.onRecipient(CLIENT, refused).isPositive();
        }
        assertThat(acceptedLater).as(refused + " accepted on a later attempt").isTrue();

        Map<String, Integer> unknown = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            unknown.merge(relay.onRecipient(CLIENT, "unknown-" + i + "@aol.com").toString(), 1, Integer::sum);
        }
        assertThat(unknown.get(AolReplies.MAILBOX_NOT_FOUND)).isGreaterThan(120);
        assertThat(unknown).doesNotContainKey("250 OK");

        List<String> hvu = List.of("hvu-1@aol.com");
        Map<String, Integer> hvuData = new HashMap<>();
        for (int i = 0; i < 100; i++) {
            hvuData.merge(relay.onEndOfData(CLIENT, hvu, false).toString(), 1, Integer::sum);
        }
        assertThat(hvuData.get(AolReplies.HVU_B1)).isGreaterThan(60);
        assertThat(hvuData).doesNotContainKey("250 OK");
    }

    @Test
    void aMessageAcceptedThenLeftWithoutAReplyIsKeptAndItsTransactionHasNoDataReply() throws IOException {
        long seed = 11;
        String recipient = recipientWhoseFirstEndOfDataHangsUp(seed);
        aol.setMode(ModeSetting.of(Mode.CHAOS).seed(seed));
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            assertThat(client.send("RCPT TO:<" + recipient + ">")).isEqualTo("250 OK");
            assertThat(client.data(MESSAGE)).isEqualTo(RawSmtpClient.CLOSED);
        }
        assertThat(aol.messages()).singleElement().satisfies(m -> {
            assertThat(m.recipients()).containsExactly(recipient);
            assertThat(m.messageId()).contains("<chaos1@sender.example>");
        });
        assertThat(aol.transactions()).singleElement().satisfies(t -> {
            assertThat(t.recipients()).extracting(RecipientReply::reply).containsExactly("250 OK");
            assertThat(t.dataReply()).isEmpty();
        });

        // Setting the mode again replays the sequence from its start.
        aol.setMode(ModeSetting.of(Mode.CHAOS).seed(seed));
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("bob@sender.example");
            client.send("RCPT TO:<" + recipient + ">");
            assertThat(client.data(MESSAGE)).isEqualTo(RawSmtpClient.CLOSED);
        }
        assertThat(aol.messages()).hasSize(2);
    }

    @Test
    void theControlApiSetsAndShowsTheSeed() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode put = json.readTree(FakeAolControlApiTest.request(aol, "PUT", "/mode",
                "{\"mode\": \"chaos\", \"seed\": 12345678901, \"seconds\": 30}").body());
        assertThat(put.get("mode").asText()).isEqualTo("CHAOS");
        assertThat(put.get("seed").asLong()).isEqualTo(12345678901L);
        assertThat(aol.mode().setting()).isEqualTo(ModeSetting.of(Mode.CHAOS).seed(12345678901L)
                .lasting(java.time.Duration.ofSeconds(30)));

        FakeAolControlApiTest.request(aol, "PUT", "/mode", "{\"mode\": \"CHAOS\"}");
        assertThat(aol.mode().setting().seed()).isEqualTo(ModeSetting.CHAOS_DEFAULT_SEED);

        var wrongMode = FakeAolControlApiTest.request(aol, "PUT", "/mode", "{\"mode\": \"NORMAL\", \"seed\": 3}");
        assertThat(wrongMode.statusCode()).isEqualTo(400);
        assertThat(json.readTree(wrongMode.body()).get("error").asText()).contains("seed applies only to CHAOS");
        var notANumber = FakeAolControlApiTest.request(aol, "PUT", "/mode", "{\"mode\": \"CHAOS\", \"seed\": \"x\"}");
        assertThat(notANumber.statusCode()).isEqualTo(400);
        assertThat(json.readTree(notANumber.body()).get("error").asText()).contains("seed: expected an integer");
    }

    private static AolRelay chaosRelay(long seed) {
        AolRelay relay = new AolRelay(Clock.systemUTC());
        relay.setMode(ModeSetting.of(Mode.CHAOS).seed(seed));
        return relay;
    }

    private static Map<String, String> rcptReplies(AolRelay relay, List<String> addresses) {
        Map<String, String> replies = new HashMap<>();
        for (String address : addresses) {
            replies.put(address, relay.onRecipient(CLIENT, address).toString());
        }
        return replies;
    }

    /** An ok recipient accepted at its first RCPT whose first end of DATA, alone, is accepted without a reply. */
    private static String recipientWhoseFirstEndOfDataHangsUp(long seed) {
        for (int i = 0; ; i++) {
            String candidate = "ok-h" + i + "@aol.com";
            ChaosReplies chaos = new ChaosReplies(seed);
            Optional<ServerAction> rcpt = chaos.atRecipient(candidate);
            Optional<ServerAction> data = chaos.atEndOfData(List.of(candidate));
            if (rcpt.isEmpty() && data.isPresent() && data.get().acceptsMessage() && data.get().replyText().isEmpty()) {
                return candidate;
            }
        }
    }
}
