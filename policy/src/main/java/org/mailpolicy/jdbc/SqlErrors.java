package org.mailpolicy.jdbc;

import java.sql.SQLException;

/** What the JDBC stores need to know about an SQLException, the same on H2 and PostgreSQL. */
public final class SqlErrors {
    /** SQLSTATE class 23: integrity constraint violation (a duplicate key among them). */
    private static final String INTEGRITY_VIOLATION_CLASS = "23";

    private SqlErrors() {
    }

    /**
     * Whether an insert lost a race to an equal key. The stores insert and catch this rather than
     * check first, so the first writer wins on every database without a vendor's upsert syntax.
     */
    public static boolean isDuplicateKey(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            String state = x.getSQLState();
            if (state != null && state.startsWith(INTEGRITY_VIOLATION_CLASS)) {
                return true;
            }
        }
        return false;
    }
}
