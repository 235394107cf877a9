package org.mailpolicy.james.webadmin;

import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.SERVER_ERROR;
import static org.mailpolicy.james.webadmin.RouteRequests.badRequest;
import static org.mailpolicy.james.webadmin.RouteRequests.notFound;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSet;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.james.webadmin.utils.ErrorResponder;
import org.mailpolicy.james.webadmin.dto.SuppressionEntryDto;
import org.mailpolicy.james.webadmin.dto.SuppressionPageDto;
import org.mailpolicy.jdbc.StoreException;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionExpiry;
import org.mailpolicy.suppression.SuppressionList;
import spark.HaltException;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The suppression list under {@code /delivery-policy/suppressions}: list (paged, by domain), read, add by hand, lift.
 */
final class SuppressionRoutes {
    static final String PATH = DeliveryPolicyRoutes.BASE + "/suppressions";
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    static final String MANUAL_REASON = SuppressionEntry.MANUAL_REASON;
    static final String MANUAL_RULE = "manual";
    private static final Set<String> PUT_FIELDS = ImmutableSet.of("reason", "reply");

    private final SuppressionList suppressions;
    private final SuppressionExpiry expiry;
    private final Clock clock;
    private final ObjectMapper json;

    /** @param expiry the policy's, to show each entry's expiry; the store applies it to deliveries */
    SuppressionRoutes(SuppressionList suppressions, SuppressionExpiry expiry, Clock clock, ObjectMapper json) {
        this.suppressions = Preconditions.checkNotNull(suppressions, "suppressions");
        this.expiry = Preconditions.checkNotNull(expiry, "expiry");
        this.clock = Preconditions.checkNotNull(clock, "clock");
        this.json = Preconditions.checkNotNull(json, "json");
    }

    void define(Service service) {
        service.get(PATH, this::listSuppressions);
        service.get(PATH + "/:address", this::getSuppression);
        service.put(PATH + "/:address", this::putSuppression);
        service.delete(PATH + "/:address", this::deleteSuppression);
    }

    private String listSuppressions(Request request, Response response) throws JsonProcessingException {
        int offset = RouteRequests.intParameter(request, "offset", 0, Integer.MAX_VALUE);
        int limit = RouteRequests.intParameter(request, "limit", DEFAULT_LIMIT, MAX_LIMIT);
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
        return json.writeValueAsString(SuppressionPageDto.of(total, offset, limit, page, expiry, clock.instant()));
    }

    private String getSuppression(Request request, Response response) throws JsonProcessingException {
        String address = address(request);
        Optional<SuppressionEntry> entry;
        try {
            // As stored: an expired entry is shown (expired: true), though it no longer suppresses.
            entry = suppressions.findStored(address);
        } catch (StoreException e) {
            throw storeFailure(e);
        }
        if (!entry.isPresent()) {
            throw notFound(address + " is not suppressed");
        }
        return json.writeValueAsString(dto(entry.get()));
    }

    private String putSuppression(Request request, Response response) throws JsonProcessingException {
        String address = address(request);
        JsonNode body = RouteRequests.optionalJsonObject(json, RouteRequests.body(request), PUT_FIELDS);
        String reason = RouteRequests.textField(body, "reason").orElse(MANUAL_REASON);
        String reply = RouteRequests.textField(body, "reply").orElse("");
        if (reason.trim().isEmpty()) {
            throw badRequest("reason must not be empty");
        }
        SuppressionEntry entry = SuppressionEntry.of(address, clock.instant(), reason, reply, MANUAL_RULE,
                SuppressionEntry.Source.MANUAL, Optional.empty());
        try {
            boolean added = suppressions.add(entry);
            // An address already on the list keeps its first entry (the history of why is worth more) and is
            // confirmed: an expired one suppresses again.
            response.status(added ? 201 : 200);
            return json.writeValueAsString(dto(added ? entry : suppressions.findStored(address).orElse(entry)));
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

    private SuppressionEntryDto dto(SuppressionEntry entry) {
        return SuppressionEntryDto.from(entry, expiry, clock.instant());
    }

    private static String address(Request request) {
        String raw = request.params(":address");
        try {
            return SuppressionEntry.normaliseAddress(raw);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        }
    }

    private static HaltException storeFailure(StoreException e) {
        return ErrorResponder.builder().statusCode(500).type(SERVER_ERROR)
                .message("the suppression store failed: " + e.getMessage()).haltError();
    }
}
