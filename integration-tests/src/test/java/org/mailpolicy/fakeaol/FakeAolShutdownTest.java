package org.mailpolicy.fakeaol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/** Closing the fake while SLOW holds a greeting back: the shutdown does not wait out the 30 s delay. */
class FakeAolShutdownTest {

    @Test
    void closeDoesNotWaitForAGreetingHeldBackBySlow() throws IOException {
        FakeAol aol = FakeAol.start(FakeAolSettings.ephemeralPorts());
        int port = aol.smtpPort();
        aol.setMode(Mode.SLOW);
        assertThat(aol.mode().setting().delay()).isEqualTo(Duration.ofSeconds(30));
        try (RawSmtpClient waiting = RawSmtpClient.connect(port, 20_000)) {
            // Wait until the session is really inside the delay, so the close has something to interrupt.
            try (RawSmtpClient probe = RawSmtpClient.connect(port, 200)) {
                assertThatThrownBy(probe::readReply).isInstanceOf(SocketTimeoutException.class);
            }

            // A generous bound: what matters is not waiting out the 30 s delay.
            assertTimeoutPreemptively(Duration.ofSeconds(10), aol::close);

            assertThat(waiting.readReply()).doesNotStartWith("220");
        }
        assertThatThrownBy(() -> RawSmtpClient.connect(port)).isInstanceOf(ConnectException.class);
    }
}
