package org.mailpolicy.james.bounces;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;

/**
 * One per-recipient report found in a bounce: who, what the reporting server did (RFC 3464
 * {@code Action}), and the status and diagnostic it gave. All of it is remote, untrusted text:
 * control characters are replaced and lengths bounded before it is kept.
 */
public final class BouncedRecipient {
    static final int MAX_TEXT = 1000;

    private final String address;
    private final String action;
    private final String status;
    private final String diagnostic;

    private BouncedRecipient(String address, String action, String status, String diagnostic) {
        this.address = address;
        this.action = action;
        this.status = status;
        this.diagnostic = diagnostic;
    }

    /**
     * @param address    the Final-Recipient address (as given; validated where it is used)
     * @param action     RFC 3464 action: failed, delayed, delivered, relayed, expanded (any case)
     * @param status     the Status field's code, if any, such as {@code 5.1.1}
     * @param diagnostic the Diagnostic-Code text without its type, or the human reason line; may be empty
     */
    public static BouncedRecipient of(String address, String action, Optional<String> status, String diagnostic) {
        Preconditions.checkArgument(address != null && !address.trim().isEmpty(), "address must not be empty");
        Preconditions.checkArgument(action != null && !action.trim().isEmpty(), "action must not be empty");
        Preconditions.checkNotNull(status, "status");
        Preconditions.checkNotNull(diagnostic, "diagnostic");
        return new BouncedRecipient(clean(address), clean(action).toLowerCase(Locale.ROOT),
                status.map(BouncedRecipient::clean).orElse(null), clean(diagnostic));
    }

    static String clean(String text) {
        String t = CharMatcher.javaIsoControl().replaceFrom(text, ' ').trim();
        return t.length() > MAX_TEXT ? t.substring(0, MAX_TEXT) : t;
    }

    public String address() {
        return address;
    }

    /** Lower case. */
    public String action() {
        return action;
    }

    /** Only a failure may teach us anything permanent; delays, relays and deliveries never suppress. */
    public boolean isFailed() {
        return "failed".equals(action);
    }

    public Optional<String> status() {
        return Optional.ofNullable(status);
    }

    public String diagnostic() {
        return diagnostic;
    }

    /**
     * The text to classify: the diagnostic, which holds the remote server's own reply; the status
     * code when there is no diagnostic (it still says 5.1.1 or 4.2.2).
     */
    public String replyText() {
        if (!diagnostic.isEmpty()) {
            return diagnostic;
        }
        return status == null ? "" : status;
    }

    /**
     * The reply to classify: the diagnostic, with the Status as its enhanced code when it carries
     * none of its own ({@link SmtpReply#fromReport}); whatever its type (the remote server's
     * {@code smtp;} reply or the reporting MTA's {@code X-Postfix;} prose), the parser reads it.
     */
    public SmtpReply reply() {
        return SmtpReply.fromReport(replyText(), status().flatMap(EnhancedStatus::parse));
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof BouncedRecipient)) {
            return false;
        }
        BouncedRecipient that = (BouncedRecipient) o;
        return address.equals(that.address) && action.equals(that.action) && Objects.equals(status, that.status)
                && diagnostic.equals(that.diagnostic);
    }

    @Override
    public int hashCode() {
        return Objects.hash(address, action, status, diagnostic);
    }

    @Override
    public String toString() {
        return address + " " + action + (status == null ? "" : " " + status) + ": " + diagnostic;
    }
}
