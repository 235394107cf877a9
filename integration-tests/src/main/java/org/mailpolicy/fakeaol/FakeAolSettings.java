package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.time.Clock;

/**
 * Where and how a {@link FakeAol} runs. Both servers bind 127.0.0.1 only: the fake must never be reachable from another
 * machine. Port 0 picks a free port.
 *
 * @param smtpPort         SMTP port, 0 for an ephemeral one
 * @param controlPort      HTTP control port, 0 for an ephemeral one
 * @param maxMessageBytes  larger messages get {@code 552 Message exceeds maximum fixed size}; AOL's limit is 16 MB
 * @param clock            drives mode expiry and the rate windows; tests may pass a clock they move by hand
 */
public record FakeAolSettings(int smtpPort, int controlPort, long maxMessageBytes, Clock clock) {

    public FakeAolSettings {
        checkPort(smtpPort, "smtpPort");
        checkPort(controlPort, "controlPort");
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("maxMessageBytes must be positive, was " + maxMessageBytes);
        }
        requireNonNull(clock, "clock");
    }

    /** Both ports ephemeral, AOL's 16 MB limit, the system clock. */
    public static FakeAolSettings ephemeralPorts() {
        return ports(0, 0);
    }

    public static FakeAolSettings ports(int smtpPort, int controlPort) {
        return new FakeAolSettings(smtpPort, controlPort, AolReplies.MAX_MESSAGE_BYTES, Clock.systemUTC());
    }

    public FakeAolSettings withClock(Clock newClock) {
        return new FakeAolSettings(smtpPort, controlPort, maxMessageBytes, newClock);
    }

    public FakeAolSettings withMaxMessageBytes(long newMaxMessageBytes) {
        return new FakeAolSettings(smtpPort, controlPort, newMaxMessageBytes, clock);
    }

    private static void checkPort(int port, String name) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " must be between 0 and 65535, was " + port);
        }
    }
}
