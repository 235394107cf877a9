package org.mailpolicy.james.dsn;

import java.util.Optional;
import org.apache.mailet.DsnParameters;

/** What of the original message the DSN carries back (RFC 3461 RET, bounded by size). */
enum ReturnContent {
    /** The whole message, as {@code message/rfc822}. */
    FULL_MESSAGE,
    /** Only its header section, as {@code text/rfc822-headers}. */
    HEADERS_ONLY;

    /**
     * RET=HDRS gives headers only. RET=FULL or no RET gives the full message unless it is larger
     * than {@code maxReturnSize}: a bounce should not mail a large attachment back to a sender who
     * still has it, and RFC 3461 section 4.3 lets the MTA return headers only in that case.
     */
    static ReturnContent choose(Optional<DsnParameters.Ret> ret, long messageSize, long maxReturnSize) {
        if (ret.isPresent() && ret.get() == DsnParameters.Ret.HDRS) {
            return HEADERS_ONLY;
        }
        return messageSize > maxReturnSize ? HEADERS_ONLY : FULL_MESSAGE;
    }
}
