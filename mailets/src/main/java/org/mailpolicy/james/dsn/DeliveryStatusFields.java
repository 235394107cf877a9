package org.mailpolicy.james.dsn;

import com.google.common.base.Preconditions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import javax.mail.internet.MimeUtility;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;

/**
 * The body of the {@code message/delivery-status} part (RFC 3464 section 2): one group of
 * per-message fields, then one group per recipient, groups separated by an empty line. Each group
 * is written in RFC 3464's order (InternetHeaders would move Status to the end); every value goes
 * through {@link FieldText} first, so a remote reply can never end its field and start one of its
 * own, and long values are folded at spaces with {@link MimeUtility#fold}.
 */
final class DeliveryStatusFields {
    /** RFC 5322 date-time, always in UTC so that tests and operators read the same text. */
    static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    /** Below the 998-octet line limit even unfolded; a real reply is far shorter. */
    static final int MAX_DIAGNOSTIC_CHARS = 900;
    private static final int MAX_HOST_CHARS = 255;
    private static final int MAX_ADDRESS_CHARS = 320;
    private static final int MAX_ENVID_CHARS = 100;

    private DeliveryStatusFields() {
    }

    /**
     * @param envelopeId the client's ENVID, if any
     * @param recipients the recipients to report on (already filtered by their NOTIFY)
     * @param orcpt      the ORCPT of each recipient, as given by the client (e.g. {@code rfc822;bob@example.com})
     */
    static byte[] write(DeliveryReport report, Optional<String> envelopeId, List<RecipientReport> recipients,
                        Function<RecipientReport, Optional<String>> orcpt) {
        Preconditions.checkArgument(!recipients.isEmpty(), "a delivery-status part needs at least one recipient");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> perMessage = new ArrayList<>();
        add(perMessage, "Reporting-MTA", "dns; " + FieldText.ascii(report.reportingMta(), MAX_HOST_CHARS));
        envelopeId.ifPresent(id -> add(perMessage, "Original-Envelope-Id", FieldText.ascii(id, MAX_ENVID_CHARS)));
        report.arrivalDate().ifPresent(at -> add(perMessage, "Arrival-Date", DATE.format(at)));
        writeGroup(perMessage, out);

        for (RecipientReport r : recipients) {
            List<String> perRecipient = new ArrayList<>();
            orcpt.apply(r).ifPresent(o -> add(perRecipient, "Original-Recipient", typedAddress(o)));
            add(perRecipient, "Final-Recipient", "rfc822; " + FieldText.ascii(r.finalRecipient(), MAX_ADDRESS_CHARS));
            add(perRecipient, "Action", r.action().id());
            add(perRecipient, "Status", r.status().toString());
            r.remoteMta().filter(h -> !h.trim().isEmpty())
                    .ifPresent(h -> add(perRecipient, "Remote-MTA", "dns; " + FieldText.ascii(h, MAX_HOST_CHARS)));
            r.diagnostic().filter(d -> !d.trim().isEmpty())
                    .ifPresent(d -> add(perRecipient, "Diagnostic-Code",
                            "smtp; " + FieldText.ascii(d, MAX_DIAGNOSTIC_CHARS)));
            r.lastAttempt().ifPresent(at -> add(perRecipient, "Last-Attempt-Date", DATE.format(at)));
            if (r.action() == DsnAction.DELAYED) {
                r.willRetryUntil().ifPresent(u -> add(perRecipient, "Will-Retry-Until", DATE.format(u)));
            }
            out.write('\r');
            out.write('\n');
            writeGroup(perRecipient, out);
        }
        return out.toByteArray();
    }

    /** ORCPT arrives as {@code addr-type;address}; RFC 3464 writes it with a space after the semicolon. */
    static String typedAddress(String orcpt) {
        String clean = FieldText.ascii(orcpt, MAX_ADDRESS_CHARS + 10);
        int semicolon = clean.indexOf(';');
        if (semicolon <= 0) {
            return "rfc822; " + clean;
        }
        return clean.substring(0, semicolon).trim().toLowerCase(Locale.ROOT) + "; "
                + clean.substring(semicolon + 1).trim();
    }

    private static void add(List<String> group, String name, String safeValue) {
        group.add(name + ": " + MimeUtility.fold(name.length() + 2, safeValue));
    }

    private static void writeGroup(List<String> group, ByteArrayOutputStream out) {
        for (String field : group) {
            byte[] line = field.getBytes(StandardCharsets.US_ASCII);
            out.write(line, 0, line.length);
            out.write('\r');
            out.write('\n');
        }
    }
}
