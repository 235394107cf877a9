package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.util.Objects;
import java.util.Optional;

/**
 * What TLS an SMTP connection had: none (plaintext), or the negotiated protocol and cipher suite and whether the
 * server's certificate chain and name were checked. Goes into the delivery log line and the per-destination metric.
 */
public final class TlsUsed {
    /** No TLS: the mail went in plaintext. */
    public static final TlsUsed NONE = new TlsUsed(null, null, false);
    /** Implicit TLS (smtps, port 465), negotiated inside JavaMail, which does not tell the details. */
    public static final TlsUsed IMPLICIT = new TlsUsed("smtps", "unknown", false);

    private final String protocol;
    private final String cipherSuite;
    private final boolean verified;

    private TlsUsed(String protocol, String cipherSuite, boolean verified) {
        this.protocol = protocol;
        this.cipherSuite = cipherSuite;
        this.verified = verified;
    }

    static TlsUsed of(String protocol, String cipherSuite, boolean verified) {
        return new TlsUsed(Preconditions.checkNotNull(protocol, "protocol"),
                Preconditions.checkNotNull(cipherSuite, "cipherSuite"), verified);
    }

    public boolean encrypted() {
        return protocol != null;
    }

    /** TLSv1.3 and the like; empty for plaintext. */
    public Optional<String> protocol() {
        return Optional.ofNullable(protocol);
    }

    public Optional<String> cipherSuite() {
        return Optional.ofNullable(cipherSuite);
    }

    /** Whether the certificate chain and the MX host name were checked against a trust store. */
    public boolean verified() {
        return verified;
    }

    /** For metric names: none, unverified or verified. */
    public String kind() {
        return !encrypted() ? "none" : verified ? "verified" : "unverified";
    }

    /** For the log line: {@code none}, or {@code TLSv1.3/TLS_AES_256_GCM_SHA384/unverified}. */
    @Override
    public String toString() {
        return !encrypted() ? "none" : protocol + "/" + cipherSuite + "/" + (verified ? "verified" : "unverified");
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TlsUsed)) {
            return false;
        }
        TlsUsed that = (TlsUsed) o;
        return verified == that.verified && Objects.equals(protocol, that.protocol)
                && Objects.equals(cipherSuite, that.cipherSuite);
    }

    @Override
    public int hashCode() {
        return Objects.hash(protocol, cipherSuite, verified);
    }
}
