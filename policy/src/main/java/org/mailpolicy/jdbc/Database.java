package org.mailpolicy.jdbc;

import com.google.common.base.Preconditions;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * The one SQL database the plugin's stores share: the embedded H2 file of one James node, or the
 * PostgreSQL database of a cluster. It hands out connections, runs a unit of work in one
 * transaction, and turns an {@link SQLException} into a {@link StoreException} that says what
 * failed and in which database. Every store goes through it, so commit, rollback and the error
 * text are written once.
 */
public final class Database implements AutoCloseable {
    /** Connections of the embedded pool: every delivery thread of a busy node plus WebAdmin. */
    static final int EMBEDDED_MAX_CONNECTIONS = 32;

    private final DataSource dataSource;
    /** The embedded file's pool, when this object opened it. */
    private final JdbcConnectionPool ownedPool;
    /** The shared database's pool, when this object opened it. */
    private final HikariDataSource ownedSharedPool;
    private final String description;
    private final boolean singleProcess;
    /** The embedded file's base path (H2 adds {@code .mv.db}); null for a database that is not one. */
    private final Path fileBase;

    private Database(DataSource dataSource, JdbcConnectionPool ownedPool, HikariDataSource ownedSharedPool,
                     String description, boolean singleProcess, Path fileBase) {
        this.dataSource = dataSource;
        this.ownedPool = ownedPool;
        this.ownedSharedPool = ownedSharedPool;
        this.description = description;
        this.singleProcess = singleProcess;
        this.fileBase = fileBase;
    }

    /**
     * The embedded H2 database file at {@code fileBase} (H2 adds {@code .mv.db}), created if
     * missing, with one pool that {@link #close()} releases. Only this process can open the file.
     */
    public static Database openH2(Path fileBase) {
        JdbcConnectionPool pool = EmbeddedH2.pool(fileBase, EMBEDDED_MAX_CONNECTIONS);
        return new Database(pool, pool, null, "H2 " + fileBase.toAbsolutePath(), true, fileBase.toAbsolutePath());
    }

    /**
     * The embedded file opened for one store alone ({@code open} makes the store, which then owns
     * the file): closed again when {@code open} fails, so a broken store never keeps the file locked.
     */
    public static <T> T openH2For(Path fileBase, java.util.function.Function<Database, T> open) {
        Database db = openH2(fileBase);
        try {
            return open.apply(db);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /**
     * A cluster's database, through a pool of {@link SharedDatabase#maxConnections()} connections
     * opened at the first use, which {@link #close()} closes.
     */
    public static Database open(SharedDatabase shared) {
        Preconditions.checkNotNull(shared, "shared");
        HikariDataSource pool = shared.pooledDataSource();
        // SharedDatabase prints its URL and user, never the password.
        return new Database(pool, null, pool, shared.toString(), false, null);
    }

    /**
     * A DataSource the caller owns and closes (tests, embedding applications). {@code description}
     * names it in errors: never a text that holds a password.
     */
    public static Database on(DataSource dataSource, String description) {
        return on(dataSource, description, false);
    }

    /**
     * As {@link #on(DataSource, String)}; {@code singleProcess} says the database belongs to this
     * process alone, as an embedded file does (see {@link #isSingleProcess()}).
     */
    public static Database on(DataSource dataSource, String description, boolean singleProcess) {
        Preconditions.checkNotNull(dataSource, "dataSource");
        Preconditions.checkArgument(description != null && !description.isEmpty(), "description must not be empty");
        return new Database(dataSource, null, null, description, singleProcess, null);
    }

    /**
     * Whether this process alone uses the database (the embedded file): then whatever was in flight
     * when the previous process stopped died with it.
     */
    public boolean isSingleProcess() {
        return singleProcess;
    }

    /**
     * The embedded file's base path, as given to {@link #openH2} (H2 adds {@code .mv.db}): stores may
     * keep files of their own beside it. Empty for any other database.
     */
    public java.util.Optional<Path> fileBase() {
        return java.util.Optional.ofNullable(fileBase);
    }

    /** A connection of the database's own; the caller closes it. */
    public Connection connection() throws SQLException {
        return dataSource.getConnection();
    }

    /** A unit of work on one connection. */
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} on one connection, in auto-commit mode; a failure becomes a
     * {@link StoreException} saying "cannot {@code what} in {@code this}".
     */
    public <T> T withConnection(String what, Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /**
     * Whether {@code table} exists, asked by reading no row of it (the same on H2, which keeps unquoted
     * names in upper case, and PostgreSQL, in lower case), on a connection of its own.
     */
    public boolean tableExists(String table) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.executeQuery("SELECT 1 FROM " + table + " WHERE 1 = 0").close();
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /** Times a schema change is tried when other processes make the same one at the same moment. */
    private static final int SCHEMA_TRIES = 5;

    /**
     * Runs {@code work}, statements that create what is missing ({@code CREATE ... IF NOT EXISTS}), as
     * {@link #withConnection}; when it fails because another node of a cluster created the same object at
     * the same moment ({@link SqlErrors#isConcurrentSchemaChange}), runs it again shortly after, when the
     * other's change is committed. So nodes started together on a new database all start.
     */
    public <T> T createSchema(String what, Work<T> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                return withConnection(what, work);
            } catch (StoreException e) {
                if (attempt >= SCHEMA_TRIES || !(e.getCause() instanceof SQLException)
                        || !SqlErrors.isConcurrentSchemaChange((SQLException) e.getCause())) {
                    throw e;
                }
            }
            try {
                Thread.sleep(50L * attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException("interrupted while trying to " + what + " in " + description + " again", e);
            }
        }
    }

    /** Runs {@code work} in one transaction on a connection of its own; see {@link #inTransaction(Connection, Work)}. */
    public <T> T inTransaction(String what, Work<T> work) {
        return withConnection(what, c -> inTransaction(c, work));
    }

    /**
     * Runs {@code work} in one transaction on {@code c}: committed when it returns, rolled back when
     * it throws (the exception goes on unchanged, so a caller can tell a lost race from a failure),
     * and the connection's auto-commit mode restored either way, since pools hand it on.
     */
    public static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** The error a store throws: what it could not do, in which database, and the driver's words. */
    public StoreException failure(String what, SQLException e) {
        return new StoreException("cannot " + what + " in " + description + ": " + e.getMessage(), e);
    }

    /**
     * Closes the embedded database and rewrites its file without the old copies of pages that H2
     * keeps for a while after each save (after a large import the file holds several times the
     * live data). Nothing else in the process may be using it. A caller's DataSource is only left
     * alone, as by {@link #close()}.
     */
    public void compactAndClose() {
        if (ownedPool == null) {
            return;
        }
        try (Connection c = ownedPool.getConnection(); Statement st = c.createStatement()) {
            st.execute("SHUTDOWN COMPACT");
        } catch (SQLException e) {
            throw failure("compact", e);
        } finally {
            ownedPool.dispose();
        }
    }

    /** Releases the embedded file or the shared database's pool when this object opened it; a caller's DataSource is left alone. */
    @Override
    public void close() {
        if (ownedPool != null) {
            ownedPool.dispose();
        }
        if (ownedSharedPool != null) {
            ownedSharedPool.close();
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
