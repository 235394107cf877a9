package org.mailpolicy.decision;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.rules.Classification;

/**
 * What one delivery attempt produced for each of its recipients, classified: delivered, or failed
 * with the classification of the reply that concerns it (its own RCPT reply, or the reply that
 * ended the whole attempt: greeting, MAIL, DATA, a dropped connection). Every recipient of the
 * attempt appears exactly once. Recipients are addresses as text, in the attempt's order.
 */
public final class AttemptOutcome {
    private final ImmutableMap<String, Optional<Classification>> byRecipient;

    private AttemptOutcome(Map<String, Optional<Classification>> byRecipient) {
        this.byRecipient = ImmutableMap.copyOf(byRecipient);
    }

    /** The attempt failed before any recipient was accepted (or after all were): one reply for all. */
    public static AttemptOutcome wholeAttempt(List<String> recipients, Classification failure) {
        Preconditions.checkNotNull(failure, "failure");
        Builder b = builder();
        for (String r : recipients) {
            b.failed(r, failure);
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Recipients in attempt order. */
    public List<String> recipients() {
        return byRecipient.keySet().asList();
    }

    /** The failure for {@code recipient}; empty when it was delivered. */
    public Optional<Classification> failure(String recipient) {
        Optional<Classification> c = byRecipient.get(recipient);
        Preconditions.checkArgument(c != null, "%s was not a recipient of this attempt", recipient);
        return c;
    }

    public boolean anyFailed() {
        return byRecipient.values().stream().anyMatch(Optional::isPresent);
    }

    public List<String> delivered() {
        ImmutableList.Builder<String> out = ImmutableList.builder();
        byRecipient.forEach((r, c) -> {
            if (!c.isPresent()) {
                out.add(r);
            }
        });
        return out.build();
    }

    @Override
    public String toString() {
        return "AttemptOutcome" + byRecipient;
    }

    /** Collects recipients one at a time; a recipient named twice is a caller bug. */
    public static final class Builder {
        private final Map<String, Optional<Classification>> byRecipient = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder delivered(String recipient) {
            return put(recipient, Optional.empty());
        }

        public Builder failed(String recipient, Classification failure) {
            return put(recipient, Optional.of(Preconditions.checkNotNull(failure, "failure")));
        }

        private Builder put(String recipient, Optional<Classification> c) {
            Preconditions.checkArgument(recipient != null && !recipient.isEmpty(), "recipient must not be empty");
            Preconditions.checkArgument(byRecipient.put(recipient, c) == null, "recipient %s appears twice", recipient);
            return this;
        }

        public AttemptOutcome build() {
            Preconditions.checkState(!byRecipient.isEmpty(), "an attempt has at least one recipient");
            return new AttemptOutcome(byRecipient);
        }
    }
}
