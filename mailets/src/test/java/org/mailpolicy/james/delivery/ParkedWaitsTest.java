package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.mail.MessagingException;
import org.apache.james.core.MailAddress;
import org.apache.james.core.builder.MimeMessageBuilder;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.queue.api.MailQueue.MailQueueItem.CompletionStatus;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.TestClock;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.StoreSettings;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.destination.WaitSettings;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.dsn.RecordingRepositoryStore;
import org.mailpolicy.james.parking.ParkedAttribute;
import org.mailpolicy.james.parking.ParkingLot;
import org.mailpolicy.parking.JdbcParkedMailStore;
import org.mailpolicy.parking.ParkedMailStore;
import org.mailpolicy.parking.ParkedSummary;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.rules.RuleSet;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;

/**
 * The delivery mailet with {@code waits: in: parked}: mail that must wait goes to the parked-mail
 * schedule (content in a repository, due time in the store), never back on the queue with a delay;
 * the releaser's rounds (run here by hand) send it back when due, one probe after a hold, and a
 * stale copy of a re-released mail is dropped without an attempt.
 */
class ParkedWaitsTest {
    private static final Instant START = Instant.parse("2026-12-07T04:00:00Z");
    private static final String POLICY_LOCATION = "test-policies/parked-waits-test.yaml";
    private static final String REPOSITORY = "memory://var/mail/policy-parked/";
    private static final String THROTTLE_RULE = String.join("\n",
            "version: 1",
            "rules:",
            "  - id: test.throttled",
            "    match: {text: 'test-throttled'}",
            "    action: throttle",
            "    reason: speeding",
            "    scope: destination",
            "    explanation: The destination asks us to slow down.",
            "    remedy: Nothing; delivery resumes by itself.",
            "    source: test",
            "");

    @TempDir
    Path dir;

