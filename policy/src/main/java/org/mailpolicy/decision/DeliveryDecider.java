package org.mailpolicy.decision;

import com.google.common.base.Preconditions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.schedule.AttemptHistory;
import org.mailpolicy.schedule.DeliverySchedule;
import org.mailpolicy.state.DestinationState;

/**
 * Decides, from one attempt's classified outcome, what happens to each recipient. Pure: the same
 * inputs and clock give the same decisions, so it is tested without a server.
 *
 * <ul>
 *   <li>delivered: never tried again;</li>
 *   <li>suppress and bounce: final, whatever the message's age;</li>
 *   <li>retry and throttle at or past the destination's maximum age: {@link RecipientDecision.Expired};</li>
 *   <li>throttle that holds: the destination is held (the state store has already grown the hold;
 *       the caller passes the state it returned) and the recipient waits until the hold ends, or the
 *       rule's hold hint, whichever is later;</li>
 *   <li>throttle that only slows or lowers the connections: the recipient goes again as soon as
 *       the destination's lowered pace lets it (the admission paces it), not on its schedule;</li>
 *   <li>retry: the next attempt from the destination's schedule, no sooner than the rule's retry hint.</li>
 * </ul>
 * Re-queued recipients never wait beyond expiry: the last attempt happens at the expiry instant.
 */
public final class DeliveryDecider {
    private DeliveryDecider() {
    }

    /**
     * @param policy  the destination the attempt went to
     * @param history the message's history before this attempt
     * @param outcome every recipient of the attempt, delivered or failed with its classification
     * @param state   the destination's state after the attempt was recorded (its hold), if known
     * @param clock   the attempt's time
     */
    public static AttemptDecision decide(DestinationPolicy policy, AttemptHistory history, AttemptOutcome outcome,
                                         Optional<DestinationState> state, Clock clock) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(history, "history");
        Preconditions.checkNotNull(outcome, "outcome");
        Preconditions.checkNotNull(state, "state");
        Preconditions.checkNotNull(clock, "clock");
        Instant now = clock.instant();
        boolean expired = DeliverySchedule.isExpired(policy, history, clock);
        AttemptHistory next = outcome.anyFailed() ? history.withFailedAttempt(now) : history;

        Map<String, RecipientDecision> decisions = new LinkedHashMap<>();
        boolean anyRequeued = false;
        for (String recipient : outcome.recipients()) {
            Optional<Classification> failure = outcome.failure(recipient);
            RecipientDecision d = failure.isPresent()
                    ? decideFailure(policy, next, failure.get(), expired, state, clock)
                    : RecipientDecision.delivered();
            anyRequeued |= d.willRetry();
            decisions.put(recipient, d);
        }
        boolean warn = anyRequeued && DeliverySchedule.delayWarningDue(policy, history, clock);
        return AttemptDecision.of(decisions, next, warn, DeliverySchedule.expiresAt(policy, history));
    }

    private static RecipientDecision decideFailure(DestinationPolicy policy, AttemptHistory next, Classification c,
                                                   boolean expired, Optional<DestinationState> state, Clock clock) {
        switch (c.action()) {
            case SUPPRESS:
                return RecipientDecision.suppress(c);
            case BOUNCE:
                return RecipientDecision.bounce(c);
            case THROTTLE:
                if (expired) {
                    return RecipientDecision.expired(c);
                }
                if (!c.throttleEffect().get().holds()) {
                    // The destination only sends more slowly or over fewer connections from now on:
                    // the message goes again as soon as the lowered pace lets it, not on its own schedule.
                    return RecipientDecision.holdDestination(soon(policy, next, state, clock.instant()), c);
                }
                return RecipientDecision.holdDestination(
                        DeliverySchedule.nextAttempt(policy, next, Optional.of(holdLength(policy, c, state, clock)), clock), c);
            case RETRY:
                if (expired) {
                    return RecipientDecision.expired(c);
                }
                return RecipientDecision.retryAt(DeliverySchedule.nextAttempt(policy, next, c.retryHint(), clock), c);
            default:
                throw new IllegalStateException("unknown action " + c.action());
        }
    }

    /** The end of the pause a pacing signal started (now if none), never past the message's expiry. */
    private static Instant soon(DestinationPolicy policy, AttemptHistory history, Optional<DestinationState> state,
                                Instant now) {
        Instant at = state.flatMap(DestinationState::heldUntil).filter(now::isBefore).orElse(now);
        Instant expiry = DeliverySchedule.expiresAt(policy, history);
        return at.isAfter(expiry) ? expiry : at;
    }

    /** How long from now the destination stays held: the store's hold, else the policy's first hold; at least the rule's hint. */
    private static Duration holdLength(DestinationPolicy policy, Classification c, Optional<DestinationState> state,
                                       Clock clock) {
        Instant now = clock.instant();
        Duration hold = state.flatMap(DestinationState::heldUntil)
                .filter(until -> until.isAfter(now))
                .map(until -> Duration.between(now, until))
                .orElse(policy.throttleHold().initial());
        if (c.holdHint().isPresent() && c.holdHint().get().compareTo(hold) > 0) {
            hold = c.holdHint().get();
        }
        return hold;
    }
}
