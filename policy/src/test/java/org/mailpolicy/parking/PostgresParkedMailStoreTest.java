package org.mailpolicy.parking;

import javax.sql.DataSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mailpolicy.jdbc.PostgresServer;

/**
 * The parked-mail contract on a real PostgreSQL server, where claims skip the rows another node has
 * locked (one server for the class, a fresh database per test). Skipped, saying why, where no
 * PostgreSQL can be started.
 */
class PostgresParkedMailStoreTest extends ParkedMailStoreContract {
    @RegisterExtension
    static final PostgresServer POSTGRES = new PostgresServer();

    @Override
    DataSource database() {
        return POSTGRES.unpooled(POSTGRES.createDatabase("parked"));
    }
}
