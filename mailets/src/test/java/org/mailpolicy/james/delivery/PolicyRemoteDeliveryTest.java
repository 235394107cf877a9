package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.mail.MessagingException;
import org.apache.james.core.MailAddress;
import org.apache.james.core.builder.MimeMessageBuilder;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.queue.api.MailQueue.MailQueueItem.CompletionStatus;
import org.apache.mailet.Attribute;
import org.apache.mailet.DsnParameters;
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
import org.mailpolicy.destination.RetrySchedule;
import org.mailpolicy.destination.StoreSettings;
import org.mailpolicy.destination.ThrottleHold;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.dsn.ReportAttribute;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.rules.RuleSet;
import org.mailpolicy.schedule.AttemptHistory;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DirectoryOutageStatus;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;
import reactor.core.publisher.Flux;

/**
 * The delivery mailet with James's test doubles: a recording queue, FakeMailContext as the bounce
 * processor's door, a real suppression store, and a scripted remote side. Every test checks that
 * no recipient is lost: delivered + re-queued + reported == the recipients handed over.
 */
class PolicyRemoteDeliveryTest {
    private static final Instant START = Instant.parse("2026-11-20T10:00:00Z");
    private static final String POLICY_LOCATION = "test-policies/delivery-mailet-test.yaml";
    private static final String TEST_RULES = String.join("\n",
            "version: 1",
            "rules:",
            "  - id: test.gone",
            "    match: {text: 'test-user-unknown'}",
            "    action: suppress",
            "    reason: userunknown",
            "    scope: recipient",
            "    explanation: The mailbox does not exist.",
            "    remedy: Remove the address from your list.",
            "    source: test",
            "  - id: test.full",
            "    match: {text: 'test-mailbox-full'}",
            "    action: retry",
            "    reason: mailboxfull",
            "    scope: recipient",
            "    explanation: The mailbox is full.",
            "    remedy: Wait for the recipient to make room.",
            "    source: test",
            "  - id: test.rejected",
            "    match: {text: 'test-content-rejected'}",
            "    action: bounce",
            "    reason: contenterror",
            "    scope: message",
            "    explanation: The content was refused.",
            "    remedy: Change the content.",
            "    source: test",
            "  - id: test.throttled",
            "    match: {text: 'test-throttled'}",
            "    action: throttle",
            "    reason: speeding",
            "    scope: destination",
            "    hold: 30m",
            "    explanation: The destination asks us to slow down.",
            "    remedy: None needed; delivery resumes by itself.",
            "    source: test",
            "");

    @TempDir
    Path dir;

    private final RecordingMetricFactory metricFactory = new RecordingMetricFactory();
    private TestClock clock;
    private RecordingMailQueue queue;
    private FakeMailContext context;
    private JdbcSuppressionList suppressions;
    private JdbcSentMessageLedger ledger;
    private InMemoryDestinationStateStore states;
    private PolicyRemoteDelivery mailet;
    private final Deque<Function<List<MailAddress>, AttemptResult>> script = new ArrayDeque<>();
    private final AtomicInteger attempts = new AtomicInteger();

    @BeforeEach
    void setUp() throws Exception {
        clock = new TestClock(START);
        queue = new RecordingMailQueue();
        context = FakeMailContext.defaultContext();
        Path store = dir.resolve("suppressions");
        suppressions = JdbcSuppressionList.openH2(store);
        ledger = JdbcSentMessageLedger.openH2(store);
        DestinationPolicy aol = DestinationPolicy.builder("aol")
                .domains(ImmutableList.of("aol.com", "aim.com"))
                .mx(ImmutableList.of("*.mx.aol.test"))
                .retry(RetrySchedule.explicit(ImmutableList.of(Duration.ofMinutes(10), Duration.ofMinutes(30))))
                .maxAge(Duration.ofHours(24))
                .delayWarning(Duration.ofHours(4))
                .throttle(ThrottleHold.of(Duration.ofMinutes(15), 2.0, Duration.ofHours(4)))
                .build();
        DeliveryPolicy policy = DeliveryPolicy.of(StoreSettings.of(StoreSettings.Store.H2, store),
                ImmutableList.of(), ImmutableList.of(aol), DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME).build());
        ReplyClassifier classifier = ReplyClassifier.builtIn().plus(RuleSet.parse(TEST_RULES, "test-rules.yaml"));
        states = new InMemoryDestinationStateStore();
        PolicyRuntime.registerForTesting(POLICY_LOCATION,
                PolicyRuntime.of(policy, classifier, suppressions, ledger, failingWhenAsked(states), clock));

