package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.mail.MessagingException;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.mailpolicy.decision.AttemptDecision;
import org.mailpolicy.decision.AttemptOutcome;
import org.mailpolicy.decision.DeliveryDecider;
import org.mailpolicy.decision.RecipientDecision;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.metrics.DeliveryMetrics;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.schedule.AttemptHistory;
import org.mailpolicy.schedule.DeliverySchedule;
import org.mailpolicy.state.Admission;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles one dequeued mail (all its recipients in one domain): asks the destination state for
 * admission, attempts delivery, classifies every reply, decides per recipient and dispatches the
 * decisions. Returns normally only when every follow-up is stored; the caller then acknowledges.
 */
final class DeliveryProcessor {
    private static final Logger LOGGER = LoggerFactory.getLogger(DeliveryProcessor.class);

    private final PolicyRuntime runtime;
    private final TargetResolver targets;
    private final DeliveryAttempt attempts;
    private final OutcomeDispatcher dispatcher;
    private final DeliveryMetrics metrics;
    private final AdmissionGate gate;
    private final DirectoryOutageResponse directoryOutages;

    DeliveryProcessor(PolicyRuntime runtime, TargetResolver targets, DeliveryAttempt attempts,
                      OutcomeDispatcher dispatcher, DeliveryMetrics metrics, AdmissionGate gate) {
        this.runtime = Preconditions.checkNotNull(runtime, "runtime");
        this.targets = Preconditions.checkNotNull(targets, "targets");
        this.attempts = Preconditions.checkNotNull(attempts, "attempts");
        this.dispatcher = Preconditions.checkNotNull(dispatcher, "dispatcher");
        this.metrics = Preconditions.checkNotNull(metrics, "metrics");
        this.gate = Preconditions.checkNotNull(gate, "gate");
        this.directoryOutages = new DirectoryOutageResponse(runtime.directoryOutages(), runtime.suppressions(), metrics);
    }

    void process(Mail mail) throws MessagingException {
        List<MailAddress> recipients = new ArrayList<>(mail.getRecipients());
        if (recipients.isEmpty()) {
            LOGGER.info("delivery mail={} has no recipients left; nothing to do", mail.getName());
            return;
        }
        Instant now = runtime.clock().instant();
        AttemptHistory history = history(mail, now);
        Map<Domain, List<MailAddress>> byDomain = RecipientDomains.byDomain(recipients);
        if (byDomain.size() > 1) {
            // Queued by something else (stock RemoteDelivery with a gateway, an upgrade): one domain per attempt.
            for (List<MailAddress> part : byDomain.values()) {
                dispatcher.requeue(mail, DestinationKey.of(part.get(0).getDomain().asString()), part, history, now, now,
                        "one mail per recipient domain");
            }
            LOGGER.info("delivery mail={} split into {} mails, one per recipient domain", mail.getName(), byDomain.size());
            return;
        }
        TargetResolver.Target target = targets.resolve(recipients.get(0).getDomain());
        DestinationPolicy destination = target.destination();
        // State (holds, probe, limits) and logs go by the key: aol, or example.org under the default.
        // Metrics go by the policy's name, so that their number stays bounded whatever the domains.
        DestinationKey key = target.key();
        DestinationStateStore states = runtime.destinations();

        Admission admission = admit(mail, states, key, destination);
        if (!admission.isGranted()) {
            Instant refusedAt = runtime.clock().instant();
            Instant expiry = DeliverySchedule.expiresAt(destination, history);
            if (!refusedAt.isBefore(expiry)) {
                expireWithoutAttempt(mail, recipients, key, destination, history, admission);
                return;
            }
            // Never past the maximum age: a mail waiting out a long hold still gets its final answer on time.
            Instant until = earliest(admission.notBefore().get(), expiry);
            LOGGER.info("delivery mail={} destination={} recipients={} action=wait until={} because={}",
                    mail.getName(), key, recipients.size(), until, admission.reason());
            metrics.waited(destination.name());
            dispatcher.postpone(mail, key, history, until, refusedAt, admission.reason());
            return;
        }
        DeliveryMetrics.Attempt timing = metrics.attemptStarted(destination.name());
        try {
            AttemptResult result = target.failure().isPresent()
                    ? AttemptResult.failed(recipients, target.failure().get(), Optional.empty())
                    : attempts.attempt(mail, recipients, target.hosts(), ConnectionTerms.of(key.asString(),
                            destination.name(), destination.connections(), admission.connections()).withTls(target.tls()));
            timing.stop();
            Instant after = runtime.clock().instant();
            AttemptOutcome outcome = directoryOutages.review(key, destination,
                    classify(result, runtime.classifierFor(destination)), after, DirectoryOutageResponse.Source.LIVE_REPLY);
            Optional<DestinationState> state = recordOrWarn(states, key, destination, result, outcome, after);
            AttemptDecision decision = DeliveryDecider.decide(destination, history, outcome, state, runtime.clock());
            log(mail, key, destination, result, outcome, decision);
            dispatcher.dispatch(mail, key, destination, result, decision, after);
        } finally {
            timing.stop();
            try {
                states.finished(key, runtime.clock().instant());
            } catch (RuntimeException e) {
                // The attempt is over and its mail dispatched: failing now would have the queue deliver it again.
                LOGGER.warn("delivery mail={} destination={}: the attempt's end could not be recorded ({}); the store "
                        + "catches up on its own", mail.getName(), key, e.toString());
            } finally {
                gate.released(key.asString());
            }
        }
    }

