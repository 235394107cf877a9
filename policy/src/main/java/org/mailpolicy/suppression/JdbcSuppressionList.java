package org.mailpolicy.suppression;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** {@link SuppressionList} over JDBC: embedded H2 by default, any SQL database with a DataSource. */
public final class JdbcSuppressionList implements SuppressionList {

    private JdbcSuppressionList() {
    }

    /** Opens (creating if needed) the H2 database at {@code fileBase} (H2 adds {@code .mv.db}). */
    public static JdbcSuppressionList openH2(Path fileBase) {
        throw new UnsupportedOperationException("not yet written");
    }

    /** Uses a DataSource the caller owns (and closes); creates the table if it is missing. */
    public static JdbcSuppressionList open(DataSource dataSource) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public Optional<SuppressionEntry> find(String address) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public boolean add(SuppressionEntry entry) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public boolean remove(String address) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public List<SuppressionEntry> list(Optional<String> domain, int offset, int limit) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public long count(Optional<String> domain) {
        throw new UnsupportedOperationException("not yet written");
    }

    @Override
    public void close() {
    }
}
