package org.mailpolicy.james.webadmin.dto;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DirectoryOutageStatus;
import org.mailpolicy.state.Pace;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionExpiry;

/** The routes' JSON, field by field and in order, as operators' scripts read it. */
class WebAdminJsonTest {
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aSuppressionPageWritesEveryFieldAndNullForNoMessageId() throws Exception {
        SuppressionEntry entry = SuppressionEntry.of("bob@aol.com", NOW, "manual", "", "manual",
                SuppressionEntry.Source.MANUAL, Optional.empty());

        assertThat(json.writeValueAsString(SuppressionPageDto.of(1, 0, 100, List.of(entry), SuppressionExpiry.NONE, NOW)))
                .isEqualTo("{\"total\":1,\"offset\":0,\"limit\":100,\"entries\":[{\"address\":\"bob@aol.com\","
                        + "\"domain\":\"aol.com\",\"since\":\"2026-11-22T12:00:00Z\",\"reason\":\"manual\",\"reply\":\"\","
                        + "\"rule\":\"manual\",\"source\":\"manual\",\"messageId\":null,\"confirmations\":1,"
                        + "\"lastConfirmed\":\"2026-11-22T12:00:00Z\",\"expiresAt\":null,\"expired\":false}]}");
    }

    @Test
    void aSuppressionShowsItsConfirmationsAndExpiry() throws Exception {
        SuppressionEntry entry = SuppressionEntry.of("bob@aol.com", NOW, "userunknown", "550 MAILBOX NOT FOUND",
                "aol.mailbox-not-found", SuppressionEntry.Source.LIVE_REPLY, Optional.empty())
                .confirmed(3, NOW.plus(Duration.ofDays(10)));
        SuppressionExpiry yearly = SuppressionExpiry.of(Map.of("userunknown", Duration.ofDays(365)));

        assertThat(json.writeValueAsString(SuppressionEntryDto.from(entry, yearly, NOW))).endsWith(
                "\"confirmations\":3,\"lastConfirmed\":\"2026-12-02T12:00:00Z\",\"expiresAt\":\"2027-12-02T12:00:00Z\","
                        + "\"expired\":false}");
        assertThat(json.writeValueAsString(SuppressionEntryDto.from(entry, yearly, NOW.plus(Duration.ofDays(375)))))
                .endsWith("\"expired\":true}");
    }

    @Test
    void aDestinationWritesItsStateAndNullsWhenTheQueueWasNotCounted() throws Exception {
        DestinationState fresh = DestinationState.initial("example.org");
        DestinationPolicy dflt = DestinationPolicy.builder("default").concurrency(10).build();

        assertThat(json.writeValueAsString(DestinationDto.of(fresh, NOW, dflt, false, Optional.empty(),
                DirectoryOutageStatus.none(DestinationKey.of("example.org"))))).isEqualTo(
                "{\"name\":\"example.org\",\"policy\":\"default\",\"configured\":false,\"held\":false,\"heldUntil\":null,"
                        + "\"currentHold\":\"" + fresh.currentHold() + "\",\"currentHoldSeconds\":"
                        + fresh.currentHold().getSeconds() + ",\"consecutiveThrottles\":0,\"attempts\":0,\"inFlight\":0,"
                        + "\"probing\":false,\"lastReply\":null,\"lastAttemptAt\":null,\"queued\":null,"
                        + "\"queuedComplete\":null,\"pacing\":\"adaptive\",\"effectiveConcurrency\":5,"
                        + "\"concurrencyCeiling\":10,\"effectiveRate\":null,\"rateCeiling\":null,\"paceSignals\":0,"
                        + "\"lastPaceSignalAt\":null,\"directoryOutageSuspected\":false,\"directoryOutageSince\":null,"
                        + "\"directoryOutageUntil\":null,\"unknownRecipients\":0,\"answeredRecipients\":0,"
                        + "\"tls\":\"opportunistic\",\"plaintextFallback\":{}}");
        assertThat(json.writeValueAsString(DestinationDto.of(fresh, NOW, dflt, false,
                Optional.of(new DestinationDto.QueuedCount(3, true)),
                DirectoryOutageStatus.none(DestinationKey.of("example.org"))))).contains("\"queued\":3,\"queuedComplete\":true,");
    }

    @Test
    void aDestinationShowsItsLearnedPaceUnderItsCeilings() throws Exception {
        DestinationPolicy aol = DestinationPolicy.builder("aol").concurrency(5)
                .rate(RateLimit.of(300, Duration.ofMinutes(1))).build();
        DestinationState cut = DestinationState.builder("aol")
                .pace(Optional.of(Pace.of(54.9, 2, NOW, Optional.of(NOW), 1))).build();

        assertThat(json.writeValueAsString(DestinationDto.of(cut, NOW, aol, true, Optional.empty(),
                DirectoryOutageStatus.none(DestinationKey.of("aol"))))).contains(
                "\"pacing\":\"adaptive\",\"effectiveConcurrency\":2,\"concurrencyCeiling\":5,"
                        + "\"effectiveRate\":\"54.9/1m\",\"rateCeiling\":\"300/1m\",\"paceSignals\":1,"
                        + "\"lastPaceSignalAt\":\"2026-11-22T12:00:00Z\",");
    }
}
