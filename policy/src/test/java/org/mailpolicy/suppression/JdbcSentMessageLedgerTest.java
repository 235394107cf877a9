package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.mailpolicy.jdbc.Database;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcSentMessageLedgerTest {
    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
    private static final ImmutableList<String> BOB_ANN_CAROL = ImmutableList.of("bob@aol.com", "ann@aol.com", "carol@aol.com");

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

        SentMessage found = ledger.find("abc.123@mail.example.com", BOB_ANN_CAROL).get();
        assertThat(found.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
        assertThat(found.sentAt()).isEqualTo(T0);
        assertThat(found.wasSentTo("<BOB@aol.com>")).isTrue();
        assertThat(found.wasSentTo("carol@aol.com")).isFalse();
        assertThat(ledger.find("<abc.123@mail.example.com>", BOB_ANN_CAROL)).contains(found);
        assertThat(ledger.find("abc.123@mail.example.com", ImmutableList.of("<BOB@aol.com>", "not an address")).get()
                .recipients()).as("asked in any case, a malformed address skipped").containsExactly("bob@aol.com");
        assertThat(ledger.find("abc.123@mail.example.com", ImmutableList.of("carol@aol.com")))
                .as("not sent to her: the message is not found for her").isEmpty();
        assertThat(ledger.find("abc.123@mail.example.com", ImmutableList.of())).isEmpty();
    }

    @Test
    void unknownOrMalformedIdsFindNothing() {
        ledger.record(SentMessage.of("known@example.com", ImmutableList.of("bob@aol.com"), T0));
        assertThat(ledger.find("known@example.com", BOB_ANN_CAROL)).isPresent();
        assertThat(ledger.find("unknown@example.com", BOB_ANN_CAROL)).isEmpty();
        assertThat(ledger.find("", BOB_ANN_CAROL)).isEmpty();
        assertThat(ledger.find("with space@example.com", BOB_ANN_CAROL)).isEmpty();
        assertThat(ledger.find(null, BOB_ANN_CAROL)).isEmpty();
        // Case matters in ids: a bounce must name the message exactly.
        assertThat(ledger.find("KNOWN@example.com", BOB_ANN_CAROL)).isEmpty();
    }

    @Test
    void recordingAgainAddsRecipientsAndKeepsTheLatestTime() {
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0));
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com", "ann@aol.com"), T0.plusSeconds(60)));
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0.minusSeconds(60)));

        SentMessage found = ledger.find("m1@example.com", BOB_ANN_CAROL).get();
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

        assertThat(ledger.find("m0@example.com", BOB_ANN_CAROL).get().recipients()).containsExactly("ann@aol.com");
        SentMessage m1 = ledger.find("m1@example.com", BOB_ANN_CAROL).get();
        assertThat(m1.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
        assertThat(m1.sentAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(ledger.find("m2@example.com", BOB_ANN_CAROL).get().sentAt()).isEqualTo(T0.plusSeconds(600));
        assertThat(ledger.find("m3@example.com", BOB_ANN_CAROL).get().recipients()).containsExactly("carol@aol.com");
    }

    @Test
    void theSamePairTwiceInOneBatchIsOneRowAtTheLaterTime() {
        ledger.recordAll(ImmutableList.of(
                SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0.plusSeconds(60)),
                SentMessage.of("<m1@example.com>", ImmutableList.of("BOB@aol.com", "ann@aol.com"), T0)));

        SentMessage m1 = ledger.find("m1@example.com", BOB_ANN_CAROL).get();
        assertThat(m1.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
        assertThat(m1.sentAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(ledger.pruneSentBefore(T0.plusSeconds(1))).isEqualTo(1);
        assertThat(ledger.find("m1@example.com", BOB_ANN_CAROL).get().recipients()).containsExactly("bob@aol.com");
    }

    @Test
    void aPairIsKeptAsAHashOfBothTextsThatFitsInFiftySixBits() {
        long key = JdbcSentMessageLedger.pairKey("m1@example.com", "bob@aol.com");
        assertThat(key).isNotNegative().isLessThan(1L << 56);
        assertThat(JdbcSentMessageLedger.pairKey("m1@example.com", "bob@aol.com")).isEqualTo(key);
        assertThat(JdbcSentMessageLedger.pairKey("m1@example.com", "ann@aol.com")).isNotEqualTo(key);
        assertThat(JdbcSentMessageLedger.pairKey("m2@example.com", "bob@aol.com")).isNotEqualTo(key);
        // Where the id ends and the address starts is part of the pair.
        assertThat(JdbcSentMessageLedger.pairKey("m1@example.comb", "ob@aol.com")).isNotEqualTo(key);
    }

    @Test
    void theTableOfEarlierReleasesIsCopiedOverAndDropped() throws Exception {
        ledger.close();
        Path other = dir.resolve("earlier/suppressions");
        try (Database db = Database.openH2(other)) {
            try (java.sql.Connection c = db.connection(); java.sql.Statement st = c.createStatement()) {
                st.executeUpdate("CREATE TABLE delivery_policy_sent (message_id VARCHAR(998) NOT NULL, "
                        + "recipient VARCHAR(320) NOT NULL, sent_ms BIGINT NOT NULL, PRIMARY KEY (message_id, recipient))");
                st.executeUpdate("INSERT INTO delivery_policy_sent VALUES ('m1@example.com', 'bob@aol.com', "
                        + T0.toEpochMilli() + "), ('m1@example.com', 'ann@aol.com', " + T0.plusSeconds(60).toEpochMilli()
                        + "), ('m2@example.com', 'carol@aol.com', " + T0.toEpochMilli() + ")");
            }
            try (JdbcSentMessageLedger copied = JdbcSentMessageLedger.open(db)) {
                SentMessage m1 = copied.find("m1@example.com", BOB_ANN_CAROL).get();
                assertThat(m1.recipients()).containsExactlyInAnyOrder("bob@aol.com", "ann@aol.com");
                assertThat(m1.sentAt()).isEqualTo(T0.plusSeconds(60));
                assertThat(copied.find("m2@example.com", BOB_ANN_CAROL).get().recipients()).containsExactly("carol@aol.com");
            }
            try (java.sql.Connection c = db.connection();
                 java.sql.ResultSet rs = c.getMetaData().getTables(null, null, "DELIVERY_POLICY_SENT", null)) {
                assertThat(rs.next()).as("the earlier table is dropped").isFalse();
            }
            try (JdbcSentMessageLedger again = JdbcSentMessageLedger.open(db)) {
                assertThat(again.find("m2@example.com", BOB_ANN_CAROL)).as("opening again changes nothing").isPresent();
            }
        }
        ledger = JdbcSentMessageLedger.openH2(fileBase);
    }

    @Test
    void pruneForgetsOnlyOlderMessages() {
        ledger.record(SentMessage.of("old@example.com", ImmutableList.of("a@aol.com", "b@aol.com"), T0));
        ledger.record(SentMessage.of("new@example.com", ImmutableList.of("a@aol.com"), T0.plus(Duration.ofDays(8))));

        assertThat(ledger.pruneSentBefore(T0.plus(Duration.ofDays(7)))).isEqualTo(2);
        assertThat(ledger.find("old@example.com", ImmutableList.of("a@aol.com", "b@aol.com"))).isEmpty();
        assertThat(ledger.find("new@example.com", ImmutableList.of("a@aol.com", "b@aol.com"))).isPresent();
    }

    @Test
    void survivesReopenAndSharesTheFileWithTheSuppressionList() {
        ledger.record(SentMessage.of("m1@example.com", ImmutableList.of("bob@aol.com"), T0));
        try (JdbcSuppressionList suppressions = JdbcSuppressionList.openH2(fileBase)) {
            suppressions.add(SuppressionEntry.of("bob@aol.com", T0, "userunknown", "550 MAILBOX NOT FOUND", "r",
                    SuppressionEntry.Source.BOUNCE, Optional.of("m1@example.com")));
            assertThat(ledger.find("m1@example.com", BOB_ANN_CAROL)).isPresent();
        }
        ledger.close();

        ledger = JdbcSentMessageLedger.openH2(fileBase);
        assertThat(ledger.find("m1@example.com", BOB_ANN_CAROL).get().recipients()).containsExactly("bob@aol.com");
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
