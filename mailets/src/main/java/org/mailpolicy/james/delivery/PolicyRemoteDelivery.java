package org.mailpolicy.james.delivery;

import com.google.common.annotations.VisibleForTesting;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.inject.Inject;
import javax.mail.MessagingException;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.domainlist.api.DomainList;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.NoopGaugeRegistry;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.transport.mailets.remote.delivery.RemoteDeliveryConfiguration;
import org.apache.mailet.Mail;
import org.apache.mailet.ProcessingState;
import org.apache.mailet.base.GenericMailet;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.metrics.DeliveryMetrics;
import org.mailpolicy.james.metrics.DirectoryOutageGauges;
import org.mailpolicy.james.metrics.PaceGauges;
import org.mailpolicy.james.metrics.ParkedGauges;
import org.mailpolicy.james.parking.ParkedMailReleaser;
import org.mailpolicy.james.parking.ParkingLot;
import org.mailpolicy.destination.WaitSettings;
import org.mailpolicy.parking.ParkedSummary;
import org.mailpolicy.mtasts.MtaStsCache;
import org.mailpolicy.schedule.AttemptHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * A drop-in replacement for James's {@code RemoteDelivery} that delivers by the operator's delivery
 * policy: per-destination retry schedules, holds on throttling, per-recipient outcomes and
 * human-readable reports. Takes RemoteDelivery's parameters (gateway, gatewayPort, timeout,
 * connectiontimeout, startTLS, sslEnable, heloName, outgoing, bounceProcessor, onSuccess, bind,
 * {@code mail.*}, ...) plus:
 * <ul>
 *   <li>{@code policy}: the policy YAML, absolute or relative to James's working directory, optionally {@code file://};</li>
 *   <li>{@code deliveryThreads}: parallel deliveries (default 4).</li>
 * </ul>
 * RemoteDelivery's {@code maxRetries}, {@code delayTime} and {@code sendpartial} are ignored: the
 * policy decides retries, and every recipient's reply is always read.
 */
