package org.mailpolicy.jdbc;

import com.google.common.base.Preconditions;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Objects;

/**
 * Where the shared store lives when several James nodes share suppressions and holds: a JDBC URL
 * (PostgreSQL: {@code jdbc:postgresql://db.example.net:5432/mail}), credentials and the size of each
 * node's connection pool. The PostgreSQL
 * driver jar goes next to the plugin in James's {@code extensions-jars/}; the engine itself has no
 * compile-time dependency on it. {@link #toString()} never shows the password.
 */
public final class SharedDatabase {
    static final String POSTGRESQL_DRIVER = "org.postgresql.Driver";
    private static final long CONNECTION_TIMEOUT_MILLIS = 10_000;
    /**
     * How long a statement may wait for the server's answer before its connection is given up: the
     * driver waits forever by default, so a connection the network dropped without a reset would hang a
     * delivery thread, or the cluster store's heartbeat holding a destination's lock, until the kernel's
     * TCP timeout (minutes to hours). The stores' longest statement, counting a domain of millions, takes
     * seconds. A {@code socketTimeout} in the URL wins.
     */
    static final int SOCKET_TIMEOUT_SECONDS = 60;
    private final String url;
    private final String user;
    private final String password;
    private final int maxConnections;

    private SharedDatabase(String url, String user, String password, int maxConnections) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.maxConnections = maxConnections;
    }

    /** @throws IllegalArgumentException naming the field that is missing or malformed */
    public static SharedDatabase of(String url, String user, String password) {
        Preconditions.checkArgument(url != null && url.startsWith("jdbc:"), "url must be a JDBC URL (jdbc:postgresql://host:port/db): '%s'", url);
        Preconditions.checkArgument(user != null && !user.isEmpty(), "user must not be empty");
        Preconditions.checkNotNull(password, "password");
        return new SharedDatabase(url, user, password, DEFAULT_MAX_CONNECTIONS);
    }

    public String url() {
        return url;
    }

    public String user() {
        return user;
    }

    /** Connections each node keeps to the database unless the policy says otherwise. */
    public static final int DEFAULT_MAX_CONNECTIONS = 10;

    /**
     * How many connections this node's pool keeps open at most (and at least: the pool is fixed, as
     * HikariCP advises, so a burst never waits for a connection to be opened).
     */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * The same database with a pool of {@code maxConnections}.
     *
     * @throws IllegalArgumentException unless 1 <= {@code maxConnections} <= 1000
     */
    public SharedDatabase withMaxConnections(int maxConnections) {
        Preconditions.checkArgument(maxConnections >= 1 && maxConnections <= 1000,
                "maxConnections must be between 1 and 1000: %s", maxConnections);
        return new SharedDatabase(url, user, password, maxConnections);
    }

    /**
     * A pool of connections, opened at the first use and closed by the caller. Pooled, because a
     * PostgreSQL connection is a backend process of the server: opening one per operation (a few
     * per delivery attempt) costs more than the statement, and the driver's cache of prepared
     * statements lives with its connection.
     */
    HikariDataSource pooledDataSource() {
        return pooledDataSource(SOCKET_TIMEOUT_SECONDS);
    }

    HikariDataSource pooledDataSource(int socketTimeoutSeconds) {
        HikariDataSource pool = new HikariDataSource();
        pool.setPoolName("delivery-policy");
        pool.setJdbcUrl(url);
        pool.setUsername(user);
        pool.setPassword(password);
        pool.setMaximumPoolSize(maxConnections);
        // A store operation waiting longer than this for a connection is better reported than queued.
        pool.setConnectionTimeout(CONNECTION_TIMEOUT_MILLIS);
        // The stores' transactions are written for READ COMMITTED (lock a row, then read what others committed
        // by then; no retry of serialization failures): a server whose default is stricter must not change that.
        pool.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        if (url.startsWith("jdbc:postgresql:")) {
            pool.setDriverClassName(postgresqlDriver(this).getName());
            if (!url.contains("socketTimeout=")) {
                pool.addDataSourceProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
            }
        }
        return pool;
    }

    /**
     * James loads plugins from extensions-jars/ through its own class loader, which neither
     * DriverManager's service lookup nor the delivery threads' context class loader searches: the
     * driver is loaded from ours.
     */
    private static Class<?> postgresqlDriver(SharedDatabase db) {
        try {
            return Class.forName(POSTGRESQL_DRIVER, true, SharedDatabase.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new StoreException("cannot use " + db + ": the PostgreSQL JDBC driver (" + POSTGRESQL_DRIVER + ") is not on the class path: "
                    + "put postgresql-42.x.jar next to the plugin in James's extensions-jars/", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SharedDatabase && ((SharedDatabase) o).url.equals(url) && ((SharedDatabase) o).user.equals(user)
                && ((SharedDatabase) o).password.equals(password) && ((SharedDatabase) o).maxConnections == maxConnections;
    }

    @Override
    public int hashCode() {
        return Objects.hash(url, user, password, maxConnections);
    }

    @Override
    public String toString() {
        return url + " as " + user;
    }
}
