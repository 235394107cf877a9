package org.mailpolicy.james.bounces;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailpolicy.james.bounces.Bounces.perMessageFields;
import static org.mailpolicy.james.bounces.Bounces.recipientFields;

import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.james.bounces.IngestedRecipient.Decision;
import org.mailpolicy.rules.Action;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SentMessage;
import org.mailpolicy.suppression.SuppressionEntry;

class BounceIngestionTest {
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    private static final String SENT_ID = "<20261122100000.4711@mail.example.com>";

    @TempDir
    Path dir;
    private JdbcSuppressionList suppressions;
    private JdbcSentMessageLedger ledger;
    private BounceIngestion ingestion;

    @BeforeEach
    void open() {
        Path base = dir.resolve("suppressions");
        suppressions = JdbcSuppressionList.openH2(base);
        ledger = JdbcSentMessageLedger.openH2(base);
        ingestion = BounceIngestion.of(new ScriptedClassifier(), suppressions, ledger, Clock.fixed(NOW, ZoneOffset.UTC));
        ledger.record(SentMessage.of(SENT_ID, ImmutableList.of("bob@aol.com", "ann@aol.com", "carl@aol.com"),
                NOW.minusSeconds(3600)));
    }

    @AfterEach
    void close() {
        ledger.close();
        suppressions.close();
    }

    @Test
    void standardDsnSuppressesTheUnknownUserOfAMessageWeSentAndRecordsTheRest() throws Exception {
        MimeMessage bounce = Bounces.standardDsn(Bounces.original(SENT_ID, "bob@aol.com", "ann@aol.com", "carl@aol.com"),
                perMessageFields()
                        + recipientFields("bob@aol.com", "failed", "5.1.1", "550 5.1.1 <bob@aol.com>: Recipient address rejected")
                        + recipientFields("ann@aol.com", "failed", "5.2.2", "552 5.2.2 Mailbox full")
                        + recipientFields("carl@aol.com", "delayed", "4.4.1", "421 4.4.1 try later"));

        BounceIngestion.Result result = ingestion.ingest(bounce).get();

        assertThat(result.bounce().form()).isEqualTo(Bounce.Form.DELIVERY_STATUS);
        assertThat(result.matched().get().messageId()).isEqualTo("20261122100000.4711@mail.example.com");
        assertThat(result.recipients()).extracting(r -> r.recipient().address() + "=" + r.decision())
                .containsExactly("bob@aol.com=SUPPRESSED", "ann@aol.com=RECORDED", "carl@aol.com=NOT_A_FAILURE");
        SuppressionEntry bob = suppressions.find("bob@aol.com").get();
        assertThat(bob.source()).isEqualTo(SuppressionEntry.Source.BOUNCE);
        assertThat(bob.since()).isEqualTo(NOW);
        assertThat(bob.reason()).isEqualTo("userunknown");
        assertThat(bob.ruleId()).isEqualTo("test.userunknown");
        assertThat(bob.reply()).isEqualTo("550 5.1.1 <bob@aol.com>: Recipient address rejected");
        assertThat(bob.messageId()).contains("20261122100000.4711@mail.example.com");
        assertThat(suppressions.find("ann@aol.com")).isEmpty();
        assertThat(suppressions.find("carl@aol.com")).isEmpty();
    }

    @Test
    void aolMailerDaemonTextSuppressesWhenItReturnsOurMessage() throws Exception {
        MimeMessage bounce = Bounces.aolTextBounce(Bounces.original(SENT_ID, "ann@aol.com"), "ann@aol.com");

        BounceIngestion.Result result = ingestion.ingest(bounce).get();

        assertThat(result.bounce().form()).isEqualTo(Bounce.Form.AOL_TEXT);
        assertThat(result.recipients()).hasSize(1);
        IngestedRecipient ann = result.recipients().get(0);
        assertThat(ann.recipient().diagnostic()).isEqualTo("5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND'");
        assertThat(ann.decision()).isEqualTo(Decision.SUPPRESSED);
        assertThat(suppressions.find("ANN@aol.com").get().source()).isEqualTo(SuppressionEntry.Source.BOUNCE);
    }

    @Test
    void forgedBounceAboutAnUnknownMessageSuppressesNobody() throws Exception {
        MimeMessage forged = Bounces.standardDsn(Bounces.original("<never-sent@attacker.example>", "bob@aol.com"),
                perMessageFields() + recipientFields("bob@aol.com", "failed", "5.1.1", "550 5.1.1 user unknown"));

        BounceIngestion.Result result = ingestion.ingest(forged).get();

        assertThat(result.matched()).isEmpty();
        assertThat(result.recipients()).extracting(IngestedRecipient::decision).containsExactly(Decision.UNVERIFIED);
        assertThat(suppressions.count(Optional.empty())).isZero();
    }

    @Test
    void bounceAboutOurMessageForSomeoneItWasNotSentToSuppressesNobody() throws Exception {
        // A real message id (perhaps learnt from a reply) cannot be used to poison other addresses.
        MimeMessage forged = Bounces.standardDsn(Bounces.original(SENT_ID, "bob@aol.com"),
                perMessageFields() + recipientFields("ceo@aol.com", "failed", "5.1.1", "550 5.1.1 user unknown"));

        BounceIngestion.Result result = ingestion.ingest(forged).get();

        assertThat(result.matched()).as("our message, but not to him").isEmpty();
        assertThat(result.recipients()).extracting(IngestedRecipient::decision).containsExactly(Decision.UNVERIFIED);
        assertThat(suppressions.find("ceo@aol.com")).isEmpty();
    }

