package org.mailpolicy.report;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The content of one DSN: the per-message fields and one report per recipient. Travels from the
 * delivery mailet to the DSN mailet as JSON ({@link #toJson()}, {@link #fromJson(String)}).
 */
public final class DeliveryReport {
    private final String reportingMta;
    private final Instant arrivalDate;
    private final String envelopeId;
    private final String originalMessageId;
    private final ImmutableList<RecipientReport> recipients;

    private DeliveryReport(String reportingMta, Instant arrivalDate, String envelopeId, String originalMessageId,
                           List<RecipientReport> recipients) {
        this.reportingMta = reportingMta;
        this.arrivalDate = arrivalDate;
        this.envelopeId = envelopeId;
        this.originalMessageId = originalMessageId;
        this.recipients = ImmutableList.copyOf(recipients);
    }

    public static DeliveryReport of(String reportingMta, Optional<Instant> arrivalDate, Optional<String> envelopeId,
                                    Optional<String> originalMessageId, List<RecipientReport> recipients) {
        Preconditions.checkArgument(reportingMta != null && !reportingMta.trim().isEmpty(), "reportingMta must not be empty");
        Preconditions.checkNotNull(arrivalDate, "arrivalDate");
        Preconditions.checkNotNull(envelopeId, "envelopeId");
        Preconditions.checkNotNull(originalMessageId, "originalMessageId");
        Preconditions.checkArgument(recipients != null && !recipients.isEmpty(), "a report needs at least one recipient");
        return new DeliveryReport(reportingMta.trim(), arrivalDate.orElse(null), envelopeId.orElse(null),
                originalMessageId.orElse(null), recipients);
    }

    /** This server's name, for {@code Reporting-MTA: dns; ...}. */
    public String reportingMta() {
        return reportingMta;
    }

    public Optional<Instant> arrivalDate() {
        return Optional.ofNullable(arrivalDate);
    }

    /** The ENVID the client gave. */
    public Optional<String> envelopeId() {
        return Optional.ofNullable(envelopeId);
    }

    public Optional<String> originalMessageId() {
        return Optional.ofNullable(originalMessageId);
    }

    public List<RecipientReport> recipients() {
        return recipients;
    }

    /** A compact JSON form; {@link #fromJson} reads it back equal. */
    public String toJson() {
        return ReportJson.write(this);
    }

    /**
     * Reads {@link #toJson()}'s form.
     *
     * @throws IllegalArgumentException naming the field or position when the text is not a valid report
     */
    public static DeliveryReport fromJson(String json) {
        return ReportJson.read(json);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DeliveryReport)) {
            return false;
        }
        DeliveryReport that = (DeliveryReport) o;
        return reportingMta.equals(that.reportingMta) && Objects.equals(arrivalDate, that.arrivalDate)
                && Objects.equals(envelopeId, that.envelopeId) && Objects.equals(originalMessageId, that.originalMessageId)
                && recipients.equals(that.recipients);
    }

    @Override
    public int hashCode() {
        return Objects.hash(reportingMta, arrivalDate, envelopeId, originalMessageId, recipients);
    }

    @Override
    public String toString() {
        return "DeliveryReport{" + reportingMta + ", " + recipients + "}";
    }
}
