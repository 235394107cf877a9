package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcSentMessageLedgerTest {
    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

    @TempDir
    Path dir;
    private Path fileBase;
    private JdbcSentMessageLedger ledger;

    @BeforeEach
    void open() {
        fileBase = dir.resolve("var/delivery-policy/suppressions");
        ledger = JdbcSentMessageLedger.openH2(fileBase);
    }

    @AfterEach
    void close() {
        ledger.close();
    }

    @Test
    void recordsAndFindsByIdWithOrWithoutBrackets() {
        ledger.record(SentMessage.of("<abc.123@mail.example.com>", ImmutableList.of("Bob@AOL.com", "ann@aol.com"), T0));

        SentMessage found = ledger.find("abc.123@mail.example.com").get();
        assertThat(found.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
        assertThat(found.sentAt()).isEqualTo(T0);
        assertThat(found.wasSentTo("<BOB@aol.com>")).isTrue();
        assertThat(found.wasSentTo("carol@aol.com")).isFalse();
        assertThat(ledger.find("<abc.123@mail.example.com>")).contains(found);
    }

    @Test
    void unknownOrMalformedIdsFindNothing() {
        ledger.record(SentMessage.of("known@example.com", ImmutableList.of("bob@aol.com"), T0));
        assertThat(ledger.find("unknown@example.com")).isEmpty();
        assertThat(ledger.find("")).isEmpty();
        assertThat(ledger.find("with space@example.com")).isEmpty();
        assertThat(ledger.find(null)).isEmpty();
        // Case matters in ids: a bounce must name the message exactly.
        assertThat(ledger.find("KNOWN@example.com")).isEmpty();
    }

    @Test
    void recordingAgainAddsRecipientsAndKeepsTheLatestTime() {
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0));
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com", "ann@aol.com"), T0.plusSeconds(60)));
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0.minusSeconds(60)));

        SentMessage found = ledger.find("m1@example.com").get();
        assertThat(found.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
        assertThat(found.sentAt()).isEqualTo(T0.plusSeconds(60));
    }

    @Test
    void aBatchWithARecordAlreadyStoredStoresAllOfIt() {
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0));
        ledger.record(SentMessage.of("m2@example.com", ImmutableList.of("bob@aol.com"), T0.plusSeconds(600)));

        // m1 to bob again (later), m2 to bob again (earlier), and new pairs: the batch's inserts fail on the two
        // stored pairs, so it is written again row by row; nothing of it is lost.
        ledger.recordAll(ImmutableList.of(
                SentMessage.of("m0@example.com", ImmutableList.of("ann@aol.com"), T0),
                SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com", "ann@aol.com"), T0.plusSeconds(60)),
                SentMessage.of("m2@example.com", ImmutableList.of("bob@aol.com"), T0),
                SentMessage.of("m3@example.com", ImmutableList.of("carol@aol.com"), T0)));

        assertThat(ledger.find("m0@example.com").get().recipients()).containsExactly("ann@aol.com");
        SentMessage m1 = ledger.find("m1@example.com").get();
        assertThat(m1.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
        assertThat(m1.sentAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(ledger.find("m2@example.com").get().sentAt()).isEqualTo(T0.plusSeconds(600));
        assertThat(ledger.find("m3@example.com").get().recipients()).containsExactly("carol@aol.com");
    }

    @Test
    void theSamePairTwiceInOneBatchIsOneRowAtTheLaterTime() {
        ledger.recordAll(ImmutableList.of(
                SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0.plusSeconds(60)),
                SentMessage.of("<m1@example.com>", ImmutableList.of("BOB@aol.com", "ann@aol.com"), T0)));

        SentMessage m1 = ledger.find("m1@example.com").get();
        assertThat(m1.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
        assertThat(m1.sentAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(ledger.pruneSentBefore(T0.plusSeconds(1))).isEqualTo(1);
        assertThat(ledger.find("m1@example.com").get().recipients()).containsExactly("bob@aol.com");
    }

    @Test
    void pruneForgetsOnlyOlderMessages() {
        ledger.record(SentMessage.of("old@example.com", ImmutableList.of("a@aol.com", "b@aol.com"), T0));
        ledger.record(SentMessage.of("new@example.com", ImmutableList.of("a@aol.com"), T0.plus(Duration.ofDays(8))));

        assertThat(ledger.pruneSentBefore(T0.plus(Duration.ofDays(7)))).isEqualTo(2);
        assertThat(ledger.find("old@example.com")).isEmpty();
        assertThat(ledger.find("new@example.com")).isPresent();
    }

    @Test
    void survivesReopenAndSharesTheFileWithTheSuppressionList() {
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0));
        try (JdbcSuppressionList suppressions = JdbcSuppressionList.openH2(fileBase)) {
            suppressions.add(SuppressionEntry.of("bob@aol.com", T0, "userunknown", "550 MAILBOX NOT FOUND", "r",
                    SuppressionEntry.Source.BOUNCE, Optional.of("m1@example.com")));
            assertThat(ledger.find("m1@example.com")).isPresent();
        }
        ledger.close();

        ledger = JdbcSentMessageLedger.openH2(fileBase);
        assertThat(ledger.find("m1@example.com").get().recipients()).containsExactly("bob@aol.com");
        try (JdbcSuppressionList suppressions = JdbcSuppressionList.openH2(fileBase)) {
            assertThat(suppressions.find("bob@aol.com")).isPresent();
        }
    }

    @Test
    void rejectsBadValuesWithAClearMessage() {
        assertThatThrownBy(() -> SentMessage.of("a b@example.com", ImmutableList.of("bob@aol.com"), T0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("message id");
        assertThatThrownBy(() -> SentMessage.of("m@example.com", ImmutableList.of(), T0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one recipient");
        assertThatThrownBy(() -> SentMessage.of("m@example.com", ImmutableList.of("not-an-address"), T0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not-an-address");
    }
}
