package org.mailpolicy.jdbc;

import java.sql.SQLException;

/** What the JDBC stores need to know about an SQLException, the same on H2 and PostgreSQL. */
public final class SqlErrors {
    /** SQLSTATE class 23: integrity constraint violation (a duplicate key among them). */
    private static final String INTEGRITY_VIOLATION_CLASS = "23";

    /** PostgreSQL's duplicate_table and duplicate_object. */
    private static final java.util.Set<String> DUPLICATE_OBJECT_STATES = java.util.Set.of("42P07", "42710");

    private SqlErrors() {
    }

    /**
     * Whether a {@code CREATE ... IF NOT EXISTS} (or {@code CREATE OR REPLACE}) failed because another
     * process created the same object at the same moment. PostgreSQL checks "if not exists" before it
     * takes its catalog's locks, so of two nodes starting together on a new database one can fail with a
     * duplicate key in the catalog, a duplicate object, or "tuple concurrently updated" (H2, in one
     * process, with "object already exists"); once the other has committed, the same statement
     * succeeds (finds the object there).
     */
    public static boolean isConcurrentSchemaChange(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            String state = x.getSQLState();
            String message = String.valueOf(x.getMessage());
            if (state != null && (state.startsWith(INTEGRITY_VIOLATION_CLASS) || DUPLICATE_OBJECT_STATES.contains(state)
                    || message.contains("tuple concurrently updated") || message.contains("already exists"))) {
                return true;
            }
        }
        return false;
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
