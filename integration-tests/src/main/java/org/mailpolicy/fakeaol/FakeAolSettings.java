package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.mailpolicy.tls.TestCertificates;

/**
 * Where and how a {@link FakeAol} runs. Both servers bind 127.0.0.1 only: the fake must never be reachable from another
 * machine. Port 0 picks a free port.
 *
 * @param smtpPort         SMTP port, 0 for an ephemeral one
 * @param controlPort      HTTP control port, 0 for an ephemeral one
 * @param maxMessageBytes  larger messages get {@code 552 Message exceeds maximum fixed size}; AOL's limit is 16 MB
 * @param clock            drives mode expiry and the rate windows; tests may pass a clock they move by hand
 * @param startTls         when present, EHLO offers STARTTLS and the handshake presents this context's certificate
 * @param requiredLogin    when present, EHLO offers AUTH PLAIN LOGIN and MAIL FROM needs this login first, as a
 *                         smarthost that relays for its customers does
 */
public record FakeAolSettings(int smtpPort, int controlPort, long maxMessageBytes, Clock clock,
                              Optional<SSLContext> startTls, Optional<Login> requiredLogin) {

    /** A user name and password the fake accepts with SMTP AUTH (RFC 4954). */
    public record Login(String user, String password) {
        public Login {
            requireNonNull(user, "user");
            requireNonNull(password, "password");
        }
    }

    public FakeAolSettings {
        checkPort(smtpPort, "smtpPort");
        checkPort(controlPort, "controlPort");
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("maxMessageBytes must be positive, was " + maxMessageBytes);
        }
        requireNonNull(clock, "clock");
        requireNonNull(startTls, "startTls");
        requireNonNull(requiredLogin, "requiredLogin");
    }

    /** Both ports ephemeral, AOL's 16 MB limit, the system clock, no STARTTLS. */
    public static FakeAolSettings ephemeralPorts() {
        return ports(0, 0);
    }

    public static FakeAolSettings ports(int smtpPort, int controlPort) {
        return new FakeAolSettings(smtpPort, controlPort, AolReplies.MAX_MESSAGE_BYTES, Clock.systemUTC(),
                Optional.empty(), Optional.empty());
    }

    public FakeAolSettings withClock(Clock newClock) {
        return new FakeAolSettings(smtpPort, controlPort, maxMessageBytes, newClock, startTls, requiredLogin);
    }

    public FakeAolSettings withMaxMessageBytes(long newMaxMessageBytes) {
        return new FakeAolSettings(smtpPort, controlPort, newMaxMessageBytes, clock, startTls, requiredLogin);
    }

    /** EHLO offers STARTTLS, and the handshake presents {@code context}'s certificate (AOL's relays offer it). */
    public FakeAolSettings withStartTls(SSLContext context) {
        return new FakeAolSettings(smtpPort, controlPort, maxMessageBytes, clock, Optional.of(context), requiredLogin);
    }

    /** EHLO offers AUTH, and mail is taken only on a connection that logged in as {@code user} with {@code password}. */
    public FakeAolSettings withRequiredLogin(String user, String password) {
        return new FakeAolSettings(smtpPort, controlPort, maxMessageBytes, clock, startTls,
                Optional.of(new Login(user, password)));
    }

    /**
     * EHLO offers STARTTLS with a new self-signed certificate for AOL's relay name, as most MX hosts on the Internet
     * present: opportunistic TLS takes it, verified TLS does not. Made with keytool and openssl in a temporary folder.
     */
    public FakeAolSettings withSelfSignedStartTls() throws IOException {
        try {
            return withStartTls(TestCertificates.inTemporaryFolder()
                    .selfSigned(AolReplies.RELAY_HOST, "dns:" + AolReplies.RELAY_HOST).serverContext());
        } catch (GeneralSecurityException e) {
            throw new IOException("the self-signed certificate could not be loaded: " + e.getMessage(), e);
        }
    }

    private static void checkPort(int port, String name) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " must be between 0 and 65535, was " + port);
        }
    }
}
