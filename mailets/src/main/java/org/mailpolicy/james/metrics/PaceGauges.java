package org.mailpolicy.james.metrics;

import com.google.common.base.Preconditions;
import java.time.Clock;
import java.time.Instant;
import org.apache.james.metrics.api.GaugeRegistry;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.Pace;

/**
 * Gauges of each named destination's learned pace, read from the state store when scraped:
 *
 * <pre>
 * delivery-policy.pace.rate.DESTINATION          effective rate, starts per the rate ceiling's period (0: no ceiling)
 * delivery-policy.pace.concurrency.DESTINATION   effective concurrency
 * delivery-policy.pace.held.DESTINATION          1 while the destination is held, else 0
 * </pre>
 *
 * Only named destinations: an unlisted domain's state is per domain, and a gauge per domain would grow without bound.
 */
public final class PaceGauges {
    private PaceGauges() {
    }

    /** Registers the gauges of every destination in {@code destinations}; a name registered before is left as it is. */
    public static void register(GaugeRegistry registry, Iterable<DestinationPolicy> destinations,
                                DestinationStateStore states, Clock clock) {
        Preconditions.checkNotNull(registry, "registry");
        for (DestinationPolicy d : destinations) {
            DestinationKey key = DestinationKey.of(d);
            String name = DeliveryMetrics.namePart(d.name());
            registerOnce(registry, DeliveryMetrics.PREFIX + "pace.rate." + name,
                    () -> pace(d, key, states, clock).effectiveRate(d));
            registerOnce(registry, DeliveryMetrics.PREFIX + "pace.concurrency." + name,
                    () -> pace(d, key, states, clock).effectiveConcurrency(d));
            registerOnce(registry, DeliveryMetrics.PREFIX + "pace.held." + name,
                    () -> states.get(key).map(s -> s.isHeldAt(clock.instant())).orElse(false) ? 1 : 0);
        }
    }

    private static Pace pace(DestinationPolicy d, DestinationKey key, DestinationStateStore states, Clock clock) {
        Instant now = clock.instant();
        return states.get(key).map(s -> s.paceUnder(d, now)).orElseGet(() -> Pace.initial(d, now));
    }

    static <T> void registerOnce(GaugeRegistry registry, String name, org.apache.james.metrics.api.Gauge<T> gauge) {
        try {
            registry.register(name, gauge);
        } catch (IllegalArgumentException e) {
            // Dropwizard refuses a second metric of one name: a second mailet on the same policy file registered it.
        }
    }
}
