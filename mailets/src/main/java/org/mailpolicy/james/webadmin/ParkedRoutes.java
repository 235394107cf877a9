package org.mailpolicy.james.webadmin;

import static org.mailpolicy.james.webadmin.RouteRequests.badRequest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.base.Preconditions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.parking.ParkedMailStore;
import org.mailpolicy.parking.ParkedSummary;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DestinationStateStore;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The parked-mail schedule ({@code waits: in: parked}) under {@code /delivery-policy/parked}:
 * <pre>
 * GET  /delivery-policy/parked                         per destination key: parked, released, oldest, nextDue
 * POST /delivery-policy/parked/{destination}/release   its parked mail is due now; the releaser sends it at the
 *                                                     destination's pace (after its hold, if it is held)
 * </pre>
 */
final class ParkedRoutes {
    static final String PATH = DeliveryPolicyRoutes.BASE + "/parked";

    private final ParkedMailStore parked;
    private final DestinationStateStore destinations;
    private final Clock clock;
    private final ObjectMapper json;

    ParkedRoutes(ParkedMailStore parked, DestinationStateStore destinations, Clock clock, ObjectMapper json) {
        this.parked = Preconditions.checkNotNull(parked, "parked");
        this.destinations = Preconditions.checkNotNull(destinations, "destinations");
        this.clock = Preconditions.checkNotNull(clock, "clock");
        this.json = Preconditions.checkNotNull(json, "json");
    }

    void define(Service service) {
        service.get(PATH, this::list);
        service.post(PATH + "/:destination/release", this::release);
    }

    private String list(Request request, Response response) throws JsonProcessingException {
        Instant now = clock.instant();
        List<Map<String, Object>> body = new ArrayList<>();
        for (ParkedSummary s : parked.summaries(now)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("destination", s.destination());
            row.put("parked", s.parked());
            row.put("released", s.released());
            row.put("oldest", s.oldest().map(Instant::toString).orElse(null));
            row.put("nextDue", s.nextDue().map(Instant::toString).orElse(null));
            row.put("heldUntil", heldUntil(s.destination(), now).map(Instant::toString).orElse(null));
            body.add(row);
        }
        return json.writeValueAsString(body);
    }

    private String release(Request request, Response response) throws JsonProcessingException {
        String name = request.params(":destination");
        DestinationKey key;
        try {
            key = DestinationKey.of(name == null ? "" : name);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        }
        Instant now = clock.instant();
        int due = parked.makeDue(key.asString(), now);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("destination", key.asString());
        body.put("madeDue", due);
        // Said, not overridden: a held destination's mail goes when its hold ends (DELETE .../destinations/{d}/hold).
        body.put("heldUntil", heldUntil(key.asString(), now).map(Instant::toString).orElse(null));
        return json.writeValueAsString(body);
    }

    private Optional<Instant> heldUntil(String key, Instant now) {
        try {
            return destinations.get(key).filter(s -> s.isHeldAt(now)).flatMap(DestinationState::heldUntil);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
