package org.mailpolicy.state;

import java.time.Instant;

/**
 * The attempts a store saw start to one destination within the last rate period (the period of
 * the policy's rate ceiling), as far as the rules of {@link DestinationTransitions} need them.
 */
public interface RecentStarts {
    /** How many started within the period ending now. */
    int count();

    /**
     * When fewer than {@code limit} of them will remain within a period ending then: the instant
     * the {@code count() - limit + 1}-th oldest leaves it. Only asked when {@code count() >= limit}.
     */
    Instant whenFewerThan(int limit);
}
