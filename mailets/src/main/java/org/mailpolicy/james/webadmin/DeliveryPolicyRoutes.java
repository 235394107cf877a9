package org.mailpolicy.james.webadmin;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import org.apache.james.webadmin.Routes;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.parking.JdbcParkedMailStore;
import org.mailpolicy.parking.ParkedMailStore;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.DirectoryOutageGuard;
import org.mailpolicy.suppression.SuppressionList;
import spark.Service;

/**
 * The operator's view of the delivery policy in James's WebAdmin, under {@value #BASE}: the
 * suppression list, destination holds, and the classifier. James applies its WebAdmin
 * authentication (JWT when enabled) to every route of a {@link Routes} bean; nothing here bypasses it.
 * One bean for the three resources ({@link SuppressionRoutes}, {@link DestinationRoutes},
 * {@link ClassifyRoutes}, their JSON in {@code dto/}), so that an operator names one class in
 * {@code webadmin.properties}.
 *
 * <pre>
 * GET    /delivery-policy/suppressions?offset=0&amp;limit=100&amp;domain=aol.com
 * GET    /delivery-policy/suppressions/{address}
 * PUT    /delivery-policy/suppressions/{address}      body optional: {"reason": "...", "reply": "..."}
 * DELETE /delivery-policy/suppressions/{address}
 * GET    /delivery-policy/destinations                 named destinations, and unlisted domains with state:
 *                                                    holds, pace, and whether a directory outage is suspected
 * DELETE /delivery-policy/destinations/{destination}/hold   {destination}: aol, or a domain such as example.org
 * GET    /delivery-policy/parked                      parked mail per destination: parked, released, oldest, nextDue
 * POST   /delivery-policy/parked/{destination}/release   its parked mail is due now (sent after its hold, at its pace)
 * POST   /delivery-policy/classify?destination=aol    body: the reply, or
 *                                                    {"reply": "...", "stage": "rcpt", "destination": "aol"}
 * </pre>
 */
public final class DeliveryPolicyRoutes implements Routes {
    public static final String BASE = "/delivery-policy";

    private final SuppressionRoutes suppressions;
    private final DestinationRoutes destinations;
    private final ClassifyRoutes classify;
    private final ParkedRoutes parked;

    private DeliveryPolicyRoutes(SuppressionRoutes suppressions, DestinationRoutes destinations, ClassifyRoutes classify,
                                 ParkedRoutes parked) {
        this.parked = parked;
        this.suppressions = suppressions;
        this.destinations = destinations;
        this.classify = classify;
    }

    /**
     * @param classifier normally the policy runtime's classifiers, so that the route answers as delivery decides
     */
    public static DeliveryPolicyRoutes of(SuppressionList suppressions, DestinationStateStore destinations,
                                          DeliveryPolicy policy, DestinationClassifier classifier,
                                          Clock clock, QueuedMailCounter queued) {
        return of(suppressions, destinations, new DirectoryOutageGuard(), policy, classifier, clock, queued,
                HeldMailRelease.NONE);
    }

    /**
     * @param directoryOutages normally the policy runtime's guard, the one the delivery mailet reviews with
     * @param release          brings forward the mails a released hold postponed, normally in the delivery
     *                         mailet's outgoing queue
     */
    public static DeliveryPolicyRoutes of(SuppressionList suppressions, DestinationStateStore destinations,
                                          DirectoryOutageGuard directoryOutages, DeliveryPolicy policy,
                                          DestinationClassifier classifier, Clock clock, QueuedMailCounter queued,
                                          HeldMailRelease release) {
        return of(suppressions, destinations, directoryOutages, policy, classifier, clock, queued, release,
                JdbcParkedMailStore.inMemory());
    }

    /**
     * @param parked the parked-mail schedule, normally the policy runtime's; a released hold also makes the
     *               destination's parked mail due ({@code release} need not)
     */
    public static DeliveryPolicyRoutes of(SuppressionList suppressions, DestinationStateStore destinations,
                                          DirectoryOutageGuard directoryOutages, DeliveryPolicy policy,
                                          DestinationClassifier classifier, Clock clock, QueuedMailCounter queued,
                                          HeldMailRelease release, ParkedMailStore parked) {
        // Each resource checks what it is given.
        ObjectMapper json = new ObjectMapper();
        HeldMailRelease alsoParked = destination -> {
            long madeDue = parked.makeDue(destination, clock.instant());
            java.util.OptionalLong queuedMoved = release.bringForward(destination);
            return java.util.OptionalLong.of(madeDue + queuedMoved.orElse(0));
        };
        return new DeliveryPolicyRoutes(new SuppressionRoutes(suppressions, policy.suppression().expiry(), clock, json),
                new DestinationRoutes(destinations, directoryOutages, policy, clock, queued, alsoParked, json),
                new ClassifyRoutes(policy, classifier, json), new ParkedRoutes(parked, destinations, clock, json));
    }

    @Override
    public String getBasePath() {
        return BASE;
    }

    @Override
    public void define(Service service) {
        suppressions.define(service);
        destinations.define(service);
        classify.define(service);
        parked.define(service);
    }
}
