package org.mailpolicy.state;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.UUID;
import org.h2.jdbcx.JdbcConnectionPool;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.DestinationStateStoreContract;

/**
 * The SQL store passes every test the in-memory store passes, on H2 behind a connection pool as the
 * embedded mode runs it (in memory here: the file is {@code PolicyRuntimeTest}'s business).
 */
class JdbcDestinationStateStoreTest extends DestinationStateStoreContract {
    @Override
    protected DestinationStateStore newStore(Duration busyWait, Duration idleAfter) {
        JdbcConnectionPool h2 = JdbcConnectionPool.create("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "sa", "");
        return JdbcDestinationStateStore.on(Database.on(h2, "H2 in memory", true)).clock(Clock.fixed(T0, ZoneOffset.UTC)).busyWait(busyWait)
                .idleAfter(idleAfter).open();
    }
}