    private TestClock clock;
    private RecordingMailQueue queue;
    private RecordingRepositoryStore repositories;
    private ParkedMailStore parked;
    private PolicyRemoteDelivery mailet;
    private JdbcSuppressionList suppressions;
    private JdbcSentMessageLedger ledger;
    private final Deque<Function<List<MailAddress>, AttemptResult>> script = new ArrayDeque<>();
    private final AtomicInteger attempts = new AtomicInteger();
    private final RecordingMetricFactory metrics = new RecordingMetricFactory();
    private final java.util.Map<String, org.apache.james.metrics.api.Gauge<?>> gauges = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        clock = new TestClock(START);
        queue = new RecordingMailQueue();
        repositories = new RecordingRepositoryStore();
        Path store = dir.resolve("suppressions");
        suppressions = JdbcSuppressionList.openH2(store);
        ledger = JdbcSentMessageLedger.openH2(store);
        DestinationPolicy aol = DestinationPolicy.builder("aol").domains(ImmutableList.of("aol.com"))
                .concurrency(2).throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4))).build();
        DeliveryPolicy policy = DeliveryPolicy.of(StoreSettings.of(StoreSettings.Store.H2, store), ImmutableList.of(),
                ImmutableList.of(aol), DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME).build())
                .withWaits(WaitSettings.parked(REPOSITORY));
        parked = JdbcParkedMailStore.inMemory();
        ReplyClassifier classifier = ReplyClassifier.builtIn().plus(RuleSet.parse(THROTTLE_RULE, "test-rules.yaml"));
        PolicyRuntime.registerForTesting(POLICY_LOCATION, PolicyRuntime.of(policy, classifier, suppressions, ledger,
                new InMemoryDestinationStateStore(), parked, clock));
        mailet = new PolicyRemoteDelivery(new LoopbackDns(ImmutableMap.of("aol.com", ImmutableList.of("mx1.aol.test."))),
                null, queue, metrics, new org.apache.james.metrics.api.NoopGaugeRegistry() {
                    @Override
                    public <T> org.apache.james.metrics.api.GaugeRegistry register(String name,
                                                                                  org.apache.james.metrics.api.Gauge<T> gauge) {
                        gauges.put(name, gauge);
                        return this;
                    }
                },
                repositories, PolicyRemoteDelivery.ThreadState.DO_NOT_START_THREADS);
        mailet.useAttemptForTesting((mail, recipients, hosts) -> {
            attempts.incrementAndGet();
            Function<List<MailAddress>, AttemptResult> next = script.poll();
            if (next == null) {
                throw new AssertionError("unexpected delivery attempt to " + recipients);
            }
            return next.apply(recipients);
        });
        mailet.init(FakeMailetConfig.builder().mailetName("PolicyRemoteDelivery")
                .mailetContext(FakeMailContext.defaultContext())
                .setProperty("policy", POLICY_LOCATION).setProperty("heloName", "james.test").build());
    }

    @AfterEach
    void tearDown() {
        mailet.destroy();
        PolicyRuntime.forgetForTesting(POLICY_LOCATION);
        suppressions.close();
        ledger.close();
    }

    private ParkingLot lot() {
        return mailet.parking().get();
    }

    private void thenThrottled() {
        script.add(r -> AttemptResult.failed(r, SmtpReply.parse("421 4.7.0 test-throttled, come back later", Stage.CONNECT),
                Optional.of("mx1.aol.test")));
    }

    private void thenDelivered() {
        script.add(r -> AttemptResult.of(r, r, ImmutableMap.of(), Optional.empty(), Optional.of("mx1.aol.test")));
    }

    private static Mail mail(String name, String recipient) throws MessagingException {
        return FakeMail.builder().name(name).sender("sender@example.com").recipients(recipient)
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject("hello").setText("body")
                        .addHeader("Message-ID", "<" + name + "@example.com>"))
                .build();
    }

    private RecordingMailQueue.Item deliverNext() {
        RecordingMailQueue.Item item = queue.take();
        mailet.deliverOne(item);
        return item;
    }

    private ParkedSummary aolSummary() {
        return parked.summaries(clock.instant()).stream().filter(s -> s.destination().equals("aol")).findFirst()
                .orElseThrow(() -> new AssertionError("nothing parked for aol"));
    }

    @Test
    void aHeldDestinationsMailIsParkedNotQueuedAndGoesProbeFirstWhenTheHoldEnds() throws Exception {
        mailet.service(mail("m1", "a@aol.com"));
        mailet.service(mail("m2", "b@aol.com"));
        mailet.service(mail("m3", "c@aol.com"));
        thenThrottled();

        RecordingMailQueue.Item first = deliverNext();   // throttled: aol held for 15 minutes
        deliverNext();                                    // refused while held: parked without an attempt
        deliverNext();

        assertThat(first.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts).hasValue(1);
        assertThat(queue.entries).as("nothing back on the queue, with or without delay").isEmpty();
        assertThat(repositories.storedNames(REPOSITORY)).hasSize(3);
        assertThat(aolSummary().parked()).isEqualTo(3);
        assertThat(aolSummary().nextDue()).contains(START.plus(Duration.ofMinutes(15)));

        assertThat(lot().releaseDue()).as("held").isZero();
        assertThat(gauges.get("delivery-policy.parked.count.aol").get()).as("gauge after a round").isEqualTo(3L);
        assertThat(gauges.get("delivery-policy.parked.count.default").get()).isEqualTo(0L);
        clock.step(Duration.ofMinutes(15));
        assertThat(lot().releaseDue()).as("the probe alone").isEqualTo(1);
        assertThat(lot().releaseDue()).as("while the probe is out").isZero();
        assertThat(queue.entries).hasSize(1);
        assertThat(queue.entries.get(0).withoutDelay).isTrue();
        assertThat(ParkedAttribute.read(queue.entries.get(0).mail)).isPresent();

        thenDelivered();
        deliverNext();
        assertThat(aolSummary().parked()).isEqualTo(2);
        assertThat(repositories.storedNames(REPOSITORY)).as("the delivered mail's content is gone").hasSize(2);

        assertThat(lot().releaseDue()).as("the rest at the pace: up to twice the concurrency").isEqualTo(2);
        thenDelivered();
        thenDelivered();
        deliverNext();
        deliverNext();

        assertThat(attempts).hasValue(4);
        assertThat(metrics.countFor("delivery-policy.parked.released.aol")).isEqualTo(3);
        assertThat(parked.summaries(clock.instant())).isEmpty();
        assertThat(repositories.storedNames(REPOSITORY)).isEmpty();
        assertThat(queue.entries).isEmpty();
    }

    @Test
    void aStaleCopyOfAReReleasedMailIsDroppedWithoutAnAttempt() throws Exception {
        mailet.service(mail("m1", "a@aol.com"));
        thenThrottled();
        deliverNext();
        clock.step(Duration.ofMinutes(15));
        assertThat(lot().releaseDue()).isEqualTo(1);
        RecordingMailQueue.Entry lostCopy = queue.entries.remove(0);
        // The copy seems lost (not taken within the release timeout): released again, with a new token.
        clock.step(JdbcParkedMailStore.DEFAULT_RELEASE_TIMEOUT);
        assertThat(lot().releaseDue()).isEqualTo(1);
        thenDelivered();
        deliverNext();

        RecordingMailQueue.Item late = new RecordingMailQueue.Item(lostCopy.mail);
        mailet.deliverOne(late);

        assertThat(late.status).as("acknowledged, not redelivered").isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts).as("the throttled attempt and one delivery").hasValue(2);
        assertThat(parked.summaries(clock.instant())).isEmpty();
    }

    @Test
    void theSameCopyGivenBackByTheQueueIsDeliveredWhenItsAttemptFailedBeforeAcknowledging() throws Exception {
        mailet.service(mail("m1", "a@aol.com"));
        thenThrottled();
        deliverNext();
        clock.step(Duration.ofMinutes(15));
        lot().releaseDue();
        Mail copy = queue.entries.get(0).mail.duplicate();
        script.add(r -> {
            throw new IllegalStateException("node trouble mid-attempt");
        });
        RecordingMailQueue.Item failed = deliverNext();
        assertThat(failed.status).isEqualTo(CompletionStatus.RETRY);

        thenDelivered();
        RecordingMailQueue.Item again = new RecordingMailQueue.Item(copy);
        mailet.deliverOne(again);

        assertThat(again.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts).hasValue(3);
        assertThat(parked.summaries(clock.instant())).isEmpty();
    }
}
