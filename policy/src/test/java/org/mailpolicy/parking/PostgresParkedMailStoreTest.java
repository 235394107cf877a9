package org.mailpolicy.parking;

import java.sql.Connection;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.mailpolicy.jdbc.LocalPostgres;

/**
 * The parked-mail contract on a real PostgreSQL server, where claims skip the rows another node has
 * locked (one server for the class, a fresh database per test). Skipped, saying why, where no
 * PostgreSQL can be started.
 */
class PostgresParkedMailStoreTest extends ParkedMailStoreContract {
    private static LocalPostgres server;
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @BeforeAll
    static void startServer() throws Exception {
        StringBuilder whyNot = new StringBuilder();
        Optional<LocalPostgres> started = LocalPostgres.start(whyNot);
        Assumptions.assumeTrue(started.isPresent(), "no PostgreSQL: " + whyNot);
        server = started.get();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    DataSource database() {
        String name = "parked_" + DATABASES.incrementAndGet() + "_" + ProcessHandle.current().pid();
        try (Connection c = server.admin().dataSource().getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE DATABASE " + name);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
        return server.database(name).dataSource();
    }
}
