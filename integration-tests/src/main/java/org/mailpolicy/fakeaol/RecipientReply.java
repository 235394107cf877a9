package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

/** One RCPT TO and the fake's reply to it. */
public record RecipientReply(String address, String reply) {
    public RecipientReply {
        requireNonNull(address, "address");
        requireNonNull(reply, "reply");
    }
}
