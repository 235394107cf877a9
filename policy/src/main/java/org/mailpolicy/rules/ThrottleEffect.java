package org.mailpolicy.rules;

/**
 * What a throttle reply asks of the whole destination. The receiver's words say which resource it
 * ran out of, so the signal decides what shrinks: pausing everything for a "you are blocked for a
 * while" that lowering the rate would not cure, lowering the message rate for "too much mail",
 * opening fewer connections for "too many connections".
 */
public enum ThrottleEffect {
    /** Stop sending for the hold, then one probe: the receiver penalises the sender for a time. */
    HOLD(true, false),
    /** Send more slowly from now on: the receiver counts messages per time. */
    SLOW(false, true),
    /** Both: AOL's {@code DYN:T1} and {@code RLY:NW} ask for a pause and a lower rate after it. */
    HOLD_AND_SLOW(true, true),
    /** Open fewer connections at once; the refused message is tried again soon, nothing is held. */
    FEWER_CONNECTIONS(false, false);

    private final boolean holds;
    private final boolean slows;

    ThrottleEffect(boolean holds, boolean slows) {
        this.holds = holds;
        this.slows = slows;
    }

    /** Whether the destination is held (no attempt until the hold ends, then one probe). */
    public boolean holds() {
        return holds;
    }

    /** Whether the destination's effective rate is cut. */
    public boolean slows() {
        return slows;
    }

    /** The name in a rules file: {@code hold}, {@code slow}, {@code hold-and-slow}, {@code fewer-connections}. */
    public String fileName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
