package org.mailpolicy.james.metrics;

import com.google.common.base.Preconditions;
import java.time.Clock;
import org.apache.james.metrics.api.GaugeRegistry;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DirectoryOutageGuard;

/**
 * Gauges of each named destination's directory outage guard, read when scraped:
 *
 * <pre>
 * delivery-policy.directory-outage.suspected.DESTINATION   1 while its "user unknown" replies are retried, not suppressed
 * delivery-policy.directory-outage.unknown.DESTINATION     distinct recipients answered "user unknown" within the window
 * </pre>
 *
 * Only named destinations, as {@link PaceGauges}: a gauge per unlisted domain would grow without bound.
 */
public final class DirectoryOutageGauges {
    private DirectoryOutageGauges() {
    }

    /** Registers the gauges of every destination in {@code destinations}; a name registered before is left as it is. */
    public static void register(GaugeRegistry registry, Iterable<DestinationPolicy> destinations,
                                DirectoryOutageGuard guard, Clock clock) {
        Preconditions.checkNotNull(registry, "registry");
        for (DestinationPolicy d : destinations) {
            DestinationKey key = DestinationKey.of(d);
            String name = DeliveryMetrics.namePart(d.name());
            PaceGauges.registerOnce(registry, DeliveryMetrics.PREFIX + "directory-outage.suspected." + name,
                    () -> guard.status(key, clock.instant()).isSuspected() ? 1 : 0);
            PaceGauges.registerOnce(registry, DeliveryMetrics.PREFIX + "directory-outage.unknown." + name,
                    () -> guard.status(key, clock.instant()).unknownRecipients());
        }
    }
}
