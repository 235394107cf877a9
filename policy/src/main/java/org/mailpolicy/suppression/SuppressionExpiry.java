package org.mailpolicy.suppression;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSortedMap;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.yaml.Durations;

/**
 * How long a suppression holds, per reason, from its last confirmation: an address unknown a year ago
 * may exist again (providers recycle abandoned addresses). An expired entry is kept, with its history,
 * but no longer suppresses; sent to again and refused again, it is confirmed and holds anew. A reason
 * without an expiry holds for good, as every entry did before expiry (the default: {@link #NONE}).
 */
public final class SuppressionExpiry {
    /** Every entry holds for good. */
    public static final SuppressionExpiry NONE = new SuppressionExpiry(ImmutableSortedMap.of());

    private final ImmutableSortedMap<String, Duration> byReason;

    private SuppressionExpiry(ImmutableSortedMap<String, Duration> byReason) {
        this.byReason = byReason;
    }

    /** @param byReason a positive duration per reason, such as {@code userunknown: 365d} */
    public static SuppressionExpiry of(Map<String, Duration> byReason) {
        Preconditions.checkNotNull(byReason, "byReason");
        byReason.forEach((reason, d) -> Preconditions.checkArgument(d != null && !d.isNegative() && !d.isZero(),
                "expiry of %s must be positive: %s", reason, d));
        return new SuppressionExpiry(ImmutableSortedMap.copyOf(byReason));
    }

    /** The durations by reason, in reason order. */
    public Map<String, Duration> byReason() {
        return byReason;
    }

    /** When {@code entry} stops suppressing: its last confirmation plus its reason's expiry; empty for good. */
    public Optional<Instant> expiresAt(SuppressionEntry entry) {
        Duration d = byReason.get(entry.reason());
        return d == null ? Optional.empty() : Optional.of(entry.lastConfirmed().plus(d));
    }

    /** Whether {@code entry} no longer suppresses at {@code now}. */
    public boolean isExpired(SuppressionEntry entry, Instant now) {
        return expiresAt(entry).map(at -> !now.isBefore(at)).orElse(false);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SuppressionExpiry && ((SuppressionExpiry) o).byReason.equals(byReason);
    }

    @Override
    public int hashCode() {
        return byReason.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        byReason.forEach((reason, d) -> sb.append(sb.length() > 1 ? ", " : "").append(reason).append(": ")
                .append(Durations.format(d)));
        return sb.append('}').toString();
    }
}
