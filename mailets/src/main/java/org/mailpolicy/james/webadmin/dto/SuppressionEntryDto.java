package org.mailpolicy.james.webadmin.dto;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import java.util.Locale;
import org.mailpolicy.suppression.SuppressionEntry;

/** One suppression list entry as {@code /delivery-policy/suppressions} writes it. */
@JsonPropertyOrder({"address", "domain", "since", "reason", "reply", "rule", "source", "messageId"})
public final class SuppressionEntryDto {
    private final SuppressionEntry entry;

    private SuppressionEntryDto(SuppressionEntry entry) {
        this.entry = entry;
    }

    public static SuppressionEntryDto from(SuppressionEntry entry) {
        return new SuppressionEntryDto(Preconditions.checkNotNull(entry, "entry"));
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
}
