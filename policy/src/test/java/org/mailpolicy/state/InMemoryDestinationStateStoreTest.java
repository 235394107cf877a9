package org.mailpolicy.state;

import java.time.Duration;

class InMemoryDestinationStateStoreTest extends DestinationStateStoreContract {
    @Override
    protected DestinationStateStore newStore(Duration busyWait, Duration idleAfter) {
        return new InMemoryDestinationStateStore(busyWait, idleAfter);
    }
}
