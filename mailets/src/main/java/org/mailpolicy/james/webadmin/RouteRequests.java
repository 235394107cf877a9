package org.mailpolicy.james.webadmin;

import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.INVALID_ARGUMENT;
import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.NOT_FOUND;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.base.CharMatcher;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.james.webadmin.utils.ErrorResponder;
import spark.HaltException;
import spark.Request;

/** Reading a request's parameters and body, and the errors that answer a bad one, for every delivery-policy route. */
final class RouteRequests {

    private RouteRequests() {
    }

    static int intParameter(Request request, String name, int defaultValue, int max) {
        String raw = request.queryParams(name);
        if (raw == null) {
            return defaultValue;
        }
        int value;
        try {
            value = Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw badRequest(name + " must be a whole number: '" + printable(raw) + "'");
        }
        if (value < 0 || value > max) {
            throw badRequest(name + " must be between 0 and " + max + ": " + value);
        }
        return value;
    }

    /**
     * The request body as sent. {@code curl -d} labels any body as a form; Jetty then parses it into
     * parameters before the route runs and the body reads empty. For such a request the body is
     * rebuilt from the form parameters that are not in the query string: exact for a reply or JSON
     * text without '&amp;', '=', '+' or '%' (curl's form encoding changes those; send them with
     * {@code -H 'Content-Type: text/plain'}).
     */
    static String body(Request request) {
        String body = request.body();
        String type = request.contentType();
        if ((body != null && !body.isEmpty()) || type == null
                || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            return body;
        }
        Set<String> inQuery = new HashSet<>();
        String query = request.raw().getQueryString();
        if (query != null) {
            for (String pair : query.split("&")) {
                inQuery.add(URLDecoder.decode(pair.split("=", 2)[0], StandardCharsets.UTF_8));
            }
        }
        StringBuilder rebuilt = new StringBuilder();
        for (Map.Entry<String, String[]> p : request.raw().getParameterMap().entrySet()) {
            if (inQuery.contains(p.getKey())) {
                continue;
            }
            for (String value : p.getValue()) {
                if (rebuilt.length() > 0) {
                    rebuilt.append('&');
                }
                rebuilt.append(p.getKey());
                if (!value.isEmpty()) {
                    rebuilt.append('=').append(value);
                }
            }
        }
        return rebuilt.toString();
    }

    /** An empty body is no fields; otherwise a JSON object with only {@code allowed} fields. */
    static JsonNode optionalJsonObject(ObjectMapper json, String body, Set<String> allowed) {
        if (body == null || body.trim().isEmpty()) {
            return json.createObjectNode();
        }
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw badRequest("the body is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw badRequest("the body must be a JSON object");
        }
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String field = names.next();
            if (!allowed.contains(field)) {
                unknown.add(printable(field));
            }
        }
        if (!unknown.isEmpty()) {
            throw badRequest("unknown field(s) " + unknown + "; allowed: " + new TreeSet<>(allowed));
        }
        return node;
    }

    static Optional<String> textField(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw badRequest("field '" + field + "' must be a string");
        }
        return Optional.of(value.asText());
    }

    /** Request text echoed in an error: no control characters, bounded. */
    static String printable(String text) {
        String t = CharMatcher.javaIsoControl().replaceFrom(text, '?');
        return t.length() > 100 ? t.substring(0, 100) + "..." : t;
    }

    static HaltException badRequest(String message) {
        return ErrorResponder.builder().statusCode(400).type(INVALID_ARGUMENT).message(message).haltError();
    }

    static HaltException notFound(String message) {
        return ErrorResponder.builder().statusCode(404).type(NOT_FOUND).message(message).haltError();
    }
}