        mailet = new PolicyRemoteDelivery(
                new LoopbackDns(ImmutableMap.of("aol.com", ImmutableList.of("mx1.mx.aol.test."),
                        "aim.com", ImmutableList.of("mx1.mx.aol.test."),
                        "vanity.test", ImmutableList.of("mx2.mx.aol.test."),
                        "small.test", ImmutableList.of("mail.small.test."),
                        "other.test", ImmutableList.of("mail.other.test."))),
                null, queue, metricFactory, PolicyRemoteDelivery.ThreadState.DO_NOT_START_THREADS);
        mailet.useAttemptForTesting(scriptedAttempt());
        mailet.init(FakeMailetConfig.builder().mailetName("PolicyRemoteDelivery").mailetContext(context)
                .setProperty("policy", POLICY_LOCATION)
                .setProperty("heloName", "james.test")
                .setProperty("outgoing", "test-outgoing")
                .build());
    }

    @AfterEach
    void tearDown() {
        mailet.destroy();
        PolicyRuntime.forgetForTesting(POLICY_LOCATION);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** While set, the destination state store fails what an attempt records, as a shared database that went away. */
    private final java.util.concurrent.atomic.AtomicBoolean stateWritesFail = new java.util.concurrent.atomic.AtomicBoolean();

    private org.mailpolicy.state.DestinationStateStore failingWhenAsked(org.mailpolicy.state.DestinationStateStore store) {
        java.util.Set<String> writes = java.util.Set.of("recordSuccess", "recordFailure", "recordThrottle", "finished");
        return (org.mailpolicy.state.DestinationStateStore) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {org.mailpolicy.state.DestinationStateStore.class},
                (proxy, method, args) -> {
                    if (stateWritesFail.get() && writes.contains(method.getName())) {
                        throw new org.mailpolicy.jdbc.StoreException("cannot " + method.getName()
                                + " in the test database: connection refused", null);
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** An attempt that counts itself and answers with the next scripted result. */
    private DeliveryAttempt scriptedAttempt() {
        return (mail, recipients, hosts) -> {
            attempts.incrementAndGet();
            Function<List<MailAddress>, AttemptResult> next = script.poll();
            if (next == null) {
                throw new AssertionError("unexpected delivery attempt to " + recipients);
            }
            return next.apply(recipients);
        };
    }

    private static Mail mail(String sender, String... recipients) throws MessagingException {
        FakeMail.Builder b = FakeMail.builder().name("mail-1");
        b = sender == null ? b.sender(org.apache.james.core.MaybeSender.nullSender()) : b.sender(sender);
        return b.recipients(recipients)
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject("hello").setText("body")
                        .addHeader("Message-ID", "<m1@example.com>"))
                .build();
    }

    private static MailAddress address(String a) {
        try {
            return new MailAddress(a);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static SmtpReply reply(String raw, Stage stage) {
        return SmtpReply.parse(raw, stage);
    }

    /** The attempt refuses these recipients with these replies and delivers the rest. */
    private void thenRecipients(ImmutableMap<String, SmtpReply> refused) {
        script.add(recipients -> {
            List<MailAddress> delivered = new ArrayList<>();
            ImmutableMap.Builder<MailAddress, SmtpReply> own = ImmutableMap.builder();
            for (MailAddress r : recipients) {
                SmtpReply reply = refused.get(r.asString());
                if (reply == null) {
                    delivered.add(r);
                } else {
                    own.put(r, reply);
                }
            }
            return AttemptResult.of(recipients, delivered, own.build(), Optional.empty(), Optional.of("mx1.mx.aol.test"));
        });
    }

    private void thenWholeAttemptFails(SmtpReply failure) {
        script.add(recipients -> AttemptResult.failed(recipients, failure, Optional.of("mx1.mx.aol.test")));
    }

    /** Puts a mail on the queue through service(), then delivers the queue's head once. */
    private RecordingMailQueue.Item serviceAndDeliver(Mail mail) throws MessagingException {
        mailet.service(mail);
        return deliverNext();
    }

    private RecordingMailQueue.Item deliverNext() {
        RecordingMailQueue.Item item = queue.take();
        mailet.deliverOne(item);
        return item;
    }

    private List<FakeMailContext.SentMail> reports() {
        return context.getSentMails();
    }

    private static DeliveryReport reportOf(FakeMailContext.SentMail sent) {
        Attribute a = sent.getAttributes().get(ReportAttribute.NAME);
        assertThat(a).as("report attribute").isNotNull();
        return DeliveryReport.fromJson((String) a.getValue().value());
    }

    /**
     * Makes {@code mail} the queued copy for aol.com of a message first queued {@code age} before START, tried
     * {@code attempts} times, last {@code sinceLastAttempt} before START, its delay warning sent or not.
     */
    private static void aged(Mail mail, Duration age, int attempts, Duration sinceLastAttempt, boolean warned) {
        mail.setName("mail-1-to-aol.com");
        mail.setAttribute(HistoryAttribute.of(AttemptHistory.of("mail-1-to-aol.com", START.minus(age), attempts,
                Optional.of(START.minus(sinceLastAttempt)), warned)));
    }

    private static AttemptHistory historyOf(Mail mail) {
        return HistoryAttribute.read(mail, Instant.EPOCH);
    }

    /** Never lose a recipient: every original one is delivered, re-queued or reported failed, exactly once. */
    private void assertAccountedFor(Collection<String> original, Collection<String> delivered) {
        List<String> seen = new ArrayList<>(delivered);
        for (RecordingMailQueue.Entry e : queue.entries) {
            e.mail.getRecipients().forEach(r -> seen.add(r.asString()));
        }
        for (FakeMailContext.SentMail s : reports()) {
            DeliveryReport report = reportOf(s);
            for (RecipientReport r : report.recipients()) {
                if (r.action() == DsnAction.FAILED) {
                    seen.add(r.finalRecipient());
                }
            }
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(original);
    }

    // ---- tests -------------------------------------------------------------------------------------

    @Test
    void theDeliveryLoopSubscribesAgainWhenTheQueueStreamFailsOrEnds() throws Exception {
        mailet.service(mail("sender@example.com", "a@aol.com"));
        RecordingMailQueue.Item item = queue.take();
        queue.scriptedStreams.add(Flux.error(new IllegalStateException("queue closed")));
        queue.scriptedStreams.add(Flux.empty());
        queue.scriptedStreams.add(Flux.just(item));
        thenRecipients(ImmutableMap.of());
        PolicyRemoteDelivery running = new PolicyRemoteDelivery(
                new LoopbackDns(ImmutableMap.of("aol.com", ImmutableList.of("mx1.mx.aol.test."))),
                null, queue, metricFactory, PolicyRemoteDelivery.ThreadState.START_THREADS);
        running.useAttemptForTesting(scriptedAttempt());
        try {
            running.init(FakeMailetConfig.builder().mailetName("PolicyRemoteDelivery").mailetContext(context)
                    .setProperty("policy", POLICY_LOCATION)
                    .setProperty("heloName", "james.test")
                    .setProperty("outgoing", "test-outgoing")
                    .build());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (item.status == null && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            running.destroy();
        }
        // A failed stream and an ended one did not stop delivery: the third subscription delivered the mail.
        assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts.get()).isEqualTo(1);
    }

    @Test
    void serviceSplitsByDomainWithAFreshHistoryAndGhostsTheOriginal() throws Exception {
        Mail mail = mail("sender@example.com", "a@aol.com", "b@gmail.test", "c@aol.com");

        mailet.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(queue.entries).hasSize(2);
        Mail aol = queue.entries.get(0).mail;
        assertThat(aol.getName()).isEqualTo("mail-1-to-aol.com");
        assertThat(aol.getRecipients()).containsExactly(address("a@aol.com"), address("c@aol.com"));
        assertThat(historyOf(aol)).isEqualTo(AttemptHistory.start("mail-1-to-aol.com", START));
        assertThat(queue.entries.get(1).mail.getRecipients()).containsExactly(address("b@gmail.test"));
        assertThat(queue.entries.get(0).delay).isEqualTo(Duration.ZERO);
        assertThat(queue.entries).as("due now: queued without a delay").allMatch(e -> e.withoutDelay);
    }

    @Test
    void mixedTransactionSplitsTheMailByOutcome() throws Exception {
        thenRecipients(ImmutableMap.of(
                "gone@aol.com", reply("550 5.1.1 <gone@aol.com>: test-user-unknown", Stage.RCPT),
                "full@aol.com", reply("452 4.2.2 <full@aol.com>: test-mailbox-full", Stage.RCPT)));

        RecordingMailQueue.Item item = serviceAndDeliver(mail("sender@example.com", "ok@aol.com", "gone@aol.com", "full@aol.com"));

        assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(queue.entries).hasSize(1);
        RecordingMailQueue.Entry retry = queue.entries.get(0);
        assertThat(retry.mail.getRecipients()).containsExactly(address("full@aol.com"));
        assertThat(retry.delay).isEqualTo(Duration.ofMinutes(10));
        assertThat(historyOf(retry.mail).failedAttempts()).isEqualTo(1);
        assertThat(historyOf(retry.mail).messageKey()).isEqualTo("mail-1-to-aol.com");

        assertThat(reports()).hasSize(1);
        FakeMailContext.SentMail sent = reports().get(0);
        assertThat(sent.getState()).isEqualTo("bounces");
        assertThat(sent.getSender()).isEqualTo(address("sender@example.com"));
        assertThat(sent.getRecipients()).containsExactly(address("gone@aol.com"));
        DeliveryReport report = reportOf(sent);
        assertThat(report.reportingMta()).isEqualTo("james.test");
        assertThat(report.originalMessageId()).contains("<m1@example.com>");
        RecipientReport gone = report.recipients().get(0);
        assertThat(gone.finalRecipient()).isEqualTo("gone@aol.com");
        assertThat(gone.action()).isEqualTo(DsnAction.FAILED);
        assertThat(gone.status()).isEqualTo(EnhancedStatus.of(5, 1, 1));
        assertThat(gone.diagnostic()).hasValueSatisfying(d -> assertThat(d).contains("test-user-unknown"));
        assertThat(gone.ruleId()).isEqualTo("test.gone");
        assertThat(gone.remoteMta()).contains("mx1.mx.aol.test");
        assertThat(gone.remedy()).startsWith("Remove the address from your list.")
                .contains("will not try the address again").contains("suppression list");

        assertThat(suppressions.find("gone@aol.com")).hasValueSatisfying(e -> {
            assertThat(e.ruleId()).isEqualTo("test.gone");
            assertThat(e.messageId()).contains("<m1@example.com>");
        });
        assertThat(suppressions.find("full@aol.com")).isEmpty();
        assertThat(ledger.find("<m1@example.com>", List.of("ok@aol.com", "full@aol.com", "gone@aol.com"))).hasValueSatisfying(m ->
                assertThat(m.recipients()).containsExactly("ok@aol.com"));
        assertAccountedFor(List.of("ok@aol.com", "gone@aol.com", "full@aol.com"), List.of("ok@aol.com"));
        assertThat(metricFactory.countFor("delivery-policy.attempts.aol")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.outcome.delivered.aol")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.outcome.suppress.userunknown.aol")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.outcome.retry.mailboxfull.aol")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.suppressions.added.live_reply")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.dsn.sent.failed")).isEqualTo(1);

        // The retried copy is delivered next time: nothing is left anywhere.
        clock.step(Duration.ofMinutes(10));
        thenRecipients(ImmutableMap.of());
        context.resetSentMails();
        RecordingMailQueue.Item second = deliverNext();
        assertThat(second.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(queue.entries).isEmpty();
        assertThat(reports()).isEmpty();
        assertThat(ledger.find("<m1@example.com>", List.of("ok@aol.com", "full@aol.com")).get().recipients()).containsExactlyInAnyOrder("ok@aol.com", "full@aol.com");
    }

    @Test
    void aSurgeOfUnknownUsersIsRetriedNotSuppressedAndLiftsTheSuppressionsItWrote() throws Exception {
        // The default guard: 20 distinct unknown recipients within 10 minutes, half of those answered.
        List<String> people = new ArrayList<>();
        for (int i = 0; i < 22; i++) {
            people.add("person" + i + "@aol.com");
        }
        for (String person : people) {
            thenRecipients(ImmutableMap.of(person, reply("550 5.1.1 <" + person + ">: test-user-unknown", Stage.RCPT)));
            mailet.service(mail("sender@example.com", person));
            // The new mail, not the retries queued before it.
            mailet.deliverOne(new RecordingMailQueue.Item(queue.entries.remove(queue.entries.size() - 1).mail));
            clock.step(Duration.ofSeconds(10));
        }

        // The first 19 were believed (a DSN each); the 20th made the surge, and it and the two after were retried.
        assertThat(reports()).hasSize(19);
        assertThat(queue.entries).extracting(e -> e.mail.getRecipients().iterator().next().asString())
                .containsExactly("person19@aol.com", "person20@aol.com", "person21@aol.com");
        assertThat(queue.entries).allMatch(e -> e.delay.equals(Duration.ofMinutes(10)));
        // The surge's own suppressions were lifted: nobody at aol.com is suppressed.
        assertThat(suppressions.count(Optional.of("aol.com"))).isZero();
        assertThat(metricFactory.countFor("delivery-policy.suppressions.added.live_reply")).isEqualTo(19);
        assertThat(metricFactory.countFor("delivery-policy.suppressions.lifted")).isEqualTo(19);
        assertThat(metricFactory.countFor("delivery-policy.directory-outage.started.aol")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.directory-outage.deferred.aol")).isEqualTo(3);
        assertThat(metricFactory.countFor("delivery-policy.outcome.retry.userunknown.aol")).isEqualTo(3);
        DirectoryOutageStatus status = mailet.runtime().get().directoryOutages().status(DestinationKey.of("aol"),
                clock.instant());
        assertThat(status.isSuspected()).isTrue();
        assertThat(status.unknownRecipients()).isEqualTo(22);

        // The receiver's directory is back: the retried people are delivered, and nobody was lost.
        clock.step(Duration.ofMinutes(10));
        context.resetSentMails();
        for (int i = 0; i < 3; i++) {
            thenRecipients(ImmutableMap.of());
            assertThat(deliverNext().status).isEqualTo(CompletionStatus.SUCCESS);
        }
        assertThat(queue.entries).isEmpty();
        assertThat(reports()).isEmpty();
    }

    @Test
    void throttleHoldsTheDestinationSoOtherMailWaitsWithoutConnecting() throws Exception {
        thenWholeAttemptFails(reply("421 4.7.0 test-throttled, come back later", Stage.CONNECT));

        serviceAndDeliver(mail("sender@example.com", "a@aol.com", "b@aol.com"));

        assertThat(attempts.get()).isEqualTo(1);
        assertThat(queue.entries).hasSize(1);
        // Set aside while its delay runs (the recording queue does not honour delays).
        RecordingMailQueue.Entry held = queue.entries.remove(0);
        assertThat(held.mail.getRecipients()).containsExactly(address("a@aol.com"), address("b@aol.com"));
        // The rule's 30 minute hint beats the policy's 15 minute first hold.
        assertThat(held.delay).isEqualTo(Duration.ofMinutes(30));
        assertThat(held.withoutDelay).isFalse();
        assertThat(reports()).isEmpty();
        assertThat(metricFactory.countFor("delivery-policy.holds.started.aol")).isEqualTo(1);

        // Another mail for AOL (a vanity domain whose MX is AOL's, too) waits for the hold: no attempt, no count.
        clock.step(Duration.ofMinutes(1));
        Mail other = mail("sender@example.com", "x@vanity.test");
        other.setName("mail-2");
        RecordingMailQueue.Item waited = serviceAndDeliver(other);
        assertThat(waited.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts.get()).isEqualTo(1);
        assertThat(queue.entries).hasSize(1);
        RecordingMailQueue.Entry postponed = queue.entries.get(0);
        assertThat(postponed.mail.getRecipients()).containsExactly(address("x@vanity.test"));
        assertThat(postponed.delay).isEqualTo(Duration.ofMinutes(29));
        assertThat(historyOf(postponed.mail).failedAttempts()).isZero();
        assertThat(metricFactory.countFor("delivery-policy.waits.aol")).isEqualTo(1);
        queue.entries.add(0, held);

        // After the hold the first mail is delivered (the probe), and the destination is open again.
        clock.step(Duration.ofMinutes(29));
        thenRecipients(ImmutableMap.of());
        RecordingMailQueue.Item probe = deliverNext();
        assertThat(probe.status).isEqualTo(CompletionStatus.SUCCESS);
        thenRecipients(ImmutableMap.of());
        deliverNext();
        assertThat(attempts.get()).isEqualTo(3);
        assertThat(queue.entries).isEmpty();
    }

    @Test
    void eachUnlistedDomainIsHeldAloneWhileANamedDestinationsDomainsAreHeldTogether() throws Exception {
        // A small unlisted domain says "slow down".
        thenWholeAttemptFails(reply("421 4.7.0 test-throttled, come back later", Stage.CONNECT));
        serviceAndDeliver(named(mail("sender@example.com", "x@small.test"), "to-small-1"));
        assertThat(attempts.get()).isEqualTo(1);
        assertThat(queue.entries.remove(0).delay).isEqualTo(Duration.ofMinutes(30));

        // Another unlisted domain is not held by it: its mail is attempted and delivered.
        clock.step(Duration.ofMinutes(1));
        thenRecipients(ImmutableMap.of());
        serviceAndDeliver(named(mail("sender@example.com", "y@other.test"), "to-other"));
        assertThat(attempts.get()).isEqualTo(2);
        assertThat(queue.entries).isEmpty();

        // More mail for the held domain waits without connecting.
        serviceAndDeliver(named(mail("sender@example.com", "x2@small.test"), "to-small-2"));
        assertThat(attempts.get()).isEqualTo(2);
        assertThat(queue.entries.remove(0).delay).isEqualTo(Duration.ofMinutes(29));

        // aol.com throttles: aim.com, the same provider's servers, waits for the same hold.
        thenWholeAttemptFails(reply("421 4.7.0 test-throttled, come back later", Stage.CONNECT));
        serviceAndDeliver(named(mail("sender@example.com", "a@aol.com"), "to-aol"));
        assertThat(attempts.get()).isEqualTo(3);
        queue.entries.remove(0);
        clock.step(Duration.ofMinutes(1));
        serviceAndDeliver(named(mail("sender@example.com", "b@aim.com"), "to-aim"));
        assertThat(attempts.get()).isEqualTo(3);
        RecordingMailQueue.Entry aim = queue.entries.remove(0);
        assertThat(aim.mail.getRecipients()).containsExactly(address("b@aim.com"));
        assertThat(aim.delay).isEqualTo(Duration.ofMinutes(29));

        // The state: one key per unlisted domain, one for aol; none for "default" as a whole.
        Instant now = clock.instant();
        assertThat(states.all()).extracting(s -> s.destination())
                .containsExactly("aol", "other.test", "small.test");
        assertThat(states.get("small.test").get().isHeldAt(now)).isTrue();
        assertThat(states.get("other.test").get().isHeldAt(now)).isFalse();
        assertThat(states.get("aol").get().isHeldAt(now)).isTrue();
        // Metrics stay bounded: by the policy's name, never by recipient domain.
        assertThat(metricFactory.countFor("delivery-policy.holds.started.default")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.holds.started.aol")).isEqualTo(1);
        assertThat(metricFactory.countFor("delivery-policy.attempts.default")).isEqualTo(2);
        assertThat(metricFactory.countFor("delivery-policy.attempts.small_test")).isZero();
    }

    @Test
    void theDefaultsConcurrencyIsPerRecipientDomain() throws Exception {
        // it-style default: concurrency 10 here, a fresh domain starting at its pacing's share of it;
        // take every slot of small.test, other.test still goes.
        DestinationPolicy dflt = PolicyRuntime.forPolicyFile(POLICY_LOCATION).policy().defaultDestination();
        org.mailpolicy.state.DestinationKey small = org.mailpolicy.state.DestinationKey.of("small.test");
        int taken = 0;
        while (states.admit(small, dflt, clock.instant()).isGranted()) {
            taken++;
        }
        assertThat(taken).isEqualTo(org.mailpolicy.state.Pace.initial(dflt, clock.instant()).effectiveConcurrency(dflt));
        serviceAndDeliver(named(mail("sender@example.com", "x@small.test"), "to-small"));
        assertThat(attempts.get()).isZero();
        assertThat(queue.entries.remove(0).delay).isEqualTo(InMemoryDestinationStateStore.DEFAULT_BUSY_WAIT);

        thenRecipients(ImmutableMap.of());
        serviceAndDeliver(named(mail("sender@example.com", "y@other.test"), "to-other"));
        assertThat(attempts.get()).isEqualTo(1);
        assertThat(queue.entries).isEmpty();
    }

    private static Mail named(Mail mail, String name) {
        mail.setName(name);
        return mail;
    }

    @Test
    void temporaryFailureAtMaxAgeBouncesAsExpired() throws Exception {
        Mail mail = mail("sender@example.com", "full@aol.com");
        aged(mail, Duration.ofHours(24), 7, Duration.ofMinutes(30), true);
        queue.enQueue(mail);
        thenRecipients(ImmutableMap.of("full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT)));

        deliverNext();

        assertThat(queue.entries).isEmpty();
        assertThat(reports()).hasSize(1);
        RecipientReport r = reportOf(reports().get(0)).recipients().get(0);
        assertThat(r.action()).isEqualTo(DsnAction.FAILED);
        assertThat(r.status()).isEqualTo(EnhancedStatus.of(4, 4, 7));
        assertThat(r.reason()).isEqualTo("expired");
        assertThat(r.diagnostic()).hasValueSatisfying(d -> assertThat(d).contains("test-mailbox-full"));
        assertThat(r.remedy()).doesNotContain("suppression list");
        assertThat(suppressions.find("full@aol.com")).isEmpty();
    }

    @Test
    void mailWaitingForAHeldDestinationExpiresAtItsMaximumAgeWithoutAnAttempt() throws Exception {
        DestinationPolicy aol = PolicyRuntime.forPolicyFile(POLICY_LOCATION).policy().forRecipientDomain("aol.com");
        states.recordThrottle(aol, "421 4.7.1 test-throttled", Optional.of(Duration.ofHours(2)), START);
        Mail mail = mail("sender@example.com", "bob@aol.com");
        aged(mail, Duration.ofHours(23), 5, Duration.ofMinutes(30), true);
        queue.enQueue(mail);

        deliverNext();

        // Held for 2 h, but the mail's 24 h end in 1 h: it waits until then, not until the hold's end.
        assertThat(queue.entries).hasSize(1);
        assertThat(queue.entries.get(0).delay).isEqualTo(Duration.ofHours(1));
        assertThat(reports()).isEmpty();

        clock.step(Duration.ofHours(1));
        deliverNext();

        assertThat(attempts).as("no connection to a held destination").hasValue(0);
        assertThat(queue.entries).isEmpty();
        assertThat(reports()).hasSize(1);
        RecipientReport r = reportOf(reports().get(0)).recipients().get(0);
        assertThat(r.action()).isEqualTo(DsnAction.FAILED);
        assertThat(r.status()).isEqualTo(EnhancedStatus.of(4, 4, 7));
        assertThat(r.reason()).isEqualTo("expired");
        assertThat(r.diagnostic()).hasValueSatisfying(d -> assertThat(d).contains("test-throttled"));
        assertAccountedFor(List.of("bob@aol.com"), List.of());
    }

    @Test
    void delayWarningIsSentOnceWhenDue() throws Exception {
        Mail mail = mail("sender@example.com", "full@aol.com");
        aged(mail, Duration.ofHours(5), 3, Duration.ofHours(1), false);
        queue.enQueue(mail);
        thenRecipients(ImmutableMap.of("full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT)));

        deliverNext();

        assertThat(reports()).hasSize(1);
        DeliveryReport warning = reportOf(reports().get(0));
        RecipientReport r = warning.recipients().get(0);
        assertThat(r.action()).isEqualTo(DsnAction.DELAYED);
        assertThat(r.willRetryUntil()).contains(START.minus(Duration.ofHours(5)).plus(Duration.ofHours(24)));
        assertThat(r.status().statusClass()).isEqualTo(4);
        assertThat(queue.entries).hasSize(1);
        assertThat(historyOf(queue.entries.get(0).mail).delayWarningSent()).isTrue();

        // The next failure sends no second warning.
        context.resetSentMails();
        clock.step(Duration.ofMinutes(30));
        thenRecipients(ImmutableMap.of("full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT)));
        deliverNext();
        assertThat(reports()).isEmpty();
        assertThat(queue.entries).hasSize(1);
    }

    @Test
    void noDelayWarningWhenTheSenderAskedOnlyForFailures() throws Exception {
        Mail mail = mail("sender@example.com", "full@aol.com");
        aged(mail, Duration.ofHours(5), 3, Duration.ofHours(1), false);
        mail.setDsnParameters(DsnParameters.builder().addRcptParameter(address("full@aol.com"),
                DsnParameters.RecipientDsnParameters.of(EnumSet.of(DsnParameters.Notify.FAILURE))).build().get());
        queue.enQueue(mail);
        thenRecipients(ImmutableMap.of("full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT)));

        deliverNext();

        assertThat(reports()).isEmpty();
        assertThat(historyOf(queue.entries.get(0).mail).delayWarningSent()).isTrue();
    }

    @Test
    void noDelayWarningForANullSenderMailOrASenderWhoSaidNever() throws Exception {
        for (boolean nullSender : new boolean[] {true, false}) {
            context.resetSentMails();
            queue.entries.clear();
            Mail mail = mail(nullSender ? null : "sender@example.com", "full@aol.com");
            aged(mail, Duration.ofHours(5), 3, Duration.ofHours(1), false);
            if (!nullSender) {
                mail.setDsnParameters(DsnParameters.builder().addRcptParameter(address("full@aol.com"),
                        DsnParameters.RecipientDsnParameters.of(EnumSet.of(DsnParameters.Notify.NEVER))).build().get());
            }
            queue.enQueue(mail);
            thenRecipients(ImmutableMap.of("full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT)));

            deliverNext();

            // A warning to the null sender would go nowhere (or loop); NEVER means never.
            assertThat(reports()).as("reports, null sender %s", nullSender).isEmpty();
            assertThat(queue.entries).hasSize(1);
            assertThat(queue.entries.get(0).mail.hasSender()).isEqualTo(!nullSender);
            assertThat(historyOf(queue.entries.get(0).mail).delayWarningSent()).isTrue();
            assertAccountedFor(List.of("full@aol.com"), List.of());
        }
    }

    /** Every recipient is accepted with a 250, by a server that advertised DSN or not. */
    private void thenAllAccepted(boolean nextHopSupportsDsn) {
        script.add(recipients -> {
            ImmutableMap.Builder<MailAddress, String> accepted = ImmutableMap.builder();
            recipients.forEach(r -> accepted.put(r, "250 2.0.0 Ok: queued as ABC123"));
            return AttemptResult.of(recipients, recipients, ImmutableMap.of(), Optional.empty(),
                    Optional.of("mx1.mx.aol.test")).withNextHop(nextHopSupportsDsn, accepted.build());
        });
    }

    private static Mail mailAsking(String sender, EnumSet<DsnParameters.Notify> notify, String... recipients)
            throws MessagingException {
        Mail mail = mail(sender, recipients);
        DsnParameters.Builder dsn = DsnParameters.builder();
        for (String r : recipients) {
            dsn.addRcptParameter(address(r), DsnParameters.RecipientDsnParameters.of(notify));
        }
        mail.setDsnParameters(dsn.build().get());
        return mail;
    }

    @Test
    void successAskedOfANextHopWithoutDsnIsReportedAsRelayed() throws Exception {
        thenAllAccepted(false);
        Mail mail = mail("sender@example.com", "ok@aol.com", "quiet@aol.com");
        mail.setDsnParameters(DsnParameters.builder()
                .addRcptParameter(address("ok@aol.com"), DsnParameters.RecipientDsnParameters.of(
                        EnumSet.of(DsnParameters.Notify.SUCCESS, DsnParameters.Notify.FAILURE)))
                .addRcptParameter(address("quiet@aol.com"), DsnParameters.RecipientDsnParameters.of(
                        EnumSet.of(DsnParameters.Notify.FAILURE)))
                .build().get());

        RecordingMailQueue.Item item = serviceAndDeliver(mail);

        assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(queue.entries).isEmpty();
        assertThat(reports()).hasSize(1);
        FakeMailContext.SentMail sent = reports().get(0);
        assertThat(sent.getState()).isEqualTo("bounces");
        assertThat(sent.getSender()).isEqualTo(address("sender@example.com"));
        assertThat(sent.getRecipients()).containsExactly(address("ok@aol.com"));
        DeliveryReport report = reportOf(sent);
        assertThat(report.recipients()).hasSize(1);
        RecipientReport r = report.recipients().get(0);
        assertThat(r.finalRecipient()).isEqualTo("ok@aol.com");
        assertThat(r.action()).isEqualTo(DsnAction.RELAYED);
        assertThat(r.status()).isEqualTo(EnhancedStatus.of(2, 0, 0));
        assertThat(r.remoteMta()).contains("mx1.mx.aol.test");
        assertThat(r.diagnostic()).contains("250 2.0.0 Ok: queued as ABC123");
        assertThat(r.explanation()).contains("does not report delivery itself");
        assertThat(r.remedy()).isEmpty();
        assertThat(r.reason()).isEmpty();
        assertThat(r.willRetryUntil()).isEmpty();
        assertThat(metricFactory.countFor("delivery-policy.dsn.sent.relayed")).isEqualTo(1);
        assertAccountedFor(List.of("ok@aol.com", "quiet@aol.com"), List.of("ok@aol.com", "quiet@aol.com"));
    }

    @Test
    void successAskedInRcptSpeltInAnotherCaseIsStillReportedAsRelayed() throws Exception {
        thenAllAccepted(false);
        Mail mail = mail("sender@example.com", "ok@aol.com");
        // James keys the parameters by the address as the client wrote it in RCPT TO.
        mail.setDsnParameters(DsnParameters.builder()
                .addRcptParameter(address("Ok@AOL.com"), DsnParameters.RecipientDsnParameters.of(
                        EnumSet.of(DsnParameters.Notify.SUCCESS), address("Ok.Original@example.net")))
                .build().get());

        serviceAndDeliver(mail);

        assertThat(reports()).hasSize(1);
        RecipientReport r = reportOf(reports().get(0)).recipients().get(0);
        assertThat(r.action()).isEqualTo(DsnAction.RELAYED);
        assertThat(r.originalRecipient()).contains("rfc822;Ok.Original@example.net");
    }

    @Test
    void relayedReportWithoutTheAcceptingReplyNamesTheHostButInventsNoDiagnostic() throws Exception {
        script.add(recipients -> AttemptResult.of(recipients, recipients, ImmutableMap.of(), Optional.empty(),
                Optional.of("mx1.mx.aol.test")));

        serviceAndDeliver(mailAsking("sender@example.com", EnumSet.of(DsnParameters.Notify.SUCCESS), "ok@aol.com"));

        assertThat(reports()).hasSize(1);
        RecipientReport r = reportOf(reports().get(0)).recipients().get(0);
        assertThat(r.action()).isEqualTo(DsnAction.RELAYED);
        assertThat(r.diagnostic()).as("no reply was read: no invented Diagnostic-Code").isEmpty();
        assertThat(r.remoteMta()).contains("mx1.mx.aol.test");
        assertThat(r.explanation()).contains("(mx1.mx.aol.test)");
    }

    @Test
    void noRelayedReportWhenTheNextHopTakesTheNotifyItself() throws Exception {
        thenAllAccepted(true);

        serviceAndDeliver(mailAsking("sender@example.com", EnumSet.of(DsnParameters.Notify.SUCCESS), "ok@aol.com"));

        assertThat(reports()).isEmpty();
        assertThat(queue.entries).isEmpty();
        assertThat(ledger.find("<m1@example.com>", List.of("ok@aol.com"))).isPresent();
    }

    @Test
    void noRelayedReportUnlessSuccessWasAskedFor() throws Exception {
        List<Optional<EnumSet<DsnParameters.Notify>>> cases = List.of(Optional.empty(),
                Optional.of(EnumSet.of(DsnParameters.Notify.FAILURE)),
                Optional.of(EnumSet.of(DsnParameters.Notify.DELAY)),
                Optional.of(EnumSet.of(DsnParameters.Notify.FAILURE, DsnParameters.Notify.DELAY)),
                Optional.of(EnumSet.of(DsnParameters.Notify.NEVER)));
        for (Optional<EnumSet<DsnParameters.Notify>> notify : cases) {
            context.resetSentMails();
            thenAllAccepted(false);
            Mail mail = notify.isPresent() ? mailAsking("sender@example.com", notify.get(), "ok@aol.com")
                    : mail("sender@example.com", "ok@aol.com");

            serviceAndDeliver(mail);

            assertThat(reports()).as("reports for NOTIFY %s", notify).isEmpty();
            assertThat(queue.entries).isEmpty();
        }
    }

    @Test
    void noRelayedReportForANullSenderMail() throws Exception {
        thenAllAccepted(false);

        serviceAndDeliver(mailAsking(null, EnumSet.of(DsnParameters.Notify.SUCCESS), "ok@aol.com"));

        assertThat(reports()).isEmpty();
        assertThat(queue.entries).isEmpty();
    }

    @Test
    void nullSenderMailIsRetriedAndItsFinalFailureStillReachesTheBounceProcessor() throws Exception {
        thenRecipients(ImmutableMap.of(
                "full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT),
                "bad@aol.com", reply("554 5.6.0 test-content-rejected", Stage.RCPT)));

        serviceAndDeliver(mail(null, "full@aol.com", "bad@aol.com"));

        assertThat(queue.entries).hasSize(1);
        assertThat(queue.entries.get(0).mail.getRecipients()).containsExactly(address("full@aol.com"));
        assertThat(queue.entries.get(0).mail.hasSender()).isFalse();
        assertThat(reports()).hasSize(1);
        assertThat(reports().get(0).getState()).isEqualTo("bounces");
        assertThat(reports().get(0).getRecipients()).containsExactly(address("bad@aol.com"));
        assertThat(reportOf(reports().get(0)).recipients().get(0).status().statusClass()).isEqualTo(5);
        assertAccountedFor(List.of("full@aol.com", "bad@aol.com"), List.of());
    }

    @Test
    void dnsFailureIsClassifiedAndRetriedNotDropped() throws Exception {
        thenRecipients(ImmutableMap.of()); // must not be used: no host to try
        RecordingMailQueue.Item item = serviceAndDeliver(mail("sender@example.com", "a@dns-broken.test"));
        script.clear();

        assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts.get()).isZero();
        assertThat(queue.entries).hasSize(1);
        assertThat(queue.entries.get(0).mail.getRecipients()).containsExactly(address("a@dns-broken.test"));
        assertAccountedFor(List.of("a@dns-broken.test"), List.of());
    }

    @Test
    void aQueuedMailForSeveralDomainsIsSplitBeforeAnyAttempt() throws Exception {
        Mail mixed = mail("sender@example.com", "a@aol.com", "b@gmail.test", "c@aol.com");
        queue.enQueue(mixed);

        RecordingMailQueue.Item item = deliverNext();

        assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts.get()).isZero();
        assertThat(queue.entries).hasSize(2);
        assertThat(queue.entries.get(0).mail.getRecipients()).containsExactly(address("a@aol.com"), address("c@aol.com"));
        assertThat(queue.entries.get(1).mail.getRecipients()).containsExactly(address("b@gmail.test"));
        assertThat(queue.entries.get(1).delay).isEqualTo(Duration.ZERO);
        assertThat(queue.entries).as("due now: queued without a delay").allMatch(e -> e.withoutDelay);
        assertAccountedFor(List.of("a@aol.com", "b@gmail.test", "c@aol.com"), List.of());
    }

    /**
     * James's JMS queue (ActiveMQ, as the JPA app runs it) reads {@code enQueue(mail, Duration.ZERO)} as "due at this
     * millisecond", which its consumer already waiting (selector fixed when it began, up to 10 s) does not see: every
     * new mail and every re-queue due now waited up to 10 s. Due now goes through {@code enQueue(mail)}, as stock
     * RemoteDelivery queues new mail; a real delay stays a delay.
     */
    @Test
    void mailDueNowGoesOnTheQueueWithoutADelay() throws Exception {
        Mail m = mail("sender@example.com", "a@aol.com");

        OutcomeDispatcher.enqueue(queue, m, Duration.ZERO);
        OutcomeDispatcher.enqueue(queue, m, Duration.ofSeconds(-3));
        OutcomeDispatcher.enqueue(queue, m, Duration.ofSeconds(2));

        assertThat(queue.entries).extracting(e -> e.withoutDelay).containsExactly(true, true, false);
        assertThat(queue.entries.get(2).delay).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void anUnreadableHistoryStartsAgainInsteadOfBlockingTheMail() throws Exception {
        Mail mail = mail("sender@example.com", "a@aol.com");
        mail.setAttribute(new Attribute(HistoryAttribute.NAME, org.apache.mailet.AttributeValue.of("garbage")));
        queue.enQueue(mail);
        thenRecipients(ImmutableMap.of());

        RecordingMailQueue.Item item = deliverNext();

        assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts.get()).isEqualTo(1);
        assertThat(ledger.find("<m1@example.com>", List.of("a@aol.com"))).isPresent();
    }

    @Test
    void anUnexpectedFailureLeavesTheMailToTheQueue() throws Exception {
        script.add(recipients -> {
            throw new IllegalStateException("boom");
        });

        RecordingMailQueue.Item item = serviceAndDeliver(mail("sender@example.com", "a@aol.com"));

        assertThat(item.status).isEqualTo(CompletionStatus.RETRY);
        assertThat(queue.entries).isEmpty();
        assertThat(reports()).isEmpty();
    }

    @Test
    void aDeliveredMailWhoseOutcomeTheStateStoreCannotRecordIsAcknowledgedNotSentAgain() throws Exception {
        stateWritesFail.set(true);
        thenRecipients(ImmutableMap.of("full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT)));

        RecordingMailQueue.Item item = serviceAndDeliver(mail("sender@example.com", "ok@aol.com", "full@aol.com"));

        // Acknowledged: the queue would otherwise send it again, to ok@aol.com too.
        assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(attempts.get()).isEqualTo(1);
        assertThat(queue.entries).hasSize(1);
        assertThat(queue.entries.get(0).mail.getRecipients()).extracting(MailAddress::asString)
                .containsExactly("full@aol.com");
        assertThat(ledger.find("<m1@example.com>", List.of("ok@aol.com", "full@aol.com"))).isPresent();
        // The delivery thread's slot was given back although finished() failed.
        assertThat(mailet.admissionGateKeys()).isZero();
    }

    @Test
    void aFollowUpThatCannotBeStoredIsNotAcknowledged() throws Exception {
        thenRecipients(ImmutableMap.of("full@aol.com", reply("452 4.2.2 test-mailbox-full", Stage.RCPT)));
        mailet.service(mail("sender@example.com", "full@aol.com"));
        queue.failEnqueue = true;

        RecordingMailQueue.Item item = deliverNext();

        assertThat(item.status).isEqualTo(CompletionStatus.RETRY);
    }

    @Test
    void deliveryThreadsTakeMailFromTheQueueAndStopOnDestroy() throws Exception {
        RecordingMailQueue threaded = new RecordingMailQueue();
        Map<String, org.apache.james.metrics.api.Gauge<?>> gauges = new java.util.concurrent.ConcurrentHashMap<>();
        org.apache.james.metrics.api.GaugeRegistry registry = new org.apache.james.metrics.api.NoopGaugeRegistry() {
            @Override
            public <T> org.apache.james.metrics.api.GaugeRegistry register(String name,
                                                                          org.apache.james.metrics.api.Gauge<T> gauge) {
                gauges.put(name, gauge);
                return this;
            }
        };
        PolicyRemoteDelivery running = new PolicyRemoteDelivery(
                new LoopbackDns(ImmutableMap.of("aol.com", ImmutableList.of("mx1.mx.aol.test."))), null, threaded, metricFactory,
                registry, null, PolicyRemoteDelivery.ThreadState.START_THREADS);
        running.useAttemptForTesting((mail, recipients, hosts) ->
                AttemptResult.of(recipients, recipients, ImmutableMap.of(), Optional.empty(), Optional.empty()));
        running.init(FakeMailetConfig.builder().mailetName("threaded").mailetContext(context)
                .setProperty("policy", POLICY_LOCATION).setProperty("heloName", "james.test")
                .setProperty("deliveryThreads", "2").build());
        // The learned pace of each named destination is a gauge, read when scraped.
        assertThat(gauges.get("delivery-policy.pace.concurrency.aol").get()).isInstanceOf(Integer.class);
        assertThat(gauges.get("delivery-policy.pace.held.aol").get()).isEqualTo(0);
        assertThat(gauges).containsKey("delivery-policy.pace.rate.aol");
        try {
            RecordingMailQueue.Item item = new RecordingMailQueue.Item(mail("sender@example.com", "a@aol.com"));
            threaded.dequeued.tryEmitNext(item);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (item.status == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(item.status).isEqualTo(CompletionStatus.SUCCESS);
            assertThat(ledger.find("<m1@example.com>", List.of("a@aol.com"))).isPresent();
            assertThat(threaded.entries).isEmpty();
        } finally {
            running.destroy();
        }
    }

    @Test
    void badDeliveryThreadsIsRefused() {
        PolicyRemoteDelivery bad = new PolicyRemoteDelivery(new LoopbackDns(ImmutableMap.of()), null, queue, metricFactory,
                PolicyRemoteDelivery.ThreadState.DO_NOT_START_THREADS);
        assertThatThrownBy(() -> bad.init(FakeMailetConfig.builder().mailetName("x").mailetContext(context)
                .setProperty("policy", POLICY_LOCATION).setProperty("heloName", "james.test")
                .setProperty("deliveryThreads", "many").build()))
                .isInstanceOf(MessagingException.class).hasMessageContaining("deliveryThreads").hasMessageContaining("many");
    }

    @Test
    void missingPolicyParameterFailsInitWithAClearMessage() {
        PolicyRemoteDelivery bare = new PolicyRemoteDelivery(new LoopbackDns(ImmutableMap.of()), null, queue, metricFactory,
                PolicyRemoteDelivery.ThreadState.DO_NOT_START_THREADS);
        assertThatThrownBy(() -> bare.init(FakeMailetConfig.builder().mailetName("x").mailetContext(context)
                .setProperty("heloName", "james.test").build()))
                .isInstanceOf(MessagingException.class).hasMessageContaining("'policy' is required");
    }

    @Test
    void brokenPolicyFileFailsInitNamingFileAndLine() throws Exception {
        Path bad = dir.resolve("bad-policy.yaml");
        java.nio.file.Files.writeString(bad, "destinations:\n  aol:\n    maxAge: forever\n");
        PolicyRemoteDelivery broken = new PolicyRemoteDelivery(new LoopbackDns(ImmutableMap.of()), null, queue, metricFactory,
                PolicyRemoteDelivery.ThreadState.DO_NOT_START_THREADS);
        assertThatThrownBy(() -> broken.init(FakeMailetConfig.builder().mailetName("x").mailetContext(context)
                .setProperty("heloName", "james.test").setProperty("policy", "file://" + bad).build()))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining(bad.toString());
    }
}
