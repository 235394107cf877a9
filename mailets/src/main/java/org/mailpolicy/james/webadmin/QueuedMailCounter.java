package org.mailpolicy.james.webadmin;

import java.util.OptionalLong;

/**
 * How many queued mails wait for a destination, where the deployment can tell (the delivery
 * mailet knows its own queue); {@link #UNKNOWN} otherwise, and the route then shows null.
 */
@FunctionalInterface
public interface QueuedMailCounter {
    QueuedMailCounter UNKNOWN = destination -> OptionalLong.empty();

    OptionalLong queued(String destination);
}
