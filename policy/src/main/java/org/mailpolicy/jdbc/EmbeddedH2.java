package org.mailpolicy.jdbc;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The embedded H2 database the suppression list and the sent-message ledger share by default. The
 * data source is made directly, not through DriverManager, because the plugin jar relocates H2's
 * packages and its driver registration with them.
 */
final class EmbeddedH2 {
    /** H2's page cache for the embedded file, in KB. */
    static final int CACHE_KB = 64 * 1024;

    private EmbeddedH2() {
    }

    /**
     * A pool on the database file at {@code fileBase} (H2 adds {@code .mv.db}), created if missing.
     * Within one JVM every pool on the same file shares one open database.
     */
    static JdbcConnectionPool pool(Path fileBase, int maxConnections) {
        Preconditions.checkNotNull(fileBase, "fileBase");
        JdbcDataSource h2 = new JdbcDataSource();
        // The JVM shutdown hook must not close the database under James while it still stores mail
        // outcomes; AUTO_SERVER off: one process owns the file. CACHE_SIZE (KB): H2's page cache, 16 MB by
        // default, held the upper levels of a 10-million-entry suppression table's B-tree only in part, so a
        // listed address's look-up decoded more than its leaf page; 64 MB keeps them (heap it may use).
        h2.setURL("jdbc:h2:file:" + fileBase.toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE;AUTO_SERVER=FALSE;CACHE_SIZE="
                + CACHE_KB);
        h2.setUser("sa");
        h2.setPassword("");
        JdbcConnectionPool pool = JdbcConnectionPool.create(h2);
        pool.setMaxConnections(maxConnections);
        return pool;
    }
}
