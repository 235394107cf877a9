package org.mailpolicy.james.webadmin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.reply.SmtpReply;

/**
 * One classification as a JSON object, with the fields the command line's {@code classify} writes
 * (action, reason, scope, code, enhancedCode, token, explanation, rule) plus the stage, every token,
 * the remedy, the source and the hints. Remote text in it is the parser's sanitised form.
 */
public final class ClassificationJson {
    private ClassificationJson() {
    }

    public static ObjectNode toJson(ObjectMapper mapper, Classification c) {
        SmtpReply reply = c.reply();
        ObjectNode node = mapper.createObjectNode();
        node.put("action", c.action().id());
        node.put("reason", c.reason());
        node.put("scope", c.scope().id());
        if (reply.code().isPresent()) {
            node.put("code", reply.code().getAsInt());
        } else {
            node.putNull("code");
        }
        node.put("enhancedCode", reply.enhancedStatus().map(Object::toString).orElse(null));
        node.put("token", reply.tokens().isEmpty() ? null : reply.tokens().get(0));
        ArrayNode tokens = node.putArray("tokens");
        reply.tokens().forEach(tokens::add);
        node.put("stage", reply.stage().name().toLowerCase(java.util.Locale.ROOT));
        node.put("rule", c.ruleId());
        node.put("explanation", c.explanation());
        node.put("remedy", c.remedy());
        node.put("source", c.source());
        node.put("holdHint", c.holdHint().map(Object::toString).orElse(null));
        node.put("retryHint", c.retryHint().map(Object::toString).orElse(null));
        node.put("reply", reply.raw());
        return node;
    }
}
