package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.yaml.Durations;

/**
 * How SMTP connections to a destination use TLS (STARTTLS, RFC 3207): the {@link Level}, the trust store a
 * {@code verified} destination checks certificates against (and MTA-STS policies are fetched with), how long a host
 * whose handshake failed is sent plaintext under {@code opportunistic}, and whether MTA-STS (RFC 8461) is looked up.
 */
public final class TlsSettings {
    /** What TLS a connection must have. */
    public enum Level {
        /** Never STARTTLS, even when offered. */
        NONE,
        /**
         * STARTTLS whenever offered, any certificate accepted; after a failed handshake the host is sent plaintext for
         * {@link #plaintextFallback()}. What Postfix's {@code smtp_tls_security_level = may} does.
         */
        OPPORTUNISTIC,
        /** STARTTLS with any certificate, never plaintext: a host that offers none or fails the handshake is held. */
        REQUIRED,
        /** STARTTLS with the certificate chain and the MX host name checked against the trust store; never plaintext. */
        VERIFIED;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Whether a connection without TLS may carry mail. */
        public boolean allowsPlaintext() {
            return this == NONE || this == OPPORTUNISTIC;
        }

        /** The level named {@code word} (none, opportunistic, required, verified); empty for anything else. */
        public static Optional<Level> named(String word) {
            for (Level l : values()) {
                if (l.id().equals(word)) {
                    return Optional.of(l);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * Postfix keeps no memory of a failed handshake and falls back within the same session; one hour keeps a host
     * with a broken TLS stack from costing every mail a failed handshake, and is short enough that a fixed host gets
     * TLS again the same day.
     */
    public static final Duration DEFAULT_PLAINTEXT_FALLBACK = Duration.ofHours(1);

    /** Where RFC 8461 puts a domain's MTA-STS policy; {@code {domain}} is the recipient domain. */
    public static final String MTA_STS_POLICY_URL = "https://mta-sts.{domain}/.well-known/mta-sts.txt";

    /** Opportunistic, the JDK's trust store, a one-hour fallback, MTA-STS looked up. */
    public static final TlsSettings DEFAULT = new TlsSettings(Level.OPPORTUNISTIC, null, null,
            DEFAULT_PLAINTEXT_FALLBACK, true, MTA_STS_POLICY_URL);

    private final Level level;
    private final String trustStore;
    private final String trustStorePassword;
    private final Duration plaintextFallback;
    private final boolean mtaSts;
    private final String mtaStsPolicyUrl;

    private TlsSettings(Level level, String trustStore, String trustStorePassword, Duration plaintextFallback,
                        boolean mtaSts, String mtaStsPolicyUrl) {
        this.level = level;
        this.trustStore = trustStore;
        this.trustStorePassword = trustStorePassword;
        this.plaintextFallback = plaintextFallback;
        this.mtaSts = mtaSts;
        this.mtaStsPolicyUrl = mtaStsPolicyUrl;
    }

    /**
     * @param trustStore         a PKCS12 or JKS file; null for the JDK's own trust store
     * @param trustStorePassword its password; null for none
     * @throws IllegalArgumentException naming the setting out of range
     */
    public static TlsSettings of(Level level, String trustStore, String trustStorePassword, Duration plaintextFallback,
                                 boolean mtaSts) {
        return of(level, trustStore, trustStorePassword, plaintextFallback, mtaSts, MTA_STS_POLICY_URL);
    }

    /**
     * @param mtaStsPolicyUrl where a domain's MTA-STS policy is fetched, {@code {domain}} standing for the domain: RFC
     *                        8461's {@link #MTA_STS_POLICY_URL}, or another https URL for a test server or a proxy
     */
    public static TlsSettings of(Level level, String trustStore, String trustStorePassword, Duration plaintextFallback,
                                 boolean mtaSts, String mtaStsPolicyUrl) {
        Preconditions.checkArgument(mtaStsPolicyUrl != null && mtaStsPolicyUrl.startsWith("https://"),
                "mtaStsPolicyUrl must be an https:// URL: %s", mtaStsPolicyUrl);
        Preconditions.checkNotNull(level, "level");
        Preconditions.checkArgument(trustStore == null || !trustStore.trim().isEmpty(), "trustStore must not be empty");
        Preconditions.checkArgument(plaintextFallback != null && !plaintextFallback.isNegative()
                && !plaintextFallback.isZero(), "plaintextFallback must be positive: %s", plaintextFallback);
        return new TlsSettings(level, trustStore, trustStorePassword, plaintextFallback, mtaSts, mtaStsPolicyUrl);
    }

    public Level level() {
        return level;
    }

    /** This destination with another level, the rest kept. */
    public TlsSettings withLevel(Level other) {
        return new TlsSettings(other, trustStore, trustStorePassword, plaintextFallback, mtaSts, mtaStsPolicyUrl);
    }

    /** The trust store certificates are checked against; empty for the JDK's own. */
    public Optional<String> trustStore() {
        return Optional.ofNullable(trustStore);
    }

    public Optional<String> trustStorePassword() {
        return Optional.ofNullable(trustStorePassword);
    }

    /** How long, under {@code opportunistic}, a host whose TLS handshake failed is sent plaintext. */
    public Duration plaintextFallback() {
        return plaintextFallback;
    }

    /** Whether recipient domains' MTA-STS policies are looked up and followed. */
    public boolean mtaSts() {
        return mtaSts;
    }

    /** Where a domain's MTA-STS policy is fetched; {@code {domain}} stands for the recipient domain. */
    public String mtaStsPolicyUrl() {
        return mtaStsPolicyUrl;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TlsSettings)) {
            return false;
        }
        TlsSettings that = (TlsSettings) o;
        return level == that.level && Objects.equals(trustStore, that.trustStore)
                && Objects.equals(trustStorePassword, that.trustStorePassword)
                && plaintextFallback.equals(that.plaintextFallback) && mtaSts == that.mtaSts
                && mtaStsPolicyUrl.equals(that.mtaStsPolicyUrl);
    }

    @Override
    public int hashCode() {
        return Objects.hash(level, trustStore, trustStorePassword, plaintextFallback, mtaSts, mtaStsPolicyUrl);
    }

    @Override
    public String toString() {
        // The password is never printed.
        return "tls{" + level.id() + (trustStore == null ? "" : ", trustStore " + trustStore)
                + ", plaintextFallback " + Durations.format(plaintextFallback) + ", mtaSts " + (mtaSts ? "on" : "off")
                + "}";
    }
}
