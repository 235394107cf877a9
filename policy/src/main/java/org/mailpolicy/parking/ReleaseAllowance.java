package org.mailpolicy.parking;

import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.state.DestinationState;

/**
 * How many of a destination's due parked mails a releaser may put on the queue now. The queue should
 * hold no more of a destination's mail than its admission will let through soon, so that nothing goes
 * round the queue to be refused and parked again:
 * <ul>
 *   <li>held: none; the mail stays parked until the hold ends;</li>
 *   <li>the hold is over but no attempt has succeeded since (the probe is due or running): one at a
 *   time, the probe;</li>
 *   <li>otherwise: up to {@value #WINDOW_PER_SLOT} times the destination's current concurrency
 *   (its pace, which shrinks after throttling), counting those already released and not finished.
 *   Twice, so that the next mail is on the queue when an attempt ends, and no more: admission's rate
 *   limit refuses the rest, and each refusal parks a mail again.</li>
 * </ul>
 */
public final class ReleaseAllowance {
    public static final int WINDOW_PER_SLOT = 2;

    private ReleaseAllowance() {
    }

    /**
     * @param state       the destination's state, empty when the store remembers none (never throttled, or idle)
     * @param outstanding its mails released and not yet finished ({@link ParkedMailStore#outstanding})
     */
    public static int of(Optional<DestinationState> state, DestinationPolicy policy, int outstanding, Instant now) {
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkArgument(outstanding >= 0, "outstanding must not be negative: %s", outstanding);
        if (!state.isPresent()) {
            return Math.max(0, WINDOW_PER_SLOT * policy.concurrency() - outstanding);
        }
        DestinationState s = state.get();
        if (s.isHeldAt(now)) {
            return 0;
        }
        if (s.heldUntil().isPresent() || s.probing()) {
            return Math.max(0, 1 - outstanding);
        }
        int concurrency = Math.max(1, s.paceUnder(policy, now).concurrency());
        return Math.max(0, WINDOW_PER_SLOT * concurrency - outstanding);
    }
}
