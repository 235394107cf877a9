package org.mailpolicy.james.delivery;

import com.sun.mail.smtp.SMTPTransport;
import java.io.OutputStream;
import java.util.Optional;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.URLName;

/**
 * JavaMail's SMTP transport, remembering the last real reply the server sent. JavaMail overwrites
 * {@link #getLastServerResponse()} with {@code [EOF]} when the server hangs up, and drops a
 * refusal such as {@code 421 4.7.0 DYN:T1 ... closing} when the hang-up fails the next command:
 * this keeps it.
 *
 * <p>For connection reuse it also tells, without a round trip to the server, whether the connection
 * is still open (JavaMail's own {@link #isConnected()} sends a NOOP), whether the server ever said
 * {@code 421} (it is closing the channel: never reuse), and whether the current mail got as far as
 * DATA (before that, nothing can have been delivered, so the mail may go again on a fresh connection).
 */
final class ReplyRecordingTransport extends SMTPTransport {
    private static final int SERVICE_CLOSING = 421;

    private String lastReply;
    private boolean open;
    private boolean saidClosing;
    private boolean dataStarted;

    ReplyRecordingTransport(Session session, URLName url, boolean ssl) {
        super(session, url, ssl ? "smtps" : "smtp", ssl);
    }

    @Override
    protected synchronized int readServerResponse() throws MessagingException {
        int code = super.readServerResponse();
        if (code > 0) {
            lastReply = getLastServerResponse();
        }
        if (code == SERVICE_CLOSING) {
            saidClosing = true;
        }
        return code;
    }

    /** Every open and close goes through here, also JavaMail's own close after an I/O error. */
    @Override
    protected synchronized void setConnected(boolean connected) {
        super.setConnected(connected);
        this.open = connected;
    }

    @Override
    protected synchronized OutputStream data() throws MessagingException {
        dataStarted = true;
        return super.data();
    }

    @Override
    protected synchronized OutputStream bdat() throws MessagingException {
        dataStarted = true;
        return super.bdat();
    }

    /** A new mail starts on this connection: what the last one left behind must not be read as this one's. */
    synchronized void startMail() {
        lastReply = null;
        dataStarted = false;
    }

    /** The last reply with a code the server sent, even if the connection was lost after it. */
    synchronized Optional<String> lastReply() {
        return Optional.ofNullable(lastReply);
    }

    /** Whether the connection is open as far as JavaMail knows (no command is sent to find out). */
    synchronized boolean isOpen() {
        return open;
    }

    /** Whether the server answered 421 ("closing transmission channel") to anything on this connection. */
    synchronized boolean saidClosing() {
        return saidClosing;
    }

    /** Whether DATA (or BDAT) was sent for the current mail since {@link #startMail()}. */
    synchronized boolean dataStarted() {
        return dataStarted;
    }
}
