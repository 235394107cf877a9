package org.mailpolicy.james.webadmin;

import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.INVALID_ARGUMENT;
import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.NOT_FOUND;
import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.SERVER_ERROR;
import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.WRONG_STATE;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSet;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.utils.ErrorResponder;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.ClassificationJson;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;
import org.mailpolicy.jdbc.StoreException;
import spark.HaltException;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The operator's view of the delivery policy in James's WebAdmin, under {@value #BASE}: the
 * suppression list, destination holds, and the classifier. James applies its WebAdmin
 * authentication (JWT when enabled) to every route of a {@link Routes} bean; nothing here bypasses it.
 *
 * <pre>
 * GET    /delivery-policy/suppressions?offset=0&amp;limit=100&amp;domain=aol.com
 * GET    /delivery-policy/suppressions/{address}
 * PUT    /delivery-policy/suppressions/{address}      body optional: {"reason": "...", "reply": "..."}
 * DELETE /delivery-policy/suppressions/{address}
 * GET    /delivery-policy/destinations                 named destinations, and unlisted domains with state
 * DELETE /delivery-policy/destinations/{destination}/hold   {destination}: aol, or a domain such as example.org
 * POST   /delivery-policy/classify?destination=aol    body: the reply, or
 *                                                    {"reply": "...", "stage": "rcpt", "destination": "aol"}
 * </pre>
 */
public final class DeliveryPolicyRoutes implements Routes {
    public static final String BASE = "/delivery-policy";
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    /** The classifier copes with any length; this only bounds what one request may make it read. */
    static final int MAX_REPLY_CHARS = 1_000_000;
    static final String MANUAL_REASON = "manual";
    static final String MANUAL_RULE = "manual";

    private static final Set<String> PUT_FIELDS = ImmutableSet.of("reason", "reply");
    private static final Set<String> CLASSIFY_FIELDS = ImmutableSet.of("reply", "stage", "destination");

    private final SuppressionList suppressions;
    private final DestinationStateStore destinations;
    private final DeliveryPolicy policy;
    private final DestinationClassifier classifier;
    private final Clock clock;
    private final QueuedMailCounter queued;
    private final HeldMailRelease release;
    private final ObjectMapper json = new ObjectMapper();

    private DeliveryPolicyRoutes(SuppressionList suppressions, DestinationStateStore destinations, DeliveryPolicy policy,
                                 DestinationClassifier classifier, Clock clock, QueuedMailCounter queued,
                                 HeldMailRelease release) {
        this.suppressions = suppressions;
        this.destinations = destinations;
        this.policy = policy;
        this.classifier = classifier;
        this.clock = clock;
        this.queued = queued;
        this.release = release;
    }

    /**
     * @param classifier normally the policy runtime's classifiers, so that the route answers as delivery decides
     */
    public static DeliveryPolicyRoutes of(SuppressionList suppressions, DestinationStateStore destinations,
                                          DeliveryPolicy policy, DestinationClassifier classifier,
                                          Clock clock, QueuedMailCounter queued) {
        return of(suppressions, destinations, policy, classifier, clock, queued, HeldMailRelease.NONE);
    }

    /**
     * @param release brings forward the mails a released hold postponed, normally in the delivery
     *                mailet's outgoing queue
     */
    public static DeliveryPolicyRoutes of(SuppressionList suppressions, DestinationStateStore destinations,
                                          DeliveryPolicy policy, DestinationClassifier classifier,
                                          Clock clock, QueuedMailCounter queued, HeldMailRelease release) {
        return new DeliveryPolicyRoutes(Preconditions.checkNotNull(suppressions, "suppressions"),
                Preconditions.checkNotNull(destinations, "destinations"), Preconditions.checkNotNull(policy, "policy"),
                Preconditions.checkNotNull(classifier, "classifier"), Preconditions.checkNotNull(clock, "clock"),
                Preconditions.checkNotNull(queued, "queued"), Preconditions.checkNotNull(release, "release"));
    }

    @Override
    public String getBasePath() {
        return BASE;
    }

    @Override
    public void define(Service service) {
        service.get(BASE + "/suppressions", this::listSuppressions);
        service.get(BASE + "/suppressions/:address", this::getSuppression);
        service.put(BASE + "/suppressions/:address", this::putSuppression);
        service.delete(BASE + "/suppressions/:address", this::deleteSuppression);
        service.get(BASE + "/destinations", this::listDestinations);
        service.delete(BASE + "/destinations/:destination/hold", this::releaseHold);
        service.post(BASE + "/classify", this::classify);
    }

    private String listSuppressions(Request request, Response response) throws JsonProcessingException {
        int offset = intParameter(request, "offset", 0, Integer.MAX_VALUE);
        int limit = intParameter(request, "limit", DEFAULT_LIMIT, MAX_LIMIT);
        Optional<String> domain = Optional.ofNullable(request.queryParams("domain"));
        if (domain.isPresent() && domain.get().trim().isEmpty()) {
            throw badRequest("domain must not be empty");
        }
        List<SuppressionEntry> page;
        long total;
        try {
            page = suppressions.list(domain, offset, limit);
            total = suppressions.count(domain);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        } catch (StoreException e) {
            throw storeFailure(e);
        }
        ObjectNode body = json.createObjectNode();
        body.put("total", total);
        body.put("offset", offset);
        body.put("limit", limit);
        ArrayNode entries = body.putArray("entries");
        page.forEach(e -> entries.add(entryJson(e)));
        return json.writeValueAsString(body);
    }

    private String getSuppression(Request request, Response response) throws JsonProcessingException {
        String address = address(request);
        Optional<SuppressionEntry> entry;
        try {
            entry = suppressions.find(address);
        } catch (StoreException e) {
            throw storeFailure(e);
        }
        if (!entry.isPresent()) {
            throw notFound(address + " is not suppressed");
        }
        return json.writeValueAsString(entryJson(entry.get()));
    }

    private String putSuppression(Request request, Response response) throws JsonProcessingException {
        String address = address(request);
        JsonNode body = optionalJsonObject(body(request), PUT_FIELDS);
        String reason = textField(body, "reason").orElse(MANUAL_REASON);
        String reply = textField(body, "reply").orElse("");
        if (reason.trim().isEmpty()) {
            throw badRequest("reason must not be empty");
        }
        SuppressionEntry entry = SuppressionEntry.of(address, clock.instant(), reason, reply, MANUAL_RULE,
                SuppressionEntry.Source.MANUAL, Optional.empty());
        try {
            boolean added = suppressions.add(entry);
            // An address already on the list keeps its first entry: the history of why is worth more.
            response.status(added ? 201 : 200);
            return json.writeValueAsString(entryJson(added ? entry : suppressions.find(address).orElse(entry)));
        } catch (StoreException e) {
            throw storeFailure(e);
        }
    }

    private String deleteSuppression(Request request, Response response) {
        String address = address(request);
        try {
            if (!suppressions.remove(address)) {
                throw notFound(address + " is not suppressed");
            }
        } catch (StoreException e) {
            throw storeFailure(e);
        }
        response.status(204);
        return "";
    }

    /**
     * Every named destination of the policy (fresh when never used) and every key the store
     * remembers: named destinations by name, unlisted domains (the default's settings, one state
     * each) by domain. {@code policy} names the settings that apply.
     */
    private String listDestinations(Request request, Response response) throws JsonProcessingException {
        Instant now = clock.instant();
        Map<String, DestinationState> byKey = new TreeMap<>();
        for (DestinationPolicy d : policy.destinations()) {
            String key = DestinationKey.of(d).asString();
            byKey.put(key, DestinationState.initial(key));
        }
        for (DestinationState s : destinations.all()) {
            byKey.put(s.destination(), s);
        }
        Optional<QueuedMailCounter.Counts> counts = queued.count();
        ArrayNode body = json.createArrayNode();
        for (DestinationState s : byKey.values()) {
            body.add(destinationJson(s, now, counts));
        }
        return json.writeValueAsString(body);
    }

    private String releaseHold(Request request, Response response) {
        String name = request.params(":destination");
        if (name == null || name.isEmpty()) {
            throw badRequest("destination must not be empty");
        }
        DestinationKey key;
        try {
            key = DestinationKey.of(name);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        }
        if (!policy.destination(key.asString()).isPresent() && !destinations.get(key).isPresent()) {
            throw notFound("no destination '" + printable(name) + "': neither a destination of the policy nor a domain "
                    + "with delivery state (see GET " + BASE + "/destinations)");
        }
        if (!destinations.releaseHold(key)) {
            throw ErrorResponder.builder().statusCode(409).type(WRONG_STATE)
                    .message("destination '" + key + "' is not held").haltError();
        }
        // Best effort: the hold is over either way; mail the queue keeps back goes at the hold's old end.
        release.bringForward(key.asString());
        response.status(204);
        return "";
    }

    /**
     * The request body as sent. {@code curl -d} labels any body as a form; Jetty then parses it into
     * parameters before the route runs and the body reads empty. For such a request the body is
     * rebuilt from the form parameters that are not in the query string: exact for a reply or JSON
     * text without '&amp;', '=', '+' or '%' (curl's form encoding changes those; send them with
     * {@code -H 'Content-Type: text/plain'}).
     */
    private static String body(Request request) {
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

    private String classify(Request request, Response response) throws JsonProcessingException {
        String body = body(request);
        if (body == null || body.trim().isEmpty()) {
            throw badRequest("the body must be the reply text, or {\"reply\": \"...\", \"stage\": \"rcpt\"}");
        }
        if (body.length() > MAX_REPLY_CHARS) {
            throw badRequest("the body is longer than " + MAX_REPLY_CHARS + " characters");
        }
        String reply;
        Stage stage = Stage.UNKNOWN;
        Optional<String> destinationName = Optional.ofNullable(request.queryParams("destination"));
        if (body.trim().startsWith("{")) {
            JsonNode node = optionalJsonObject(body, CLASSIFY_FIELDS);
            reply = textField(node, "reply").orElseThrow(() -> badRequest("field 'reply' is required"));
            Optional<String> stageName = textField(node, "stage");
            if (stageName.isPresent()) {
                stage = stage(stageName.get());
            }
            Optional<String> inBody = textField(node, "destination");
            if (inBody.isPresent()) {
                destinationName = inBody;
            }
        } else {
            reply = CharMatcher.anyOf("\r\n").trimTrailingFrom(body);
        }
        Optional<DestinationPolicy> destination = Optional.empty();
        if (destinationName.isPresent()) {
            destination = policy.destination(destinationName.get());
            if (!destination.isPresent()) {
                throw badRequest("no destination named '" + printable(destinationName.get()) + "' in the policy");
            }
        }
        Classification c = classifier.classify(destination, SmtpReply.parse(reply, stage));
        return ClassificationJson.toJson(c);
    }

    private ObjectNode entryJson(SuppressionEntry e) {
        ObjectNode node = json.createObjectNode();
        node.put("address", e.address());
        node.put("domain", e.domain());
        node.put("since", e.since().toString());
        node.put("reason", e.reason());
        node.put("reply", e.reply());
        node.put("rule", e.ruleId());
        node.put("source", e.source().name().toLowerCase(Locale.ROOT));
        node.put("messageId", e.messageId().orElse(null));
        return node;
    }

    private ObjectNode destinationJson(DestinationState s, Instant now, Optional<QueuedMailCounter.Counts> counts) {
        ObjectNode node = json.createObjectNode();
        Optional<DestinationPolicy> named = policy.destination(s.destination());
        node.put("name", s.destination());
        // Whose settings apply: a named destination's, or the default's for an unlisted domain.
        node.put("policy", named.map(DestinationPolicy::name).orElse(policy.defaultDestination().name()));
        node.put("configured", named.isPresent());
        node.put("held", s.isHeldAt(now));
        node.put("heldUntil", s.heldUntil().map(Instant::toString).orElse(null));
        node.put("currentHold", s.currentHold().toString());
        node.put("currentHoldSeconds", s.currentHold().getSeconds());
        node.put("consecutiveThrottles", s.consecutiveThrottles());
        node.put("attempts", s.attempts());
        node.put("inFlight", s.inFlight());
        node.put("probing", s.probing());
        node.put("lastReply", s.lastReply().orElse(null));
        node.put("lastAttemptAt", s.lastAttemptAt().map(Instant::toString).orElse(null));
        if (counts.isPresent()) {
            node.put("queued", counts.get().of(s.destination()));
            node.put("queuedComplete", counts.get().complete());
        } else {
            node.putNull("queued");
            node.putNull("queuedComplete");
        }
        return node;
    }

    private String address(Request request) {
        String raw = request.params(":address");
        try {
            return SuppressionEntry.normaliseAddress(raw);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        }
    }

    private static int intParameter(Request request, String name, int defaultValue, int max) {
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

    /** An empty body is no fields; otherwise a JSON object with only {@code allowed} fields. */
    private JsonNode optionalJsonObject(String body, Set<String> allowed) {
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
            throw badRequest("unknown field(s) " + unknown + "; allowed: " + new java.util.TreeSet<>(allowed));
        }
        return node;
    }

    private static Optional<String> textField(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw badRequest("field '" + field + "' must be a string");
        }
        return Optional.of(value.asText());
    }

    private static Stage stage(String name) {
        String normalised = name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return Stage.valueOf(normalised);
        } catch (IllegalArgumentException e) {
            throw badRequest("unknown stage '" + printable(name) + "'; one of "
                    + Arrays.toString(Stage.values()).toLowerCase(Locale.ROOT));
        }
    }

    /** Request text echoed in an error: no control characters, bounded. */
    private static String printable(String text) {
        String t = CharMatcher.javaIsoControl().replaceFrom(text, '?');
        return t.length() > 100 ? t.substring(0, 100) + "..." : t;
    }

    private static HaltException badRequest(String message) {
        return ErrorResponder.builder().statusCode(400).type(INVALID_ARGUMENT).message(message).haltError();
    }

    private static HaltException notFound(String message) {
        return ErrorResponder.builder().statusCode(404).type(NOT_FOUND).message(message).haltError();
    }

    private static HaltException storeFailure(StoreException e) {
        return ErrorResponder.builder().statusCode(500).type(SERVER_ERROR)
                .message("the suppression store failed: " + e.getMessage()).haltError();
    }
}
