package org.mailpolicy.james.bounces;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailpolicy.james.bounces.Bounces.perMessageFields;
import static org.mailpolicy.james.bounces.Bounces.recipientFields;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.mail.MessagingException;
import javax.mail.internet.MimeMessage;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.AttributeName;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DirectoryOutageStatus;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SentMessage;
import org.mailpolicy.suppression.SuppressionEntry;

/** The mailet with the real built-in reply rules, a real H2 store and ledger, and JavaMail bounces. */
class IngestBouncesTest {
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    private static final String SENT_ID = "<20261122.77@mail.example.com>";

    @TempDir
    Path dir;
    private String location;
    private JdbcSuppressionList suppressions;
    private JdbcSentMessageLedger ledger;
    private RecordingMetricFactory metricFactory;
    private PolicyRuntime runtime;
    private IngestBounces mailet;

    @BeforeEach
    void setUp() throws Exception {
        location = dir.resolve("delivery-policy.yaml").toString();
        Path base = dir.resolve("suppressions");
        suppressions = JdbcSuppressionList.openH2(base);
        ledger = JdbcSentMessageLedger.openH2(base);
        runtime = PolicyRuntime.of(DeliveryPolicy.builtInDefault(), ReplyClassifier.builtIn(), suppressions, ledger,
                new InMemoryDestinationStateStore(), Clock.fixed(NOW, ZoneOffset.UTC));
        PolicyRuntime.registerForTesting(location, runtime);
        ledger.record(SentMessage.of(SENT_ID, ImmutableList.of("bob@aol.com", "ann@aol.com"), NOW.minus(Duration.ofHours(2))));
        metricFactory = new RecordingMetricFactory();
        mailet = new IngestBounces(metricFactory);
        mailet.init(FakeMailetConfig.builder().mailetName("IngestBounces").mailetContext(FakeMailContext.defaultContext())
                .setProperty("policy", location).build());
    }

    @AfterEach
    void tearDown() {
        PolicyRuntime.forgetForTesting(location);
    }

    private Mail mail(MimeMessage message) throws MessagingException {
        return FakeMail.builder().name("bounce-1").mimeMessage(message).recipient("alice@example.com").build();
    }

    private JsonNode attribute(Mail mail) throws Exception {
        String value = (String) mail.getAttribute(AttributeName.of(IngestBounces.ATTRIBUTE)).get().getValue().value();
        return new ObjectMapper().readTree(value);
    }

    @Test
    void aolMailerDaemonBounceSuppressesWithTheBuiltInRules() throws Exception {
        Mail mail = mail(Bounces.aolTextBounce(Bounces.original(SENT_ID, "bob@aol.com"), "bob@aol.com"));

        mailet.service(mail);

        SuppressionEntry bob = suppressions.find("bob@aol.com").get();
        assertThat(bob.source()).isEqualTo(SuppressionEntry.Source.BOUNCE);
        assertThat(bob.reason()).isEqualTo("userunknown");
        JsonNode described = attribute(mail);
        assertThat(described.get("form").asText()).isEqualTo("aol_text");
        assertThat(described.get("matchedMessageId").asText()).isEqualTo("20261122.77@mail.example.com");
        assertThat(described.get("recipients").get(0).get("decision").asText()).isEqualTo("suppressed");
        assertThat(described.get("recipients").get(0).get("action").asText()).isEqualTo("suppress");
        assertThat(metricFactory.countFor("delivery-policy.suppressions.added.bounce")).isEqualTo(1);
        assertThat(mail.getState()).isNull();
    }

    @Test
    void standardDsnWithQuotaFailureIsRecordedNotSuppressed() throws Exception {
        Mail mail = mail(Bounces.standardDsn(Bounces.original(SENT_ID, "ann@aol.com"),
                perMessageFields() + recipientFields("ann@aol.com", "failed", "5.2.2",
                        "552 5.2.2 Mailbox full, quota exceeded")));

        mailet.service(mail);

        assertThat(suppressions.find("ann@aol.com")).isEmpty();
        JsonNode recipient = attribute(mail).get("recipients").get(0);
        assertThat(recipient.get("decision").asText()).isEqualTo("recorded");
        assertThat(recipient.get("action").asText()).isNotEqualTo("suppress");
        assertThat(recipient.get("status").asText()).isEqualTo("5.2.2");
    }

