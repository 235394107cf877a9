package org.mailpolicy.james.webadmin;

import java.util.OptionalLong;

/**
 * When an operator ends a hold, the mails the hold postponed must go now: the delivery mailet put
 * them back in its queue until the hold's end (up to hours with AOL's holds), and clearing the
 * hold's state alone would leave them waiting there.
 */
@FunctionalInterface
public interface HeldMailRelease {
    /** For deployments whose queue cannot be managed: the held mail goes when the hold would have ended. */
    HeldMailRelease NONE = destination -> OptionalLong.empty();

    /**
     * Makes the queued mails of {@code destination} that wait for a later time due now.
     *
     * @return how many mails were brought forward; empty when the queue cannot be managed
     */
    OptionalLong bringForward(String destination);
}
