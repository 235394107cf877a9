package org.mailpolicy.james.webadmin;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import java.util.Map;
import java.util.Optional;

/**
 * How many queued mails wait for each destination, where the deployment can tell;
 * {@link #UNKNOWN} otherwise, and the route then shows null.
 */
@FunctionalInterface
public interface QueuedMailCounter {
    QueuedMailCounter UNKNOWN = Optional::empty;

    /** One snapshot for all destinations (a queue is browsed once per request); empty when unknown. */
    Optional<Counts> count();

    /** Mails per destination name; {@code complete} is false when browsing stopped at its bound. */
    final class Counts {
        private final ImmutableMap<String, Long> byDestination;
        private final boolean complete;

        private Counts(Map<String, Long> byDestination, boolean complete) {
            this.byDestination = ImmutableMap.copyOf(byDestination);
            this.complete = complete;
        }

        public static Counts of(Map<String, Long> byDestination, boolean complete) {
            return new Counts(Preconditions.checkNotNull(byDestination, "byDestination"), complete);
        }

        /** Zero for a destination with nothing queued. */
        public long of(String destination) {
            return byDestination.getOrDefault(destination, 0L);
        }

        public boolean complete() {
            return complete;
        }

        @Override
        public String toString() {
            return byDestination + (complete ? "" : " (first part of the queue only)");
        }
    }
}
