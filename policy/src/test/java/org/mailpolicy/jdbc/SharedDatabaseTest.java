package org.mailpolicy.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The pool on a real PostgreSQL. */
class SharedDatabaseTest {
    private static LocalPostgres postgres;

    @BeforeAll
    static void start() throws Exception {
        postgres = LocalPostgres.startOrSkip();
    }

    @AfterAll
    static void stop() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void aStatementTheServerDoesNotAnswerFailsAfterTheSocketTimeoutInsteadOfHanging() throws Exception {
        SharedDatabase db = postgres.database(postgres.createDatabase("socket_timeout"));
        try (HikariDataSource pool = db.pooledDataSource(1); Connection c = pool.getConnection();
             Statement st = c.createStatement()) {
            long start = System.nanoTime();
            // The server is busy for 30 s, as one whose network went away would never answer at all.
            assertThatThrownBy(() -> st.execute("SELECT pg_sleep(30)")).isInstanceOf(SQLException.class);
            assertThat((System.nanoTime() - start) / 1_000_000_000.0).isLessThan(15);
        }
    }

    @Test
    void theDefaultSocketTimeoutLeavesOrdinaryStatementsAlone() throws Exception {
        SharedDatabase db = postgres.database(postgres.createDatabase("socket_timeout_default"));
        try (HikariDataSource pool = db.pooledDataSource(); Connection c = pool.getConnection();
             Statement st = c.createStatement()) {
            assertThat(st.execute("SELECT pg_sleep(1.5)")).isTrue();
            assertThat(SharedDatabase.SOCKET_TIMEOUT_SECONDS).isGreaterThan(1);
        }
    }
}
