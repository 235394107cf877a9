package org.mailpolicy.jdbc;

import com.google.common.base.Preconditions;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A throw-away PostgreSQL server ({@link LocalPostgres}) for one test class: started before its
 * first test, stopped after its last; the class is skipped, saying why, where none can be started.
 * Each test makes the databases it needs ({@link #createDatabase}).
 *
 * <pre>
 * &#64;RegisterExtension
 * static final PostgresServer POSTGRES = new PostgresServer();
 * </pre>
 */
public final class PostgresServer implements BeforeAllCallback, AfterAllCallback {
    private LocalPostgres server;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = LocalPostgres.startOrSkip();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (server != null) {
            LocalPostgres stopping = server;
            server = null;
            stopping.close();
        }
    }

    /** The server: only between the class's start and end, in a class that registers this as a static field. */
    public LocalPostgres server() {
        Preconditions.checkState(server != null, "no PostgreSQL server: register PostgresServer with @RegisterExtension on a static field");
        return server;
    }

    /** See {@link LocalPostgres#createDatabase}. */
    public String createDatabase(String prefix) {
        return server().createDatabase(prefix);
    }

    /** See {@link LocalPostgres#database}. */
    public SharedDatabase database(String name) {
        return server().database(name);
    }

    /** See {@link LocalPostgres#unpooled}. */
    public DataSource unpooled(String name) {
        return server().unpooled(name);
    }

    /** See {@link LocalPostgres#unpooledAdmin}. */
    public DataSource unpooledAdmin() {
        return server().unpooledAdmin();
    }

    @Override
    public String toString() {
        return server == null ? "PostgreSQL (not started)" : server.toString();
    }
}
