package org.mailpolicy.james.webadmin.dto;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionExpiry;

/** One suppression list entry as {@code /delivery-policy/suppressions} writes it, with its expiry at an instant. */
@JsonPropertyOrder({"address", "domain", "since", "reason", "reply", "rule", "source", "messageId", "confirmations",
        "lastConfirmed", "expiresAt", "expired"})
public final class SuppressionEntryDto {
    private final SuppressionEntry entry;
    private final Optional<Instant> expiresAt;
    private final boolean expired;

    private SuppressionEntryDto(SuppressionEntry entry, Optional<Instant> expiresAt, boolean expired) {
        this.entry = entry;
        this.expiresAt = expiresAt;
        this.expired = expired;
    }

    /** @param expiry the policy's, to tell whether the entry still suppresses at {@code now} */
    public static SuppressionEntryDto from(SuppressionEntry entry, SuppressionExpiry expiry, Instant now) {
        Preconditions.checkNotNull(entry, "entry");
        return new SuppressionEntryDto(entry, expiry.expiresAt(entry), expiry.isExpired(entry, now));
    }

    public String getAddress() {
        return entry.address();
    }

    public String getDomain() {
        return entry.domain();
    }

    public String getSince() {
        return entry.since().toString();
    }

    public String getReason() {
        return entry.reason();
    }

    public String getReply() {
        return entry.reply();
    }

    public String getRule() {
        return entry.ruleId();
    }

    public String getSource() {
        return entry.source().name().toLowerCase(Locale.ROOT);
    }

    /** Null when the entry names no message. */
    public String getMessageId() {
        return entry.messageId().orElse(null);
    }

    /** How many times the address was found suppressible (1 when added). */
    public int getConfirmations() {
        return entry.confirmations();
    }

    public String getLastConfirmed() {
        return entry.lastConfirmed().toString();
    }

    /** When the entry stops suppressing (its reason's expiry after the last confirmation); null: never. */
    public String getExpiresAt() {
        return expiresAt.map(Instant::toString).orElse(null);
    }

    /** An expired entry is kept, but delivery goes to the address again. */
    public boolean isExpired() {
        return expired;
    }
}