    @Test
    void aolTextBounceWithoutTheOriginalIsUnverified() throws Exception {
        MimeMessage bounce = Bounces.plainMail("The following message to <bob@aol.com> was undeliverable.\r\n\r\n"
                + "The reason for the problem:\r\n5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND'\r\n");

        BounceIngestion.Result result = ingestion.ingest(bounce).get();

        assertThat(result.recipients()).extracting(IngestedRecipient::decision).containsExactly(Decision.UNVERIFIED);
        assertThat(suppressions.find("bob@aol.com")).isEmpty();
    }

    @Test
    void inReplyToIdentifiesTheMessageWhenNothingIsReturned() throws Exception {
        MimeMessage bounce = Bounces.plainMail("The following message to <bob@aol.com> was undeliverable.\r\n\r\n"
                + "The reason for the problem:\r\n5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND'\r\n");
        bounce.setHeader("In-Reply-To", SENT_ID);

        assertThat(ingestion.ingest(bounce).get().recipients()).extracting(IngestedRecipient::decision)
                .containsExactly(Decision.SUPPRESSED);
    }

    @Test
    void secondBounceForTheSameAddressKeepsTheFirstEntry() throws Exception {
        MimeMessage bounce = Bounces.aolTextBounce(Bounces.original(SENT_ID, "bob@aol.com"), "bob@aol.com");
        assertThat(ingestion.ingest(bounce).get().count(Decision.SUPPRESSED)).isEqualTo(1);
        assertThat(ingestion.ingest(bounce).get().count(Decision.ALREADY_SUPPRESSED)).isEqualTo(1);
        assertThat(suppressions.count(Optional.empty())).isEqualTo(1);
    }

    @Test
    void ordinaryMailIsNotABounce() throws Exception {
        assertThat(ingestion.ingest(Bounces.plainMail("see you at noon"))).isEmpty();
    }

    @Test
    void malformedFinalRecipientIsReportedNotStored() throws Exception {
        MimeMessage bounce = Bounces.standardDsn(Bounces.original(SENT_ID, "bob@aol.com"),
                perMessageFields() + recipientFields("not an address", "failed", "5.1.1", "550 5.1.1 user unknown"));

        assertThat(ingestion.ingest(bounce).get().recipients()).extracting(IngestedRecipient::decision)
                .containsExactly(Decision.INVALID_ADDRESS);
        assertThat(suppressions.count(Optional.empty())).isZero();
    }

    /**
     * The outage check hears each failed recipient of a bounce about our message to it, unknown or not (each is
     * the destination's answer about a recipient), and nothing of a forged bounce or a delay; while it does not
     * believe an unknown user, the recipient is recorded as a final bounce with its reason, not suppressed.
     */
    @Test
    void verifiedFailuresFeedTheOutageCheckAndAnUnbelievedUnknownUserIsRecordedNotSuppressed() throws Exception {
        List<String> heard = new ArrayList<>();
        DirectoryOutageCheck suspectsAol = (recipient, c) -> {
            heard.add(recipient + "=" + c.action().id());
            return c.action() == Action.SUPPRESS ? c.asRetry("aol's directory looks broken.") : c;
        };
        BounceIngestion guarded = BounceIngestion.of(new ScriptedClassifier(), suspectsAol, suppressions, ledger,
                Clock.fixed(NOW, ZoneOffset.UTC));
        MimeMessage ours = Bounces.standardDsn(Bounces.original(SENT_ID, "bob@aol.com", "ann@aol.com", "carl@aol.com"),
                perMessageFields()
                        + recipientFields("bob@aol.com", "failed", "5.1.1", "550 5.1.1 <bob@aol.com>: Recipient address rejected")
                        + recipientFields("ann@aol.com", "failed", "5.2.2", "552 5.2.2 Mailbox full")
                        + recipientFields("carl@aol.com", "delayed", "4.4.1", "421 4.4.1 try later"));
        MimeMessage forged = Bounces.standardDsn(Bounces.original("<never-sent@attacker.example>", "dan@aol.com"),
                perMessageFields() + recipientFields("dan@aol.com", "failed", "5.1.1", "550 5.1.1 User unknown"));

        BounceIngestion.Result result = guarded.ingest(ours).get();
        BounceIngestion.Result forgedResult = guarded.ingest(forged).get();

        assertThat(heard).containsExactly("bob@aol.com=suppress", "ann@aol.com=bounce");
        assertThat(result.recipients()).extracting(r -> r.recipient().address() + "=" + r.decision())
                .containsExactly("bob@aol.com=DIRECTORY_OUTAGE", "ann@aol.com=RECORDED", "carl@aol.com=NOT_A_FAILURE");
        IngestedRecipient bob = result.recipients().get(0);
        assertThat(bob.classification().action()).isEqualTo(Action.BOUNCE);
        assertThat(bob.classification().reason()).isEqualTo("userunknown");
        assertThat(bob.classification().explanation()).contains("aol's directory looks broken.")
                .startsWith(BounceIngestion.GAVE_UP);
        assertThat(forgedResult.recipients()).extracting(IngestedRecipient::decision).containsExactly(Decision.UNVERIFIED);
        assertThat(suppressions.count(Optional.empty())).isZero();
    }
}
