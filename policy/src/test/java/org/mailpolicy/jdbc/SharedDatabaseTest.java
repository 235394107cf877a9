package org.mailpolicy.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The pool on a real PostgreSQL. */
class SharedDatabaseTest {
    @RegisterExtension
    static final PostgresServer POSTGRES = new PostgresServer();

    @Test
    void aStatementTheServerDoesNotAnswerFailsAfterTheSocketTimeoutInsteadOfHanging() throws Exception {
        SharedDatabase db = POSTGRES.database(POSTGRES.createDatabase("socket_timeout"));
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
        SharedDatabase db = POSTGRES.database(POSTGRES.createDatabase("socket_timeout_default"));
        try (HikariDataSource pool = db.pooledDataSource(); Connection c = pool.getConnection();
             Statement st = c.createStatement()) {
            assertThat(st.execute("SELECT pg_sleep(1.5)")).isTrue();
            assertThat(SharedDatabase.SOCKET_TIMEOUT_SECONDS).isGreaterThan(1);
        }
    }
}
