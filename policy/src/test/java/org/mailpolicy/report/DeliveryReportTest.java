package org.mailpolicy.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.reply.EnhancedStatus;

class DeliveryReportTest {
    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

    static RecipientReport unknownUser() {
        return RecipientReport.builder("bob@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 1, 1))
                .originalRecipient("rfc822;Bob@AOL.com")
                .remoteMta("mailin-01.mx.aol.com")
                .diagnostic("550 MAILBOX NOT FOUND")
                .lastAttempt(T0.plusSeconds(5))
                .reason("userunknown")
                .ruleId("aol.mailbox-not-found")
                .explanation("AOL says this mailbox does not exist.")
                .remedy("Check the address for typing mistakes.")
                .build();
    }

    static RecipientReport throttled() {
        return RecipientReport.builder("carol@aol.com", DsnAction.DELAYED, EnhancedStatus.of(4, 7, 1))
                .remoteMta("mailin-02.mx.aol.com")
                .diagnostic("421 4.7.1 : (DYN:T1) \"quoted\" \\ backslash \u00e9\u4e2d")
                .lastAttempt(T0.plusSeconds(60))
                .willRetryUntil(T0.plusSeconds(5 * 86400))
                .reason("speeding")
                .ruleId("aol.dyn-t1")
                .explanation("AOL is limiting how fast it accepts mail from this server.")
                .remedy("Nothing: the server slows down and tries again.")
                .build();
    }

    static DeliveryReport report() {
        return DeliveryReport.of("mail.example.net", Optional.of(T0), Optional.of("ENV-42"),
                Optional.of("<abc@example.net>"), ImmutableList.of(unknownUser(), throttled()));
    }

    @Test
    void jsonRoundTripIsLossless() {
        DeliveryReport r = report();
        String json = r.toJson();
        assertThat(DeliveryReport.fromJson(json)).isEqualTo(r);
        assertThat(json).contains("\"action\":\"failed\"").contains("\"status\":\"5.1.1\"")
                .contains("\"arrivalDate\":\"2026-11-22T10:00:00Z\"");
        assertThat(json).doesNotContain("\n");
    }

    @Test
    void jsonRoundTripWithOnlyRequiredFields() {
        DeliveryReport minimal = DeliveryReport.of("mta", Optional.empty(), Optional.empty(), Optional.empty(),
                ImmutableList.of(RecipientReport.builder("x@y.z", DsnAction.DELIVERED, EnhancedStatus.of(2, 0, 0)).build()));
        String json = minimal.toJson();
        assertThat(json).doesNotContain("arrivalDate").doesNotContain("diagnostic");
        DeliveryReport back = DeliveryReport.fromJson(json);
        assertThat(back).isEqualTo(minimal);
        assertThat(back.recipients().get(0).remoteMta()).isEmpty();
        assertThat(back.recipients().get(0).reason()).isEmpty();
    }

    @Test
    void readsFieldsInAnyOrderAndSkipsUnknownOnes() {
        String json = "{\"recipients\":[{\"status\":\"4.4.7\",\"future\":{\"a\":[1,2]},\"action\":\"DELAYED\","
                + "\"finalRecipient\":\"a@b.c\",\"remoteMta\":null,\"extra\":\"x\"}],\"reportingMta\":\"m\",\"version\":1}";
        DeliveryReport r = DeliveryReport.fromJson(json);
        assertThat(r.reportingMta()).isEqualTo("m");
        assertThat(r.recipients().get(0).action()).isEqualTo(DsnAction.DELAYED);
        assertThat(r.recipients().get(0).status()).isEqualTo(EnhancedStatus.of(4, 4, 7));
        assertThat(r.recipients().get(0).remoteMta()).isEmpty();
    }

    @Test
    void rejectsMalformedJsonWithAClearMessage() {
        assertThatThrownBy(() -> DeliveryReport.fromJson("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("delivery report JSON: empty");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\": \"m\", "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("delivery report JSON: malformed")
                .hasMessageContaining("line 1");
        assertThatThrownBy(() -> DeliveryReport.fromJson("[1]"))
                .hasMessageStartingWith("delivery report JSON: the report must be an object");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\":\"m\"}"))
                .hasMessage("delivery report JSON: missing field 'recipients'");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\":\"m\",\"recipients\":[]}"))
                .hasMessageContaining("at least one recipient");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"recipients\":[{\"finalRecipient\":\"a@b\","
                + "\"action\":\"failed\",\"status\":\"5.1.1\"}]}"))
                .hasMessage("delivery report JSON: missing field 'report.reportingMta'");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\":\"m\",\"recipients\":[{"
                + "\"finalRecipient\":\"a@b\",\"action\":\"exploded\",\"status\":\"5.1.1\"}]}"))
                .hasMessage("delivery report JSON: recipients[0].action: unknown action 'exploded'");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\":\"m\",\"recipients\":[{"
                + "\"finalRecipient\":\"a@b\",\"action\":\"failed\",\"status\":\"550\"}]}"))
                .hasMessage("delivery report JSON: recipients[0].status: not an x.y.z status: '550'");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\":\"m\",\"recipients\":[{"
                + "\"finalRecipient\":\"a@b\",\"action\":\"failed\",\"status\":\"5.1.1\",\"lastAttempt\":\"yesterday\"}]}"))
                .hasMessage("delivery report JSON: recipients[0].lastAttempt is not an ISO-8601 instant: 'yesterday'");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\":42,\"recipients\":[]}"))
                .hasMessageStartingWith("delivery report JSON: report.reportingMta must be a string, got 42");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"version\":2,\"reportingMta\":\"m\",\"recipients\":[]}"))
                .hasMessageStartingWith("delivery report JSON: unsupported report version 2");
        assertThatThrownBy(() -> DeliveryReport.fromJson("{\"reportingMta\":\"m\",\"recipients\":[{"
                + "\"action\":\"failed\",\"status\":\"5.1.1\"}]} trailing"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dsnActionIds() {
        assertThat(DsnAction.FAILED.id()).isEqualTo("failed");
        assertThat(DsnAction.fromId("Relayed")).contains(DsnAction.RELAYED);
        assertThat(DsnAction.fromId("nope")).isEmpty();
        assertThat(DsnAction.fromId(null)).isEmpty();
    }
}