    @Test
    void forgedBounceLeavesTheListAlone() throws Exception {
        Mail mail = mail(Bounces.standardDsn(Bounces.original("<forged@elsewhere.example>", "bob@aol.com"),
                perMessageFields() + recipientFields("bob@aol.com", "failed", "5.1.1",
                        "550 5.1.1 <bob@aol.com>: Recipient address rejected: User unknown in virtual mailbox table")));

        mailet.service(mail);

        assertThat(suppressions.count(Optional.empty())).isZero();
        JsonNode described = attribute(mail);
        assertThat(described.get("matchedMessageId").isNull()).isTrue();
        assertThat(described.get("recipients").get(0).get("decision").asText()).isEqualTo("unverified");
        assertThat(metricFactory.countFor("delivery-policy.suppressions.added.bounce")).isZero();
    }

    @Test
    void genuineStandardDsnWithPostfixUnknownUserSuppresses() throws Exception {
        Mail mail = mail(Bounces.standardDsn(Bounces.original(SENT_ID, "bob@aol.com"),
                perMessageFields() + recipientFields("bob@aol.com", "failed", "5.1.1",
                        "550 5.1.1 <bob@aol.com>: Recipient address rejected: User unknown in virtual mailbox table")));

        mailet.service(mail);

        assertThat(suppressions.find("bob@aol.com")).isPresent();
        assertThat(attribute(mail).get("recipients").get(0).get("decision").asText()).isEqualTo("suppressed");
    }