public class PolicyRemoteDelivery extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyRemoteDelivery.class);

    public static final String POLICY = "policy";
    public static final String DELIVERY_THREADS = "deliveryThreads";
    public static final String DEFAULT_BOUNCE_PROCESSOR = "bounces";
    public static final int DEFAULT_DELIVERY_THREADS = 4;
    static final String NAME_JUNCTION = "-to-";

    /** Whether init starts the delivery threads; tests drive {@link #deliverOne} themselves. */
    public enum ThreadState { START_THREADS, DO_NOT_START_THREADS }

    private final DNSService dns;
    private final DomainList domainList;
    private final MailQueueFactory<?> queueFactory;
    private final MetricFactory metricFactory;
    private final GaugeRegistry gaugeRegistry;
    private final ThreadState threadState;
    /** Where parked mail's content goes ({@code waits: in: parked}); null from the test constructors without one. */
    private final MailRepositoryStore repositories;

    private RemoteDeliveryConfiguration configuration;
    private PolicyRuntime runtime;
    private MailQueue queue;
    private DeliveryProcessor processor;
    private String bounceProcessor;
    private Disposable dequeuing;
    private Scheduler deliveryScheduler;
    private Scheduler dequeueScheduler;
    private DeliveryAttempt attemptForTesting;
    private AdmissionGate gate;
    /** Idle SMTP connections kept for the next mail; closed (QUIT) when the mailet is destroyed. */
    private SmtpConnectionCache connections;
    /** With {@code waits: in: parked}: the schedule of waiting mail and the thread that releases it. */
    private ParkingLot parking;
    private ParkedMailReleaser releaser;

    @Inject
    public PolicyRemoteDelivery(DNSService dns, DomainList domainList, MailQueueFactory<?> queueFactory,
                                MetricFactory metricFactory, GaugeRegistry gaugeRegistry,
                                MailRepositoryStore repositories) {
        this(dns, domainList, queueFactory, metricFactory, gaugeRegistry, repositories, ThreadState.START_THREADS);
    }

    /** Without gauges; tests. */
    public PolicyRemoteDelivery(DNSService dns, DomainList domainList, MailQueueFactory<?> queueFactory,
                                MetricFactory metricFactory, ThreadState threadState) {
        this(dns, domainList, queueFactory, metricFactory, new NoopGaugeRegistry(), threadState);
    }

    public PolicyRemoteDelivery(DNSService dns, DomainList domainList, MailQueueFactory<?> queueFactory,
                                MetricFactory metricFactory, GaugeRegistry gaugeRegistry, ThreadState threadState) {
        this(dns, domainList, queueFactory, metricFactory, gaugeRegistry, null, threadState);
    }

    public PolicyRemoteDelivery(DNSService dns, DomainList domainList, MailQueueFactory<?> queueFactory,
                                MetricFactory metricFactory, GaugeRegistry gaugeRegistry,
                                MailRepositoryStore repositories, ThreadState threadState) {
        this.repositories = repositories;
        this.dns = Preconditions.checkNotNull(dns, "dns");
        this.domainList = domainList;
        this.queueFactory = Preconditions.checkNotNull(queueFactory, "queueFactory");
        this.metricFactory = Preconditions.checkNotNull(metricFactory, "metricFactory");
        this.gaugeRegistry = Preconditions.checkNotNull(gaugeRegistry, "gaugeRegistry");
        this.threadState = threadState;
    }

    /** Replaces the SMTP attempt before init; tests script the remote side with it. */
    /** Destinations the admission gate holds slots or waiters for (none once every attempt is over). */
    @VisibleForTesting
    int admissionGateKeys() {
        return gate.keys();
    }

    @VisibleForTesting
    void useAttemptForTesting(DeliveryAttempt attempt) {
        this.attemptForTesting = attempt;
    }

    @Override
    public void init() throws MessagingException {
        configuration = new RemoteDeliveryConfiguration(getMailetConfig(), domainList);
        String policyLocation = getInitParameter(POLICY);
        if (policyLocation == null || policyLocation.trim().isEmpty()) {
            throw new MessagingException("mailet " + getMailetName() + ": parameter '" + POLICY
                    + "' is required: the path of the delivery policy YAML");
        }
        runtime = PolicyRuntime.forPolicyFile(policyLocation);
        int threads = deliveryThreads();
        bounceProcessor = configuration.getBounceProcessor().map(ProcessingState::getValue).orElse(DEFAULT_BOUNCE_PROCESSOR);
        queue = queueFactory.createQueue(configuration.getOutGoingQueueName());
        DeliveryMetrics metrics = DeliveryMetrics.of(metricFactory);
        connections = SmtpConnectionCache.withReaper(Optional.of(metrics));
        DeliveryAttempt attempts = attemptForTesting != null
                ? attemptForTesting : AttemptRunner.fromConfiguration(configuration, getMailetContext(), connections,
                        runtime.plaintextFallbacks());
        PaceGauges.register(gaugeRegistry, runtime.policy().destinations(), runtime.destinations(), runtime.clock());
        DirectoryOutageGauges.register(gaugeRegistry, runtime.policy().destinations(), runtime.directoryOutages(),
                runtime.clock());
        parking = parkingLot(runtime.policy().waits());
        OutcomeDispatcher dispatcher = new OutcomeDispatcher(queue, getMailetContext(), bounceProcessor,
                configuration.getOnSuccess().map(ProcessingState::getValue),
                configuration.getHeloNameProvider().getHeloName(), runtime.suppressions(), runtime.sentMessages(),
                metrics, Optional.ofNullable(parking));
        TargetResolver targets = new TargetResolver(runtime.policy(), dns, configuration.getGatewayServer(),
                configuration.isLoadBalancing(), configuration.isSSLEnable(),
                Optional.of(new MtaStsLookup(dns, new MtaStsCache(runtime.clock()))));
        // Waiting for a slot in the delivery thread only makes sense when other threads give slots back.
        gate = threadState == ThreadState.START_THREADS
                ? new AdmissionGate(runtime.clock(), AdmissionGate.DEFAULT_MAX_WAIT, Math.max(1, threads / 2))
                : AdmissionGate.noWait(runtime.clock());
        processor = new DeliveryProcessor(runtime, targets, attempts, dispatcher, metrics, gate);
        if (threadState == ThreadState.START_THREADS) {
            start(threads);
            if (parking != null) {
                releaser = ParkedMailReleaser.start(parking, ParkedMailReleaser.DEFAULT_EVERY);
            }
        }
        LOGGER.info("PolicyRemoteDelivery ready: policy {}, queue {}, {} delivery threads, reports to processor {}, {}",
                policyLocation, configuration.getOutGoingQueueName().asString(), threads, bounceProcessor,
                runtime.policy().waits());
    }

    /**
     * The parked-mail schedule when the policy parks waits; else null, with a warning where that is
     * likely wrong: a queue that ignores delays (RabbitMQ, James's distributed server), or mail still
     * parked from when the policy parked waits (it stays parked until the policy parks waits again).
     */
    private ParkingLot parkingLot(WaitSettings waits) throws MessagingException {
        if (!waits.isParked()) {
            if (queue.getClass().getName().contains("RabbitMQ")) {
                LOGGER.warn("mailet {}: outgoing queue {} is {}, which ignores enqueue delays: retries and holds will "
                        + "churn through it; set 'waits: {{in: parked, repository: ...}}' in the delivery policy",
                        getMailetName(), configuration.getOutGoingQueueName().asString(), queue.getClass().getName());
            }
            long stillParked = 0;
            for (ParkedSummary s : runtime.parked().summaries(runtime.clock().instant())) {
                stillParked += s.parked() + s.released();
            }
            if (stillParked > 0) {
                LOGGER.warn("mailet {}: {} mails are parked from when the policy parked waits; they are released only "
                        + "with 'waits: in: parked' (see GET /delivery-policy/parked)", getMailetName(), stillParked);
            }
            return null;
        }
        String url = waits.repository().get();
        if (repositories == null) {
            throw new MessagingException("mailet " + getMailetName() + ": the policy parks waits in " + url
                    + " but this mailet was built without James's mail repositories");
        }
        MailRepository repository;
        try {
            repository = repositories.select(MailRepositoryUrl.from(url));
        } catch (Exception e) {
            throw new MessagingException("mailet " + getMailetName() + ": delivery policy waits.repository: cannot open '"
                    + url + "': " + e.getMessage(), e);
        }
        ParkingLot lot = new ParkingLot(runtime.parked(), repository, url, queue, runtime.policy(), runtime.destinations(),
                runtime.clock(), metricFactory);
        ParkedGauges.register(gaugeRegistry, runtime.policy(), lot::lastSummaries);
        return lot;
    }

    private int deliveryThreads() throws MessagingException {
        String text = getInitParameter(DELIVERY_THREADS);
        if (text == null || text.trim().isEmpty()) {
            return DEFAULT_DELIVERY_THREADS;
        }
        try {
            int n = Integer.parseInt(text.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new MessagingException("mailet " + getMailetName() + ": parameter '" + DELIVERY_THREADS
                + "' must be a whole number of at least 1, got '" + text + "'");
    }

    private void start(int threads) {
        deliveryScheduler = Schedulers.newBoundedElastic(threads, Integer.MAX_VALUE, "PolicyRemoteDelivery");
        dequeueScheduler = Schedulers.newSingle("PolicyRemoteDelivery-Dequeue");
        dequeuing = Flux.defer(() -> Flux.from(queue.deQueue()))
                .flatMap(item -> Mono.fromRunnable(() -> deliverOne(item)).subscribeOn(deliveryScheduler), threads)
                .onErrorContinue((e, item) -> LOGGER.error("Unexpected error in the delivery loop", e))
                // The queue's stream itself may fail or end (a queue backend hiccup, a queue closed under
                // us): subscribe again instead of silently delivering nothing until James restarts.
                // destroy() cancels the whole chain, which stops these resubscriptions too.
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofSeconds(1)).maxBackoff(Duration.ofMinutes(1))
                        .doBeforeRetry(signal -> LOGGER.warn("Outgoing queue stream failed; subscribing again (retry {})",
                                signal.totalRetries() + 1, signal.failure())))
                .repeatWhen(completed -> completed.doOnNext(n -> LOGGER.warn("Outgoing queue stream ended; subscribing again"))
                        .delayElements(Duration.ofSeconds(1)))
                .subscribeOn(dequeueScheduler)
                .subscribe();
    }

    /**
     * Delivers one queue item and acknowledges it only once every follow-up is stored; on any
     * failure the queue gets it back to redeliver, so no recipient is lost.
     */
    @VisibleForTesting
    void deliverOne(MailQueue.MailQueueItem item) {
        Mail mail = item.getMail();
        try {
            if (parking != null && !parking.take(mail)) {
                // An older release of a parked mail, released again since: the current copy delivers it.
                item.done(MailQueue.MailQueueItem.CompletionStatus.SUCCESS);
                return;
            }
            processor.process(mail);
            if (parking != null) {
                // After the follow-ups (retries parked anew, reports) are stored, before the acknowledgement:
                // a crash in between redelivers this copy, which is still the current release and is taken again.
                parking.finished(mail);
            }
            item.done(MailQueue.MailQueueItem.CompletionStatus.SUCCESS);
        } catch (Exception e) {
            LOGGER.error("Delivery of mail {} failed unexpectedly; the queue will redeliver it", mail.getName(), e);
            try {
                item.done(MailQueue.MailQueueItem.CompletionStatus.RETRY);
            } catch (Exception again) {
                LOGGER.error("Could not give mail {} back to the queue", mail.getName(), again);
            }
        } finally {
            LifecycleUtil.dispose(mail);
        }
    }

    /** Splits the mail by recipient domain onto the outgoing queue, each part with a fresh history. */
    @Override
    public void service(Mail mail) throws MessagingException {
        Collection<MailAddress> recipients = mail.getRecipients();
        if (recipients.isEmpty()) {
            LOGGER.debug("Mail {} has no recipients to deliver remotely", mail.getName());
            mail.setState(Mail.GHOST);
            return;
        }
        Map<Domain, List<MailAddress>> byDomain = RecipientDomains.byDomain(recipients);
        Instant now = runtime.clock().instant();
        for (Map.Entry<Domain, List<MailAddress>> e : byDomain.entrySet()) {
            Mail part = mail.duplicate();
            try {
                part.setName(mail.getName() + NAME_JUNCTION + e.getKey().asString());
                part.setRecipients(ImmutableList.copyOf(e.getValue()));
                part.setAttribute(HistoryAttribute.of(AttemptHistory.start(part.getName(), now)));
                // Due now: without a delay (see OutcomeDispatcher.enqueue), so a JMS queue hands it out at once.
                queue.enQueue(part);
            } finally {
                LifecycleUtil.dispose(part);
            }
        }
        mail.setState(Mail.GHOST);
    }

    @Override
    public void destroy() {
        if (releaser != null) {
            releaser.close();
        }
        if (dequeuing != null) {
            dequeuing.dispose();
        }
        if (dequeueScheduler != null) {
            dequeueScheduler.dispose();
        }
        if (deliveryScheduler != null) {
            deliveryScheduler.disposeGracefully().timeout(Duration.ofSeconds(5)).onErrorResume(e -> Mono.empty()).block();
        }
        if (connections != null) {
            connections.close();
        }
        if (queue != null) {
            try {
                queue.close();
            } catch (IOException e) {
                LOGGER.debug("Error closing the outgoing queue", e);
            }
        }
    }

    @Override
    public Collection<ProcessingState> requiredProcessingState() {
        List<ProcessingState> required = new ArrayList<>();
        required.add(new ProcessingState(bounceProcessor == null ? DEFAULT_BOUNCE_PROCESSOR : bounceProcessor));
        if (configuration != null) {
            configuration.getOnSuccess().ifPresent(required::add);
        }
        return required;
    }

    @Override
    public String getMailetInfo() {
        return "PolicyRemoteDelivery: delivery by per-destination policy";
    }

    /** The parked-mail schedule, present when the policy parks waits; tests run its releaser's rounds themselves. */
    @VisibleForTesting
    Optional<ParkingLot> parking() {
        return Optional.ofNullable(parking);
    }

    @VisibleForTesting
    Optional<PolicyRuntime> runtime() {
        return Optional.ofNullable(runtime);
    }
}
