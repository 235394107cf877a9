package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import org.mailpolicy.destination.ConnectionSettings;
import org.mailpolicy.destination.TlsSettings;

/**
 * What one attempt may do with connections: which destination they count against (the state key, as
 * admission counts it), the name its metrics go by, the policy's reuse settings, and how many
 * connections may be open to the destination now, idle ones included (its effective concurrency, from
 * the admission that let the attempt start).
 */
public final class ConnectionTerms {
    private final String destinationKey;
    private final String metricsName;
    private final ConnectionSettings settings;
    private final int maxOpen;
    private final TlsSettings tls;

    private ConnectionTerms(String destinationKey, String metricsName, ConnectionSettings settings, int maxOpen,
                            TlsSettings tls) {
        this.destinationKey = Preconditions.checkNotNull(destinationKey, "destinationKey");
        this.metricsName = Preconditions.checkNotNull(metricsName, "metricsName");
        this.settings = Preconditions.checkNotNull(settings, "settings");
        Preconditions.checkArgument(maxOpen >= 1, "maxOpen must be at least 1: %s", maxOpen);
        this.maxOpen = maxOpen;
        this.tls = Preconditions.checkNotNull(tls, "tls");
    }

    public static ConnectionTerms of(String destinationKey, String metricsName, ConnectionSettings settings,
                                     int maxOpen) {
        return new ConnectionTerms(destinationKey, metricsName, settings, maxOpen, TlsSettings.DEFAULT);
    }

    /** These terms with the destination's TLS settings (the default: opportunistic). */
    public ConnectionTerms withTls(TlsSettings settings) {
        return new ConnectionTerms(destinationKey, metricsName, this.settings, maxOpen, settings);
    }

    /** One connection per attempt, closed after it: for callers that know no destination (tests, tools). */
    public static ConnectionTerms singleUse() {
        return new ConnectionTerms("-", "-", ConnectionSettings.NO_REUSE, Integer.MAX_VALUE, TlsSettings.DEFAULT);
    }

    String destinationKey() {
        return destinationKey;
    }

    String metricsName() {
        return metricsName;
    }

    ConnectionSettings settings() {
        return settings;
    }

    int maxOpen() {
        return maxOpen;
    }

    TlsSettings tls() {
        return tls;
    }

    @Override
    public String toString() {
        return "ConnectionTerms{" + destinationKey + ", " + settings + ", maxOpen " + maxOpen + ", " + tls + "}";
    }
}
