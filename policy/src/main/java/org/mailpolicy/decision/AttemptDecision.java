package org.mailpolicy.decision;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.mailpolicy.schedule.AttemptHistory;

/**
 * The decisions for every recipient of one attempt, the history the recipients that go back on the
 * queue carry, whether the sender is now due a delay warning, and when the message expires.
 */
public final class AttemptDecision {
    private final ImmutableMap<String, RecipientDecision> byRecipient;
    private final AttemptHistory nextHistory;
    private final boolean delayWarningDue;
    private final Instant expiresAt;

    private AttemptDecision(Map<String, RecipientDecision> byRecipient, AttemptHistory nextHistory,
                            boolean delayWarningDue, Instant expiresAt) {
        this.byRecipient = ImmutableMap.copyOf(byRecipient);
        this.nextHistory = Preconditions.checkNotNull(nextHistory, "nextHistory");
        this.delayWarningDue = delayWarningDue;
        this.expiresAt = Preconditions.checkNotNull(expiresAt, "expiresAt");
    }

    static AttemptDecision of(Map<String, RecipientDecision> byRecipient, AttemptHistory nextHistory,
                              boolean delayWarningDue, Instant expiresAt) {
        Preconditions.checkArgument(!byRecipient.isEmpty(), "a decision needs at least one recipient");
        return new AttemptDecision(byRecipient, nextHistory, delayWarningDue, expiresAt);
    }

    /** Every recipient of the attempt, in attempt order, with its decision. */
    public Map<String, RecipientDecision> byRecipient() {
        return byRecipient;
    }

    public RecipientDecision decisionFor(String recipient) {
        RecipientDecision d = byRecipient.get(recipient);
        Preconditions.checkArgument(d != null, "%s was not a recipient of this attempt", recipient);
        return d;
    }

    public List<String> recipientsOf(RecipientDecision.Kind kind) {
        ImmutableList.Builder<String> out = ImmutableList.builder();
        byRecipient.forEach((r, d) -> {
            if (d.kind() == kind) {
                out.add(r);
            }
        });
        return out.build();
    }

    /** Recipients going back on the queue (retry or hold). */
    public List<String> retried() {
        ImmutableList.Builder<String> out = ImmutableList.builder();
        byRecipient.forEach((r, d) -> {
            if (d.willRetry()) {
                out.add(r);
            }
        });
        return out.build();
    }

    /** Recipients whose sender is told of a final failure (bounce, suppress, expired). */
    public List<String> finallyFailed() {
        ImmutableList.Builder<String> out = ImmutableList.builder();
        byRecipient.forEach((r, d) -> {
            if (d.isFinalFailure()) {
                out.add(r);
            }
        });
        return out.build();
    }

    /**
     * The history the re-queued recipients carry: one more failed attempt when anything failed.
     * Not yet marked as warned: the caller marks it when it actually sends the warning.
     */
    public AttemptHistory nextHistory() {
        return nextHistory;
    }

    /** Whether the delay-warning time has passed, no warning was sent yet, and some recipient is re-queued. */
    public boolean delayWarningDue() {
        return delayWarningDue;
    }

    /** When the destination's maximum age is reached: the Will-Retry-Until of a delay warning. */
    public Instant expiresAt() {
        return expiresAt;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof AttemptDecision)) {
            return false;
        }
        AttemptDecision that = (AttemptDecision) o;
        return delayWarningDue == that.delayWarningDue && byRecipient.equals(that.byRecipient)
                && nextHistory.equals(that.nextHistory) && expiresAt.equals(that.expiresAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(byRecipient, nextHistory, delayWarningDue, expiresAt);
    }

    @Override
    public String toString() {
        return "AttemptDecision{" + byRecipient + ", " + nextHistory + (delayWarningDue ? ", delay warning due" : "") + "}";
    }
}
