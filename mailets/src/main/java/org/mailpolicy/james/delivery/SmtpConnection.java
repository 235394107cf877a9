package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import javax.mail.MessagingException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP connection, used by one delivery thread at a time: taken from {@link SmtpConnectionCache}
 * or opened, used for one mail, then given back to the cache, which keeps or closes it.
 */
final class SmtpConnection {
    private static final Logger LOGGER = LoggerFactory.getLogger(SmtpConnection.class);

    private final ConnectionKey key;
    private final String metricsName;
    private final ReplyRecordingTransport transport;
    private int transactions;
    private TlsUsed tls = TlsUsed.NONE;
    private boolean lastMailClean;
    private long idleNanos;

    SmtpConnection(ConnectionKey key, String metricsName, ReplyRecordingTransport transport) {
        this.key = Preconditions.checkNotNull(key, "key");
        this.metricsName = Preconditions.checkNotNull(metricsName, "metricsName");
        this.transport = Preconditions.checkNotNull(transport, "transport");
    }

    ConnectionKey key() {
        return key;
    }

    /** The destination's name in metrics. */
    String metricsName() {
        return metricsName;
    }

    ReplyRecordingTransport transport() {
        return transport;
    }

    /** The TLS this connection was opened with; a reused connection keeps it for every mail it carries. */
    TlsUsed tls() {
        return tls;
    }

    void tls(TlsUsed used) {
        this.tls = Preconditions.checkNotNull(used, "used");
    }

    /** Mail transactions started on this connection so far. */
    int transactions() {
        return transactions;
    }

    void transactionStarted() {
        transactions++;
    }

    /**
     * Whether the mail just sent left the connection with no transaction open: its last reply was positive (the
     * end of data accepted, or the 250 to the RSET JavaMail sends itself after a refused mail).
     */
    void mailEnded(boolean clean) {
        this.lastMailClean = clean;
    }

    /** Taken from the cache after sitting idle there for {@code nanos}. */
    void takenAfterIdle(long nanos) {
        this.idleNanos = nanos;
    }

    /**
     * Whether to send {@code RSET} before the next mail on this reused connection: when its last mail did not leave
     * it clean (a transaction may still be open on the server's side), or when it sat idle at least {@code
     * rsetAfterIdle}.
     */
    boolean needsRset(java.time.Duration rsetAfterIdle) {
        return !lastMailClean || idleNanos >= rsetAfterIdle.toNanos();
    }

    /** QUIT and close; never throws (the server may have gone already). */
    void close(String why) {
        LOGGER.debug("SMTP connection {} closed after {} transaction(s): {}", key, transactions, why);
        try {
            transport.close();
        } catch (MessagingException | RuntimeException e) {
            // James-899: QUIT failing after the transaction does not undo what the server accepted.
            LOGGER.debug("Closing SMTP connection {} failed: {}", key, e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "SmtpConnection{" + key + ", " + transactions + " transaction(s), tls " + tls + "}";
    }
}
