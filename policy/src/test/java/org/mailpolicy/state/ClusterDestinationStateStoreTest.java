package org.mailpolicy.state;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.UUID;
import org.h2.jdbcx.JdbcConnectionPool;
import org.mailpolicy.jdbc.Database;

/**
 * The cluster store (leases, admission in memory) passes every test the other stores pass, on H2 as
 * a database shared by several processes would be (no leases dropped on open); heartbeats run on
 * the operations, by the tests' time line. The two-node tests on PostgreSQL are in
 * {@link ClusterLeaseTest}.
 */
class ClusterDestinationStateStoreTest extends DestinationStateStoreContract {
    @Override
    protected DestinationStateStore newStore(Duration busyWait, Duration idleAfter) {
        JdbcConnectionPool h2 = JdbcConnectionPool.create("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "sa", "");
        JdbcDestinationStateStore db = JdbcDestinationStateStore.on(Database.on(h2, "H2 in memory", false))
                .clock(Clock.fixed(T0, ZoneOffset.UTC)).busyWait(busyWait).idleAfter(idleAfter).open();
        return ClusterDestinationStateStore.over(db, Duration.ofSeconds(1), Duration.ofSeconds(30), false);
    }
}
