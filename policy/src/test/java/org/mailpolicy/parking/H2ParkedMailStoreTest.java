package org.mailpolicy.parking;

import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

/** The parked-mail contract on an in-memory H2 database (the embedded store's engine): always runs. */
class H2ParkedMailStoreTest extends ParkedMailStoreContract {
    @Override
    DataSource database() {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        h2.setUser("sa");
        h2.setPassword("");
        return h2;
    }
}
