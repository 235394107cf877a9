package org.mailpolicy.james.webadmin;

import static org.apache.james.webadmin.utils.ErrorResponder.ErrorType.WRONG_STATE;
import static org.mailpolicy.james.webadmin.RouteRequests.badRequest;
import static org.mailpolicy.james.webadmin.RouteRequests.notFound;
import static org.mailpolicy.james.webadmin.RouteRequests.printable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.james.webadmin.utils.ErrorResponder;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.delivery.PlaintextFallbacks;
import org.mailpolicy.james.webadmin.dto.DestinationDto;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.DirectoryOutageGuard;
import org.mailpolicy.state.DirectoryOutageStatus;
import spark.Request;
import spark.Response;
import spark.Service;

/** Destinations and their holds under {@code /delivery-policy/destinations}: list them, release a hold. */
final class DestinationRoutes {
    static final String PATH = DeliveryPolicyRoutes.BASE + "/destinations";

    private final DestinationStateStore destinations;
    private final DirectoryOutageGuard directoryOutages;
    private final DeliveryPolicy policy;
    private final Clock clock;
    private final QueuedMailCounter queued;
    private final HeldMailRelease release;
    private final ObjectMapper json;
    private final PlaintextFallbacks plaintextFallbacks;

    DestinationRoutes(DestinationStateStore destinations, DirectoryOutageGuard directoryOutages, DeliveryPolicy policy,
                      Clock clock, QueuedMailCounter queued, HeldMailRelease release, ObjectMapper json,
                      PlaintextFallbacks plaintextFallbacks) {
        this.destinations = Preconditions.checkNotNull(destinations, "destinations");
        this.directoryOutages = Preconditions.checkNotNull(directoryOutages, "directoryOutages");
        this.policy = Preconditions.checkNotNull(policy, "policy");
        this.clock = Preconditions.checkNotNull(clock, "clock");
        this.queued = Preconditions.checkNotNull(queued, "queued");
        this.release = Preconditions.checkNotNull(release, "release");
        this.json = Preconditions.checkNotNull(json, "json");
        this.plaintextFallbacks = Preconditions.checkNotNull(plaintextFallbacks, "plaintextFallbacks");
    }

    void define(Service service) {
        service.get(PATH, this::listDestinations);
        service.delete(PATH + "/:destination/hold", this::releaseHold);
    }

    /**
     * Every named destination of the policy (fresh when never used) and every key the store
     * remembers: named destinations by name, unlisted domains (the default's settings, one state
     * each) by domain, and every key whose directory outage guard has answers to count (this node's: the guard
     * is per node). {@code policy} names the settings that apply.
     */
    private String listDestinations(Request request, Response response) throws JsonProcessingException {
        Instant now = clock.instant();
        Map<String, DestinationState> byKey = new TreeMap<>();
        for (DestinationPolicy d : policy.destinations()) {
            String key = DestinationKey.of(d).asString();
            byKey.put(key, DestinationState.initial(key));
        }
        for (DirectoryOutageStatus o : directoryOutages.all(now)) {
            byKey.putIfAbsent(o.key().asString(), DestinationState.initial(o.key().asString()));
        }
        for (DestinationState s : destinations.all()) {
            byKey.put(s.destination(), s);
        }
        Optional<QueuedMailCounter.Counts> counts = queued.count();
        ImmutableList.Builder<DestinationDto> body = ImmutableList.builder();
        for (DestinationState s : byKey.values()) {
            Optional<DestinationPolicy> named = policy.destination(s.destination());
            // Whose settings apply: a named destination's, or the default's for an unlisted domain.
            DestinationPolicy applies = named.orElse(policy.defaultDestination());
            body.add(DestinationDto.of(s, now, applies, named.isPresent(),
                    counts.map(c -> new DestinationDto.QueuedCount(c.of(s.destination()), c.complete())),
                    directoryOutages.status(DestinationKey.of(s.destination()), now))
                    .withPlaintextFallback(plaintextFallbacks.of(s.destination())));
        }
        return json.writeValueAsString(body.build());
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
                    + "with delivery state (see GET " + PATH + ")");
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
}
