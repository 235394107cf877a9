package org.mailpolicy.report;

import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.reply.EnhancedStatus;

/** What happened to one recipient of a message: the per-recipient part of a DSN, plus the human words. */
public final class RecipientReport {
    private final String finalRecipient;
    private final String originalRecipient;
    private final DsnAction action;
    private final EnhancedStatus status;
    private final String remoteMta;
    private final String diagnostic;
    private final Instant lastAttempt;
    private final Instant willRetryUntil;
    private final String reason;
    private final String ruleId;
    private final String explanation;
    private final String remedy;

    private RecipientReport(Builder b) {
        this.finalRecipient = b.finalRecipient;
        this.originalRecipient = b.originalRecipient;
        this.action = b.action;
        this.status = b.status;
        this.remoteMta = b.remoteMta;
        this.diagnostic = b.diagnostic;
        this.lastAttempt = b.lastAttempt;
        this.willRetryUntil = b.willRetryUntil;
        this.reason = b.reason;
        this.ruleId = b.ruleId;
        this.explanation = b.explanation;
        this.remedy = b.remedy;
    }

    public static Builder builder(String finalRecipient, DsnAction action, EnhancedStatus status) {
        return new Builder(finalRecipient, action, status);
    }

    public Builder toBuilder() {
        Builder b = new Builder(finalRecipient, action, status);
        b.originalRecipient = originalRecipient;
        b.remoteMta = remoteMta;
        b.diagnostic = diagnostic;
        b.lastAttempt = lastAttempt;
        b.willRetryUntil = willRetryUntil;
        b.reason = reason;
        b.ruleId = ruleId;
        b.explanation = explanation;
        b.remedy = remedy;
        return b;
    }

    /** The address delivery was attempted to ({@code rfc822;} is added when written). */
    public String finalRecipient() {
        return finalRecipient;
    }

    /** The ORCPT the client gave, as received (for example {@code rfc822;bob@example.com}). */
    public Optional<String> originalRecipient() {
        return Optional.ofNullable(originalRecipient);
    }

    public DsnAction action() {
        return action;
    }

    public EnhancedStatus status() {
        return status;
    }

    /** The remote server that answered, a host name or address. */
    public Optional<String> remoteMta() {
        return Optional.ofNullable(remoteMta);
    }

    /** The remote reply as received: untrusted text, sanitise before writing it anywhere. */
    public Optional<String> diagnostic() {
        return Optional.ofNullable(diagnostic);
    }

    public Optional<Instant> lastAttempt() {
        return Optional.ofNullable(lastAttempt);
    }

    /** For {@link DsnAction#DELAYED}: when the server gives up. */
    public Optional<Instant> willRetryUntil() {
        return Optional.ofNullable(willRetryUntil);
    }

    /** The classification's reason, such as {@code userunknown}; empty string when none. */
    public String reason() {
        return reason;
    }

    public String ruleId() {
        return ruleId;
    }

    public String explanation() {
        return explanation;
    }

    public String remedy() {
        return remedy;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RecipientReport)) {
            return false;
        }
        RecipientReport that = (RecipientReport) o;
        return finalRecipient.equals(that.finalRecipient) && Objects.equals(originalRecipient, that.originalRecipient)
                && action == that.action && status.equals(that.status) && Objects.equals(remoteMta, that.remoteMta)
                && Objects.equals(diagnostic, that.diagnostic) && Objects.equals(lastAttempt, that.lastAttempt)
                && Objects.equals(willRetryUntil, that.willRetryUntil) && reason.equals(that.reason)
                && ruleId.equals(that.ruleId) && explanation.equals(that.explanation) && remedy.equals(that.remedy);
    }

    @Override
    public int hashCode() {
        return Objects.hash(finalRecipient, originalRecipient, action, status, remoteMta, diagnostic, lastAttempt,
                willRetryUntil, reason, ruleId, explanation, remedy);
    }

    @Override
    public String toString() {
        return finalRecipient + ": " + action.id() + " " + status + (reason.isEmpty() ? "" : " (" + reason + ")");
    }

    /** Builds a {@link RecipientReport}. */
    public static final class Builder {
        private final String finalRecipient;
        private final DsnAction action;
        private final EnhancedStatus status;
        private String originalRecipient;
        private String remoteMta;
        private String diagnostic;
        private Instant lastAttempt;
        private Instant willRetryUntil;
        private String reason = "";
        private String ruleId = "";
        private String explanation = "";
        private String remedy = "";

        private Builder(String finalRecipient, DsnAction action, EnhancedStatus status) {
            Preconditions.checkArgument(finalRecipient != null && !finalRecipient.trim().isEmpty(),
                    "finalRecipient must not be empty");
            this.finalRecipient = finalRecipient.trim();
            this.action = Preconditions.checkNotNull(action, "action");
            this.status = Preconditions.checkNotNull(status, "status");
        }

        public Builder originalRecipient(String orcpt) {
            this.originalRecipient = orcpt;
            return this;
        }

        public Builder remoteMta(String host) {
            this.remoteMta = host;
            return this;
        }

        public Builder diagnostic(String reply) {
            this.diagnostic = reply;
            return this;
        }

        public Builder lastAttempt(Instant at) {
            this.lastAttempt = at;
            return this;
        }

        public Builder willRetryUntil(Instant until) {
            this.willRetryUntil = until;
            return this;
        }

        public Builder reason(String r) {
            this.reason = Preconditions.checkNotNull(r, "reason");
            return this;
        }

        public Builder ruleId(String id) {
            this.ruleId = Preconditions.checkNotNull(id, "ruleId");
            return this;
        }

        public Builder explanation(String text) {
            this.explanation = Preconditions.checkNotNull(text, "explanation");
            return this;
        }

        public Builder remedy(String text) {
            this.remedy = Preconditions.checkNotNull(text, "remedy");
            return this;
        }

        public RecipientReport build() {
            return new RecipientReport(this);
        }
    }
}
