package org.mailpolicy.fakeaol;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the fake does at one stage of a conversation: reply and go on, reply and close (every 421, per RFC 5321 4.2.2,
 * and AOL's greeting rejections), or close without any reply (a dropped connection).
 */
final class ServerAction {
    /** Compiled once: every reply the fake gives passes here (String.matches would compile it each time). */
    private static final Pattern SMTP_REPLY = Pattern.compile("[2-5][0-9][0-9][ -].*");

    private enum Then { CONTINUE, CLOSE }

    private static final ServerAction HANG_UP = new ServerAction(Optional.empty(), Then.CLOSE, false);
    private static final ServerAction ACCEPT_THEN_HANG_UP = new ServerAction(Optional.empty(), Then.CLOSE, true);

    private final Optional<String> reply;
    private final Then then;
    private final boolean acceptsSilently;

    private ServerAction(Optional<String> reply, Then then) {
        this(reply, then, false);
    }

    private ServerAction(Optional<String> reply, Then then, boolean acceptsSilently) {
        this.reply = reply;
        this.then = then;
        this.acceptsSilently = acceptsSilently;
    }

    /** The reply; a 421 always closes the connection afterwards, as SMTP servers announce with that code. */
    static ServerAction reply(String reply) {
        checkReply(reply);
        return new ServerAction(Optional.of(reply), reply.startsWith("421") ? Then.CLOSE : Then.CONTINUE);
    }

    static ServerAction replyAndClose(String reply) {
        checkReply(reply);
        return new ServerAction(Optional.of(reply), Then.CLOSE);
    }

    static ServerAction hangUp() {
        return HANG_UP;
    }

    /**
     * At the end of DATA: keep the message as accepted, then close without any reply, as a relay that crashes (or whose
     * link fails) after committing the message. The client cannot tell this from {@link #hangUp()}; retrying delivers the
     * message twice, the one duplicate SMTP cannot prevent (RFC 1047).
     */
    static ServerAction acceptThenHangUp() {
        return ACCEPT_THEN_HANG_UP;
    }

    Optional<String> replyText() {
        return reply;
    }

    boolean closes() {
        return then == Then.CLOSE;
    }

    boolean isPositive() {
        return reply.map(r -> r.startsWith("2")).orElse(false);
    }

    /** At the end of DATA: whether the message is kept, with a positive reply or silently. */
    boolean acceptsMessage() {
        return acceptsSilently || isPositive();
    }

    /** The three-digit code, for SubEtha's rejection API, which takes the code and the text separately. */
    int code() {
        return Integer.parseInt(reply.orElseThrow(() -> new IllegalStateException("no reply")).substring(0, 3));
    }

    /** The text after the code. */
    String textAfterCode() {
        return reply.orElseThrow(() -> new IllegalStateException("no reply")).substring(4);
    }

    private static void checkReply(String reply) {
        if (reply == null || !SMTP_REPLY.matcher(reply).matches()) {
            throw new IllegalArgumentException("not an SMTP reply: " + reply);
        }
    }

    @Override
    public String toString() {
        return (acceptsSilently ? "(accepted, no reply)" : reply.orElse("(no reply)"))
                + (then == Then.CLOSE ? " then close" : "");
    }
}
