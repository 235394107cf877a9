package org.mailpolicy.rules;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.yaml.Durations;

/**
 * One classification as a JSON object: the shape {@code delivery-policy classify} prints per line
 * and WebAdmin's {@code POST /delivery-policy/classify} answers, so scripts can use either.
 * Remote text in it is the parser's sanitised form.
 */
public final class ClassificationJson {
    private static final JsonFactory FACTORY = new JsonFactory();

    private ClassificationJson() {
    }

    /** The object on one line, without a line break. */
    public static String toJson(Classification c) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(512);
        try (JsonGenerator g = FACTORY.createGenerator(buf, JsonEncoding.UTF8)) {
            write(g, c);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        return new String(buf.toByteArray(), StandardCharsets.UTF_8);
    }

    public static void write(JsonGenerator g, Classification c) throws IOException {
        SmtpReply r = c.reply();
        g.writeStartObject();
        g.writeStringField("input", r.raw());
        g.writeStringField("stage", r.stage().name());
        if (r.code().isPresent()) {
            g.writeNumberField("code", r.code().getAsInt());
        } else {
            g.writeNullField("code");
        }
        g.writeStringField("enhancedCode", r.enhancedStatus().map(Object::toString).orElse(null));
        g.writeStringField("token", r.tokens().isEmpty() ? null : r.tokens().get(0));
        g.writeArrayFieldStart("tokens");
        for (String t : r.tokens()) {
            g.writeString(t);
        }
        g.writeEndArray();
        g.writeStringField("text", r.text());
        g.writeStringField("action", c.action().id());
        g.writeStringField("reason", c.reason());
        g.writeStringField("scope", c.scope().id());
        g.writeStringField("effect", c.throttleEffect().map(ThrottleEffect::fileName).orElse(null));
        g.writeStringField("hold", c.holdHint().map(Durations::format).orElse(null));
        g.writeStringField("retryAfter", c.retryHint().map(Durations::format).orElse(null));
        g.writeStringField("dsnStatus", c.dsnStatus().toString());
        g.writeStringField("rule", c.ruleId());
        g.writeStringField("explanation", c.explanation());
        g.writeStringField("remedy", c.remedy());
        g.writeStringField("source", c.source());
        g.writeEndObject();
    }
}
