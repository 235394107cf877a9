package org.mailpolicy.jdbc;

import com.google.common.base.Preconditions;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Objects;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Where the shared store lives when several James nodes share suppressions and holds: a JDBC URL
 * (PostgreSQL: {@code jdbc:postgresql://db.example.net:5432/mail}) and credentials. The PostgreSQL
 * driver jar goes next to the plugin in James's {@code extensions-jars/}; the engine itself has no
 * compile-time dependency on it. {@link #toString()} never shows the password.
 */
public final class SharedDatabase {
    static final String POSTGRESQL_DRIVER = "org.postgresql.Driver";
    private final String url;
    private final String user;
    private final String password;

    private SharedDatabase(String url, String user, String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /** @throws IllegalArgumentException naming the field that is missing or malformed */
    public static SharedDatabase of(String url, String user, String password) {
        Preconditions.checkArgument(url != null && url.startsWith("jdbc:"), "url must be a JDBC URL (jdbc:postgresql://host:port/db): '%s'", url);
        Preconditions.checkArgument(user != null && !user.isEmpty(), "user must not be empty");
        Preconditions.checkNotNull(password, "password");
        return new SharedDatabase(url, user, password);
    }

    public String url() {
        return url;
    }

    public String user() {
        return user;
    }

    /**
     * A DataSource opening one connection per operation. Enough for the store's short transactions
     * next to SMTP round trips; put a pooler (PgBouncer) in front for large clusters.
     */
    public DataSource dataSource() {
        return new DriverManagerDataSource(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SharedDatabase && ((SharedDatabase) o).url.equals(url) && ((SharedDatabase) o).user.equals(user)
                && ((SharedDatabase) o).password.equals(password);
    }

    @Override
    public int hashCode() {
        return Objects.hash(url, user, password);
    }

    @Override
    public String toString() {
        return url + " as " + user;
    }

    private static final class DriverManagerDataSource implements DataSource {
        private final SharedDatabase db;

        DriverManagerDataSource(SharedDatabase db) {
            this.db = db;
        }

        @Override
        public Connection getConnection() throws SQLException {
            registerDriver();
            return DriverManager.getConnection(db.url, db.user, db.password);
        }

        /**
         * James loads plugins from extensions-jars/ through its own class loader, which
         * DriverManager's service lookup does not search: load the driver from ours, which registers it.
         */
        private void registerDriver() throws SQLException {
            if (!db.url.startsWith("jdbc:postgresql:")) {
                return;
            }
            try {
                Class.forName(POSTGRESQL_DRIVER, true, SharedDatabase.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new SQLException("the PostgreSQL JDBC driver (" + POSTGRESQL_DRIVER + ") is not on the class path: "
                        + "put postgresql-42.x.jar next to the plugin in James's extensions-jars/", e);
            }
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return DriverManager.getConnection(db.url, username, password);
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }

        @Override
        public String toString() {
            return db.toString();
        }
    }
}
