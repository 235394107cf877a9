package org.mailpolicy.james.webadmin;

import static org.mailpolicy.james.webadmin.RouteRequests.badRequest;
import static org.mailpolicy.james.webadmin.RouteRequests.printable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSet;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.ClassificationJson;
import spark.Request;
import spark.Response;
import spark.Service;

/** {@code POST /delivery-policy/classify}: what the classifier makes of a reply, as delivery would classify it. */
final class ClassifyRoutes {
    static final String PATH = DeliveryPolicyRoutes.BASE + "/classify";
    /** The classifier copes with any length; this only bounds what one request may make it read. */
    static final int MAX_REPLY_CHARS = 1_000_000;
    private static final Set<String> CLASSIFY_FIELDS = ImmutableSet.of("reply", "stage", "destination");

    private final DeliveryPolicy policy;
    private final DestinationClassifier classifier;
    private final ObjectMapper json;

    ClassifyRoutes(DeliveryPolicy policy, DestinationClassifier classifier, ObjectMapper json) {
        this.policy = Preconditions.checkNotNull(policy, "policy");
        this.classifier = Preconditions.checkNotNull(classifier, "classifier");
        this.json = Preconditions.checkNotNull(json, "json");
    }

    void define(Service service) {
        service.post(PATH, this::classify);
    }

    private String classify(Request request, Response response) throws JsonProcessingException {
        String body = RouteRequests.body(request);
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
            JsonNode node = RouteRequests.optionalJsonObject(json, body, CLASSIFY_FIELDS);
            reply = RouteRequests.textField(node, "reply").orElseThrow(() -> badRequest("field 'reply' is required"));
            Optional<String> stageName = RouteRequests.textField(node, "stage");
            if (stageName.isPresent()) {
                stage = stage(stageName.get());
            }
            Optional<String> inBody = RouteRequests.textField(node, "destination");
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

    private static Stage stage(String name) {
        String normalised = name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return Stage.valueOf(normalised);
        } catch (IllegalArgumentException e) {
            throw badRequest("unknown stage '" + printable(name) + "'; one of "
                    + Arrays.toString(Stage.values()).toLowerCase(Locale.ROOT));
        }
    }
}
