package org.mailpolicy.james.delivery;

import com.sun.mail.smtp.SMTPTransport;
import java.util.Optional;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.URLName;

/**
 * JavaMail's SMTP transport, remembering the last real reply the server sent. JavaMail overwrites
 * {@link #getLastServerResponse()} with {@code [EOF]} when the server hangs up, and drops a
 * refusal such as {@code 421 4.7.0 DYN:T1 ... closing} when the hang-up fails the next command:
 * this keeps it.
 */
final class ReplyRecordingTransport extends SMTPTransport {
    private String lastReply;

    ReplyRecordingTransport(Session session, URLName url, boolean ssl) {
        super(session, url, ssl ? "smtps" : "smtp", ssl);
    }

    @Override
    protected synchronized int readServerResponse() throws MessagingException {
        int code = super.readServerResponse();
        if (code > 0) {
            lastReply = getLastServerResponse();
        }
        return code;
    }

    /** The last reply with a code the server sent, even if the connection was lost after it. */
    synchronized Optional<String> lastReply() {
        return Optional.ofNullable(lastReply);
    }
}