    @Test
    void postfixProseIsClassifiedWithTheStatusAndAFailureIsNeverRetried() throws Exception {
        // Issue 13: this report was ingested as action=retry rule=class.none reason=undefined.
        Mail mail = mail(Bounces.standardDsn(Bounces.original(SENT_ID, "bob@aol.com"), perMessageFields()
                + "Final-Recipient: rfc822; bob@aol.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                + "Diagnostic-Code: X-Postfix; mailbox unknown (user moved away)\r\n"));

        mailet.service(mail);

        JsonNode recipient = attribute(mail).get("recipients").get(0);
        assertThat(recipient.get("action").asText()).isEqualTo("bounce");
        assertThat(recipient.get("reason").asText()).isEqualTo("userunknown");
        assertThat(recipient.get("rule").asText()).isEqualTo("rfc3463.5.1.1");
        assertThat(recipient.get("decision").asText()).isEqualTo("recorded");
        assertThat(suppressions.find("bob@aol.com")).isEmpty();
    }

    @Test
    void bareEnhancedCodeWithoutWordsDoesNotSuppress() throws Exception {
        // The rules suppress only on words that say nobody is there: 5.1.1 alone bounces.
        Mail mail = mail(Bounces.standardDsn(Bounces.original(SENT_ID, "bob@aol.com"),
                perMessageFields() + recipientFields("bob@aol.com", "failed", "5.1.1", null)));

        mailet.service(mail);

        assertThat(suppressions.find("bob@aol.com")).isEmpty();
        assertThat(attribute(mail).get("recipients").get(0).get("decision").asText()).isEqualTo("recorded");
    }

    /**
     * A receiver with a broken directory that accepts everyone and then bounces them all: the bounces feed the
     * same directory outage guard as live replies. The first 19 suppress; the 20th, half or more of the answers
     * within 10 minutes (the built-in guard), trips it: the 19 are lifted, and from then on the unknown users
     * are recorded as final bounces, not suppressed, and the guard's state (which WebAdmin shows), metrics and
     * log say so. Another domain's unknown user still suppresses.
     */
    @Test
    void unknownUserBouncesForEveryoneTripTheDirectoryOutageGuardAndStopSuppressing() throws Exception {
        List<String> everyone = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            everyone.add("person" + i + "@aol.com");
        }
        String sentToAll = "<20261122.everyone@mail.example.com>";
        ledger.record(SentMessage.of(sentToAll, ImmutableList.<String>builder().addAll(everyone).add("gone@example.org")
                .build(), NOW.minus(Duration.ofMinutes(5))));

        List<String> decisions = new ArrayList<>();
        for (String person : everyone) {
            Mail mail = mail(Bounces.standardDsn(Bounces.original(sentToAll, person), perMessageFields()
                    + recipientFields(person, "failed", "5.1.1", "550 5.1.1 <" + person + ">: Recipient address rejected:"
                    + " User unknown in local recipient table")));
            mailet.service(mail);
            decisions.add(attribute(mail).get("recipients").get(0).get("decision").asText());
        }

        assertThat(decisions.subList(0, 19)).containsOnly("suppressed");
        assertThat(decisions.subList(19, 25)).containsOnly("directory_outage");
        for (String person : everyone) {
            assertThat(suppressions.find(person)).as(person).isEmpty();
        }
        // The built-in policy has only the default destination: its state and guard go by the recipient domain,
        // its metrics by the destination's name.
        DirectoryOutageStatus aol = runtime.directoryOutages().status(DestinationKey.of("aol.com"), NOW);
        assertThat(aol.isSuspected()).isTrue();
        assertThat(aol.unknownRecipients()).isEqualTo(25);
        assertThat(metricFactory.countFor("delivery-policy.directory-outage.started.default")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.directory-outage.deferred.default")).isEqualTo(6);
        assertThat(metricFactory.countFor("delivery-policy.suppressions.lifted")).isEqualTo(19);

        // While tripped, a bounce still says what it is: a final failure with the reason, never a retry.
        Mail later = mail(Bounces.standardDsn(Bounces.original(sentToAll, "person3@aol.com"), perMessageFields()
                + recipientFields("person3@aol.com", "failed", "5.1.1", "550 5.1.1 <person3@aol.com>: Recipient address"
                + " rejected: User unknown in local recipient table")));
        mailet.service(later);
        JsonNode recorded = attribute(later).get("recipients").get(0);
        assertThat(recorded.get("decision").asText()).isEqualTo("directory_outage");
        assertThat(recorded.get("action").asText()).isEqualTo("bounce");
        assertThat(recorded.get("reason").asText()).isEqualTo("userunknown");

        // The outage is aol's: another destination's unknown user is believed.
        Mail elsewhere = mail(Bounces.standardDsn(Bounces.original(sentToAll, "gone@example.org"), perMessageFields()
                + recipientFields("gone@example.org", "failed", "5.1.1", "550 5.1.1 <gone@example.org>: Recipient"
                + " address rejected: User unknown in local recipient table")));
        mailet.service(elsewhere);
        assertThat(attribute(elsewhere).get("recipients").get(0).get("decision").asText()).isEqualTo("suppressed");
        assertThat(runtime.directoryOutages().status(DestinationKey.of("example.org"), NOW).isSuspected()).isFalse();
        assertThat(metricFactory.countFor("delivery-policy.directory-outage.started.default")).isEqualTo(1);
    }

    @Test
    void ordinaryMailGetsNoAttribute() throws Exception {
        Mail mail = mail(Bounces.plainMail("hello"));
        mailet.service(mail);
        assertThat(mail.getAttribute(AttributeName.of(IngestBounces.ATTRIBUTE))).isEmpty();
    }

    @Test
    void prunesLedgerRecordsOlderThanTheRetention() throws Exception {
        ledger.record(SentMessage.of("<ancient@mail.example.com>", ImmutableList.of("old@aol.com"), NOW.minus(Duration.ofDays(30))));
        mailet.service(mail(Bounces.plainMail("hello")));
        assertThat(ledger.find("ancient@mail.example.com", ImmutableList.of("old@aol.com"))).isEmpty();
        assertThat(ledger.find(SENT_ID, ImmutableList.of("bob@aol.com"))).isPresent();
    }

    @Test
    void missingPolicyParameterOrBadRetentionFailsInit() {
        IngestBounces other = new IngestBounces(metricFactory);
        assertThatThrownBy(() -> other.init(FakeMailetConfig.builder().mailetName("ib").build()))
                .isInstanceOf(MessagingException.class).hasMessageContaining("<policy>");
        assertThatThrownBy(() -> other.init(FakeMailetConfig.builder().mailetName("ib").setProperty("policy", location)
                .setProperty("ledgerRetention", "two weeks").build()))
                .isInstanceOf(MessagingException.class).hasMessageContaining("ledgerRetention");
    }
}