    /**
     * The destination's state after the attempt, or empty when the store could not record it (a shared
     * database away): the recipients' outcomes are decided and the mail dispatched without it, because an
     * exception here would leave the mail to the queue, which would send it again to recipients that already
     * have it. The destination's hold or pace then waits for the next attempt that can be recorded.
     */
    private Optional<DestinationState> recordOrWarn(DestinationStateStore states, DestinationKey key,
                                                    DestinationPolicy destination, AttemptResult result,
                                                    AttemptOutcome outcome, Instant now) {
        try {
            return Optional.of(record(states, key, destination, result, outcome, now));
        } catch (RuntimeException e) {
            LOGGER.warn("delivery destination={}: the attempt's outcome could not be recorded in the destination "
                    + "state ({}); the recipients' outcomes are applied without it", key, e.toString());
            return Optional.empty();
        }
    }

    /**
     * The mail reached its maximum age while its destination kept refusing admission (held, busy): no attempt is
     * made, and every recipient gets the final expired outcome, with why the mail could not go as the last reply.
     */
    private void expireWithoutAttempt(Mail mail, List<MailAddress> recipients, DestinationKey key,
                                      DestinationPolicy destination, AttemptHistory history, Admission admission)
            throws MessagingException {
        SmtpReply why = SmtpReply.parse("not attempted: " + admission.reason(), Stage.CONNECT);
        AttemptResult result = AttemptResult.failed(recipients, why, Optional.empty());
        AttemptOutcome outcome = classify(result, runtime.classifierFor(destination));
        Instant now = runtime.clock().instant();
        AttemptDecision decision = DeliveryDecider.decide(destination, history, outcome, stateOf(key), runtime.clock());
        log(mail, key, destination, result, outcome, decision);
        dispatcher.dispatch(mail, key, destination, result, decision, now);
    }

    private Optional<DestinationState> stateOf(DestinationKey key) {
        return runtime.destinations().get(key);
    }

