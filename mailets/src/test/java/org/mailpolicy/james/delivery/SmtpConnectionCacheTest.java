package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import javax.mail.Session;
import org.apache.mailet.HostAddress;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.ConnectionSettings;
import org.mailpolicy.destination.TlsSettings;

/** The cache's bookkeeping, with connections that were never opened (closing one sends nothing). */
class SmtpConnectionCacheTest {
    private static final ConnectionSettings TWENTY = ConnectionSettings.of(20, Duration.ofSeconds(2));
    private static final Session SESSION = Session.getInstance(new Properties());
    private static final HostAddress MX1 = new HostAddress("mx1.test", "smtp://192.0.2.1:25");
    private static final HostAddress MX2 = new HostAddress("mx2.test", "smtp://192.0.2.2:25");

    private static final TlsSettings.Level OPPORTUNISTIC = TlsSettings.Level.OPPORTUNISTIC;

    private final AtomicLong nanos = new AtomicLong();
    private final SmtpConnectionCache cache = new SmtpConnectionCache(nanos::get, Optional.empty());

    private SmtpConnection reserve(HostAddress host, int maxOpen) {
        return cache.reserve(ConnectionKey.of("aol", host, OPPORTUNISTIC), "aol", maxOpen, new ReplyRecordingTransport(SESSION, host, false));
    }

    private static SmtpConnection used(SmtpConnection c, int transactions) {
        for (int i = 0; i < transactions; i++) {
            c.transactionStarted();
        }
        return c;
    }

    @Test
    void aConnectionGivenBackIsTakenAgainForTheSameHostOnly() {
        SmtpConnection c = used(reserve(MX1, 5), 1);
        cache.giveBack(c, true, null, TWENTY, 5);

        assertThat(cache.take(ConnectionKey.of("aol", MX2, OPPORTUNISTIC), 5)).isEmpty();
        assertThat(cache.take(ConnectionKey.of("yahoo", MX1, OPPORTUNISTIC), 5)).isEmpty();
        // A host in plaintext fallback never gets the connection opened with TLS, nor a verified attempt one
        // opened under opportunistic TLS.
        assertThat(cache.take(ConnectionKey.of("aol", MX1, TlsSettings.Level.NONE), 5)).isEmpty();
        assertThat(cache.take(ConnectionKey.of("aol", MX1, TlsSettings.Level.VERIFIED), 5)).isEmpty();
        assertThat(cache.take(ConnectionKey.of("aol", MX1, OPPORTUNISTIC), 5)).containsSame(c);
        assertThat(cache.openTo("aol")).isEqualTo(1);
        assertThat(cache.idleTo("aol")).isZero();
    }

    @Test
    void openConnectionsIdleOnesIncludedStayWithinTheBound() {
        SmtpConnection a = used(reserve(MX1, 2), 1);
        SmtpConnection b = used(reserve(MX1, 2), 1);
        cache.giveBack(a, true, null, TWENTY, 2);
        cache.giveBack(b, true, null, TWENTY, 2);
        assertThat(cache.idleTo("aol")).isEqualTo(2);

        // A new connection to another host closes the oldest idle one first.
        SmtpConnection c = reserve(MX2, 2);
        assertThat(cache.openTo("aol")).isEqualTo(2);
        assertThat(cache.take(ConnectionKey.of("aol", MX1, OPPORTUNISTIC), 2)).containsSame(b);

        // The bound shrank to 1 (a "too many connections" cut): given back, they are closed, not kept.
        cache.giveBack(used(c, 1), true, null, TWENTY, 1);
        cache.giveBack(b, true, null, TWENTY, 1);
        assertThat(cache.openTo("aol")).isEqualTo(1);
    }

    @Test
    void notKeptAtTheMessageLimitWhenNotReusableOrAfterTheIdleTimeout() {
        cache.giveBack(used(reserve(MX1, 5), 20), true, null, TWENTY, 5);
        cache.giveBack(used(reserve(MX1, 5), 1), false, "the server said 421", TWENTY, 5);
        assertThat(cache.openTo("aol")).isZero();

        cache.giveBack(used(reserve(MX1, 5), 1), true, null, TWENTY, 5);
        nanos.addAndGet(Duration.ofMillis(1999).toNanos());
        cache.closeExpired();
        assertThat(cache.idleTo("aol")).isEqualTo(1);
        nanos.addAndGet(Duration.ofMillis(1).toNanos());
        assertThat(cache.take(ConnectionKey.of("aol", MX1, OPPORTUNISTIC), 5)).isEmpty();
        assertThat(cache.openTo("aol")).isZero();
    }

    @Test
    void aDiscardedConnectionNoLongerCountsAndCloseEmptiesTheCache() {
        SmtpConnection failed = reserve(MX1, 5);
        cache.discard(failed, "connect failed");
        assertThat(cache.openTo("aol")).isZero();

        cache.giveBack(used(reserve(MX1, 5), 1), true, null, TWENTY, 5);
        SmtpConnection inUse = reserve(MX2, 5);
        cache.close();
        assertThat(cache.idleTo("aol")).isZero();
        cache.giveBack(used(inUse, 1), true, null, TWENTY, 5);
        assertThat(cache.openTo("aol")).isZero();
    }
}
