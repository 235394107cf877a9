package org.mailpolicy.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.reply.EnhancedStatus;

/**
 * The JSON codec of {@link DeliveryReport}, on jackson-core's streaming API (no data binding: the
 * plugin stays small and the format stays explicit). Instants are ISO-8601 strings, statuses
 * {@code x.y.z}, actions RFC 3464's lower-case words. Unknown fields are skipped so that a mail
 * queued by an older or newer plugin version still gets its DSN; missing or mistyped required fields
 * are errors.
 */
final class ReportJson {
    static final int FORMAT_VERSION = 1;
    /** jackson-core 2.14 (James 3.8.1's) has no read constraints yet: bound the input instead. */
    static final int MAX_JSON_CHARS = 4 << 20;
    private static final JsonFactory FACTORY = new JsonFactory();

    private ReportJson() {
    }

    static String write(DeliveryReport report) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("version", FORMAT_VERSION);
            g.writeStringField("reportingMta", report.reportingMta());
            writeOptional(g, "arrivalDate", report.arrivalDate().map(Instant::toString));
            writeOptional(g, "envelopeId", report.envelopeId());
            writeOptional(g, "originalMessageId", report.originalMessageId());
            g.writeArrayFieldStart("recipients");
            for (RecipientReport r : report.recipients()) {
                g.writeStartObject();
                g.writeStringField("finalRecipient", r.finalRecipient());
                writeOptional(g, "originalRecipient", r.originalRecipient());
                g.writeStringField("action", r.action().id());
                g.writeStringField("status", r.status().toString());
                writeOptional(g, "remoteMta", r.remoteMta());
                writeOptional(g, "diagnostic", r.diagnostic());
                writeOptional(g, "lastAttempt", r.lastAttempt().map(Instant::toString));
                writeOptional(g, "willRetryUntil", r.willRetryUntil().map(Instant::toString));
                g.writeStringField("reason", r.reason());
                g.writeStringField("ruleId", r.ruleId());
                g.writeStringField("explanation", r.explanation());
                g.writeStringField("remedy", r.remedy());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a delivery report", e);
        }
        return out.toString();
    }

    private static void writeOptional(JsonGenerator g, String field, Optional<String> value) throws IOException {
        if (value.isPresent()) {
            g.writeStringField(field, value.get());
        }
    }

    static DeliveryReport read(String json) {
        if (json == null || json.trim().isEmpty()) {
            throw new IllegalArgumentException("delivery report JSON: empty");
        }
        if (json.length() > MAX_JSON_CHARS) {
            throw new IllegalArgumentException("delivery report JSON: longer than " + MAX_JSON_CHARS + " characters");
        }
        try (JsonParser p = FACTORY.createParser(json)) {
            expect(p, p.nextToken(), JsonToken.START_OBJECT, "the report");
            Fields f = new Fields("report");
            List<RecipientReport> recipients = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                JsonToken value = p.nextToken();
                if (name.equals("recipients")) {
                    recipients = recipients(p, value);
                } else if (name.equals("version")) {
                    if (value != JsonToken.VALUE_NUMBER_INT || p.getIntValue() != FORMAT_VERSION) {
                        throw problem(p, "unsupported report version " + p.getText());
                    }
                } else {
                    f.take(p, name, value);
                }
            }
            if (p.nextToken() != null) {
                throw problem(p, "unexpected content after the report");
            }
            if (recipients == null) {
                throw new IllegalArgumentException("delivery report JSON: missing field 'recipients'");
            }
            try {
                return DeliveryReport.of(f.required("reportingMta"), f.instant("arrivalDate"), f.optional("envelopeId"),
                        f.optional("originalMessageId"), recipients);
            } catch (IllegalArgumentException | NullPointerException e) {
                throw e.getMessage() != null && e.getMessage().startsWith("delivery report JSON")
                        ? e : new IllegalArgumentException("delivery report JSON: " + e.getMessage(), e);
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("delivery report JSON: malformed: " + e.getOriginalMessage()
                    + where(e.getLocation()), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("delivery report JSON: unreadable: " + e.getMessage(), e);
        }
    }

    private static List<RecipientReport> recipients(JsonParser p, JsonToken start) throws IOException {
        expect(p, start, JsonToken.START_ARRAY, "'recipients'");
        List<RecipientReport> out = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            int index = out.size();
            expect(p, t, JsonToken.START_OBJECT, "recipients[" + index + "]");
            Fields f = new Fields("recipients[" + index + "]");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                f.take(p, name, p.nextToken());
            }
            out.add(f.recipient(p));
        }
        return out;
    }

    private static void expect(JsonParser p, JsonToken actual, JsonToken expected, String what) throws IOException {
        if (actual != expected) {
            throw problem(p, what + " must be " + (expected == JsonToken.START_OBJECT ? "an object" : "an array")
                    + ", got " + (actual == null ? "the end of the text" : p.getText()));
        }
    }

    private static IllegalArgumentException problem(JsonParser p, String message) {
        return new IllegalArgumentException("delivery report JSON: " + message + where(p.getCurrentLocation()));
    }

    private static String where(JsonLocation at) {
        return at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }

    /** The string fields of one object, checked as they arrive. */
    private static final class Fields {
        private final String owner;
        private final Map<String, String> values = new HashMap<>();

        Fields(String owner) {
            this.owner = owner;
        }

        void take(JsonParser p, String name, JsonToken value) throws IOException {
            if (value == JsonToken.VALUE_STRING) {
                values.put(name, p.getText());
            } else if (value == JsonToken.VALUE_NULL) {
                values.remove(name);
            } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
                // An unknown structured field from another version.
                p.skipChildren();
            } else {
                throw problem(p, owner + "." + name + " must be a string, got " + p.getText());
            }
        }

        String required(String name) {
            String v = values.get(name);
            if (v == null) {
                throw new IllegalArgumentException("delivery report JSON: missing field '" + owner + "." + name + "'");
            }
            return v;
        }

        Optional<String> optional(String name) {
            return Optional.ofNullable(values.get(name));
        }

        Optional<Instant> instant(String name) {
            Optional<String> v = optional(name);
            if (!v.isPresent()) {
                return Optional.empty();
            }
            try {
                return Optional.of(Instant.parse(v.get()));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("delivery report JSON: " + owner + "." + name
                        + " is not an ISO-8601 instant: '" + v.get() + "'");
            }
        }

        RecipientReport recipient(JsonParser p) {
            String actionText = required("action");
            DsnAction action = DsnAction.fromId(actionText).orElseThrow(() -> new IllegalArgumentException(
                    "delivery report JSON: " + owner + ".action: unknown action '" + actionText + "'"));
            String statusText = required("status");
            EnhancedStatus status = EnhancedStatus.parse(statusText).orElseThrow(() -> new IllegalArgumentException(
                    "delivery report JSON: " + owner + ".status: not an x.y.z status: '" + statusText + "'"));
            try {
                return RecipientReport.builder(required("finalRecipient"), action, status)
                        .originalRecipient(values.get("originalRecipient"))
                        .remoteMta(values.get("remoteMta"))
                        .diagnostic(values.get("diagnostic"))
                        .lastAttempt(instant("lastAttempt").orElse(null))
                        .willRetryUntil(instant("willRetryUntil").orElse(null))
                        .reason(optional("reason").orElse(""))
                        .ruleId(optional("ruleId").orElse(""))
                        .explanation(optional("explanation").orElse(""))
                        .remedy(optional("remedy").orElse(""))
                        .build();
            } catch (IllegalArgumentException e) {
                throw e.getMessage() != null && e.getMessage().startsWith("delivery report JSON")
                        ? e : new IllegalArgumentException("delivery report JSON: " + owner + ": " + e.getMessage(), e);
            }
        }
    }
}
