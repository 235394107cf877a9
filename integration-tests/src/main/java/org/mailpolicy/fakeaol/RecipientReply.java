package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

/**
 * One RCPT TO and the fake's reply to it.
 *
 * @param parameters what followed the path, as sent (for example {@code NOTIFY=FAILURE ORCPT=rfc822;bob@example.net}), or
 *                   an empty string
 */
public record RecipientReply(String address, String reply, String parameters) {
    public RecipientReply {
        requireNonNull(address, "address");
        requireNonNull(reply, "reply");
        requireNonNull(parameters, "parameters");
    }

    /** A RCPT TO without parameters. */
    public RecipientReply(String address, String reply) {
        this(address, reply, "");
    }
}
