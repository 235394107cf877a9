package org.mailpolicy.parking;

import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.mailpolicy.jdbc.LocalPostgres;

/**
 * The parked-mail contract on a real PostgreSQL server, where claims skip the rows another node has
 * locked (one server for the class, a fresh database per test). Skipped, saying why, where no
 * PostgreSQL can be started.
 */
class PostgresParkedMailStoreTest extends ParkedMailStoreContract {
    private static LocalPostgres server;

    @BeforeAll
    static void startServer() throws Exception {
        server = LocalPostgres.startOrSkip();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    DataSource database() {
        return server.unpooled(server.createDatabase("parked"));
    }
}
