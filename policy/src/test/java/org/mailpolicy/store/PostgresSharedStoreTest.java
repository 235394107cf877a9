package org.mailpolicy.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.PostgresServer;
import org.mailpolicy.jdbc.SharedDatabase;
import org.mailpolicy.jdbc.StoreException;
import org.mailpolicy.state.JdbcDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;

/**
 * The shared-store contract on a real PostgreSQL server (one server for the class, a fresh database
 * per test). Skipped, saying why, where no PostgreSQL can be started.
 */
class PostgresSharedStoreTest extends SharedStoreContract {
    @RegisterExtension
    static final PostgresServer POSTGRES = new PostgresServer();

    @Override
    DataSource database() {
        return POSTGRES.unpooled(POSTGRES.createDatabase("shared_store"));
    }

    @Override
    boolean addsSeenAtOnce() {
        return false; // each node's index follows the feed
    }

    @Test
    void schemaCreationIsRepeatableOnAnExistingDatabase() {
        DataSource db = database();
        JdbcDestinationStateStore.open(Database.on(db, "test database"));
        JdbcDestinationStateStore.open(Database.on(db, "test database"));
        try (JdbcSuppressionList a = JdbcSuppressionList.open(Database.on(db, "test database")); JdbcSuppressionList b = JdbcSuppressionList.open(Database.on(db, "test database"))) {
            assertThat(b.count(Optional.empty())).isZero();
        }
    }

    @Test
    void unreachableDatabaseIsAClearError() {
        SharedDatabase nowhere = SharedDatabase.of("jdbc:postgresql://127.0.0.1:1/none", "postgres", "secret");
        assertThatThrownBy(() -> JdbcDestinationStateStore.open(Database.open(nowhere)))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("jdbc:postgresql://127.0.0.1:1/none")
                .hasMessageNotContaining("secret");
    }

    @Test
    void theClusterDatabaseIsUsedThroughAPoolOfItsSize() {
        DataSource plain = database();
        String name;
        try (Connection c = plain.getConnection()) {
            name = c.getCatalog();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        try (Database db = Database.open(POSTGRES.database(name).withMaxConnections(2))) {
            java.util.Set<Integer> backends = new java.util.HashSet<>();
            for (int i = 0; i < 20; i++) {
                backends.add(db.withConnection("read the backend", c -> {
                    try (Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                        rs.next();
                        return rs.getInt(1);
                    }
                }));
            }
            // Without a pool each operation is a new backend process of the server.
            assertThat(backends).hasSizeBetween(1, 2);
            int open = db.withConnection("count connections", c -> {
                try (Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
            assertThat(open).isLessThanOrEqualTo(2);
        }
    }

    /**
     * PostgreSQL only: nodes of a cluster share it, and its "IF NOT EXISTS" is no guard against another
     * node's CREATE at the same moment. (H2 is one process's embedded file; its stores open one by one.)
     */
    @Test
    void nodesStartedTogetherOnANewDatabaseAllStart() throws Exception {
        DataSource db = database();
        int nodes = 4;
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(nodes);
        java.util.concurrent.ExecutorService starting = java.util.concurrent.Executors.newFixedThreadPool(nodes);
        try {
            java.util.List<java.util.concurrent.Future<?>> started = new java.util.ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                started.add(starting.submit(() -> {
                    together.await();
                    Database shared = Database.on(db, "test database");
                    try (JdbcSuppressionList list = JdbcSuppressionList.open(shared);
                         JdbcSentMessageLedger ledger = JdbcSentMessageLedger.open(shared);
                         JdbcDestinationStateStore state = node(db, "default")) {
                        org.mailpolicy.parking.JdbcParkedMailStore.open(shared, Duration.ofMinutes(5), Duration.ofMinutes(5));
                        return list.find("bob@aol.com");
                    }
                }));
            }
            for (java.util.concurrent.Future<?> node : started) {
                assertThat(node.get()).isEqualTo(Optional.empty());
            }
        } finally {
            starting.shutdownNow();
        }
    }
}
