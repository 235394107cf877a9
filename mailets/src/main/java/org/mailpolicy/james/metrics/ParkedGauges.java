package org.mailpolicy.james.metrics;

import com.google.common.base.Preconditions;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.james.metrics.api.GaugeRegistry;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.parking.ParkedSummary;

/**
 * Gauges of parked mail per destination, from the releaser's last round (at most a second old):
 *
 * <pre>
 * delivery-policy.parked.count.DESTINATION      parked, waiting for their due time or their hold's end
 * delivery-policy.parked.released.DESTINATION   (a counter, {@link org.mailpolicy.james.parking.ParkingLot}) releases
 * </pre>
 *
 * Per named destination, and {@code default} for the sum of every unlisted domain (one gauge per
 * domain would grow without bound).
 */
public final class ParkedGauges {
    private ParkedGauges() {
    }

    public static void register(GaugeRegistry registry, DeliveryPolicy policy, Supplier<Map<String, ParkedSummary>> summaries) {
        Preconditions.checkNotNull(registry, "registry");
        for (DestinationPolicy d : policy.destinations()) {
            PaceGauges.registerOnce(registry, DeliveryMetrics.PREFIX + "parked.count." + DeliveryMetrics.namePart(d.name()),
                    () -> {
                        ParkedSummary s = summaries.get().get(d.name());
                        return s == null ? 0L : s.parked();
                    });
        }
        PaceGauges.registerOnce(registry, DeliveryMetrics.PREFIX + "parked.count."
                + DeliveryMetrics.namePart(policy.defaultDestination().name()), () -> {
                    long sum = 0;
                    for (ParkedSummary s : summaries.get().values()) {
                        if (!policy.destination(s.destination()).isPresent()) {
                            sum += s.parked();
                        }
                    }
                    return sum;
                });
    }
}
