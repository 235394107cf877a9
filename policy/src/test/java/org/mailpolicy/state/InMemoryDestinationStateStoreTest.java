package org.mailpolicy.state;

import java.time.Duration;

class InMemoryDestinationStateStoreTest extends DestinationStateStoreContract {
    @Override
    protected DestinationStateStore newStore(Duration busyWait) {
        return new InMemoryDestinationStateStore(busyWait);
    }
}
