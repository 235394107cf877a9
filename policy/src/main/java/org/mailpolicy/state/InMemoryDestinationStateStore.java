package org.mailpolicy.state;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;

/** {@link DestinationStateStore} for one James node, in memory; thread-safe. */
public final class InMemoryDestinationStateStore implements DestinationStateStore {

    public InMemoryDestinationStateStore() {
    }

    @Override
    public Admission admit(DestinationPolicy policy, Instant now) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public void finished(String destination, Instant now) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public DestinationState recordThrottle(DestinationPolicy policy, String reply, Optional<Duration> hint, Instant now) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public DestinationState recordSuccess(DestinationPolicy policy, String reply, Instant now) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public DestinationState recordFailure(DestinationPolicy policy, String reply, Instant now) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public Optional<DestinationState> get(String destination) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public List<DestinationState> all() {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public boolean releaseHold(String destination) {
        throw new UnsupportedOperationException("not yet written");
    }
}