    private static Instant earliest(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /**
     * Admission, waiting in this thread while a slot or the rate limit's next opening is near ({@link AdmissionGate}).
     * The mail's place in the destination's line travels with it ({@link ReservationAttribute}): a refusal that gives
     * it one records it on the mail, a grant uses it up.
     */
    private Admission admit(Mail mail, DestinationStateStore states, DestinationKey key, DestinationPolicy destination)
            throws MessagingException {
        AtomicReference<Optional<Instant>> place = new AtomicReference<>(ReservationAttribute.read(mail, key));
        try {
            Admission admission = gate.admit(key.asString(), destination.concurrency(), () -> {
                Admission a = states.admit(key, destination, place.get(), runtime.clock().instant());
                if (a.isReservation()) {
                    place.set(a.notBefore());
                }
                return a;
            });
            if (admission.isGranted()) {
                mail.removeAttribute(ReservationAttribute.NAME);
            } else if (place.get().isPresent()) {
                mail.setAttribute(ReservationAttribute.of(key, place.get().get()));
            }
            return admission;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // Not acknowledged: the queue gives the mail back, nothing was attempted.
            throw new MessagingException("interrupted while waiting for a delivery slot to " + key.asString(), e);
        }
    }

    /** An unreadable history must not make the mail undeliverable (redelivered forever): it starts again, loudly. */
    private static AttemptHistory history(Mail mail, Instant now) {
        try {
            return HistoryAttribute.read(mail, now);
        } catch (IllegalArgumentException e) {
            LOGGER.warn("delivery mail={} has an unreadable history; starting a new one: {}", mail.getName(), e.getMessage());
            return AttemptHistory.start(mail.getName(), now);
        }
    }

    /** Classifies each distinct reply once: a greeting refusal shared by 50 recipients is one classification. */
    static AttemptOutcome classify(AttemptResult result, ReplyClassifier classifier) {
        Map<SmtpReply, Classification> seen = new IdentityHashMap<>();
        AttemptOutcome.Builder b = AttemptOutcome.builder();
        for (MailAddress r : result.recipients()) {
            Optional<SmtpReply> reply = result.replyFor(r);
            if (reply.isPresent()) {
                b.failed(r.asString(), seen.computeIfAbsent(reply.get(), classifier::classify));
            } else {
                b.delivered(r.asString());
            }
        }
        return b.build();
    }

    /** A throttle anywhere in the attempt acts on the destination as its effect says; else any delivery is a success. */
    private DestinationState record(DestinationStateStore states, DestinationKey key, DestinationPolicy destination,
                                    AttemptResult result, AttemptOutcome outcome, Instant now) {
        Classification firstFailure = null;
        for (String r : outcome.recipients()) {
            Optional<Classification> c = outcome.failure(r);
            if (c.isPresent() && c.get().action() == Action.THROTTLE) {
                DestinationState state = states.recordThrottle(key, destination, c.get().throttleEffect().get(),
                        c.get().reply().raw(), c.get().holdHint(), now);
                // Started by this throttle: the stores keep instants to the millisecond (H2's file, and the
                // single-node store to match it), so an equality with now's nanoseconds never held and no hold was counted.
                Instant thisMillisecond = now.truncatedTo(ChronoUnit.MILLIS);
                if (state.holdStartedAt().filter(t -> !t.isBefore(thisMillisecond)).isPresent() && state.isHeldAt(now)) {
                    metrics.holdStarted(destination.name());
                }
                return state;
            }
            if (c.isPresent() && firstFailure == null) {
                firstFailure = c.get();
            }
        }
        if (!result.delivered().isEmpty()) {
            return states.recordSuccess(key, destination, "delivered to " + result.delivered().size() + " recipient(s)", now);
        }
        return states.recordFailure(key, destination, firstFailure.reply().raw(), now);
    }

    /**
     * One structured line per recipient through {@link DeliveryMetrics} (what the reply said), and
     * the decision taken: at debug level, except expiry and holds, which operators want to see.
     */
    private void log(Mail mail, DestinationKey destination, DestinationPolicy policy, AttemptResult result,
                     AttemptOutcome outcome, AttemptDecision decision) {
        String messageId = OutcomeDispatcher.messageId(mail).orElse(null);
        for (String r : outcome.recipients()) {
            RecipientDecision d = decision.decisionFor(r);
            Optional<Classification> c = d.classification();
            if (c.isPresent()) {
                metrics.outcome(messageId, destination.asString(), policy.name(), r, c.get());
            } else {
                metrics.delivered(messageId, destination.asString(), policy.name(), r,
                        "accepted by " + result.remoteHost().orElse("remote server"),
                        result.tls().orElse(TlsUsed.NONE).toString());
            }
            boolean notable = d.kind() == RecipientDecision.Kind.EXPIRED || d.kind() == RecipientDecision.Kind.HOLD;
            if (notable || LOGGER.isDebugEnabled()) {
                String line = "delivery decision mail={} destination={} host={} recipient={} decision={} next={} reason={} rule={}";
                Object[] args = {mail.getName(), destination.asString(), result.remoteHost().orElse("-"), r, d.kind().id(),
                        d.nextAttempt().map(Instant::toString).orElse("-"), d.reason().orElse("-"),
                        c.map(Classification::ruleId).orElse("-")};
                if (notable) {
                    LOGGER.info(line, args);
                } else {
                    LOGGER.debug(line, args);
                }
            }
        }
    }
}
