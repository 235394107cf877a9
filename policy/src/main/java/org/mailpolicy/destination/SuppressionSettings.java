package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.jdbc.SharedDatabase;

/**
 * Where the suppression list (and, with a shared database, the sent-message ledger and the
 * destination holds) lives.
 */
public final class SuppressionSettings {
    /** The kinds of store: an embedded H2 file (the default, one James node), or PostgreSQL shared by several nodes. */
    public enum Store {
        H2,
        POSTGRESQL;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final Path DEFAULT_PATH = Paths.get("var", "delivery-policy", "suppressions");

    private final Store store;
    private final Path path;
    private final SharedDatabase database;

    private SuppressionSettings(Store store, Path path, SharedDatabase database) {
        this.store = store;
        this.path = path;
        this.database = database;
    }

    /** An embedded H2 store at {@code path}. */
    public static SuppressionSettings of(Store store, Path path) {
        Preconditions.checkNotNull(store, "store");
        Preconditions.checkArgument(store == Store.H2, "store %s needs a database, not a path", store.id());
        return new SuppressionSettings(store, Preconditions.checkNotNull(path, "path"), null);
    }

    /** A PostgreSQL database shared by every James node: suppressions, sent messages and destination holds. */
    public static SuppressionSettings postgresql(SharedDatabase database) {
        return new SuppressionSettings(Store.POSTGRESQL, DEFAULT_PATH, Preconditions.checkNotNull(database, "database"));
    }

    public static SuppressionSettings defaults() {
        return of(Store.H2, DEFAULT_PATH);
    }

    public Store store() {
        return store;
    }

    /** The H2 file base (H2 adds {@code .mv.db}); relative paths are relative to James's working directory. */
    public Path path() {
        return path;
    }

    /** The shared database, for {@link Store#POSTGRESQL}. */
    public Optional<SharedDatabase> database() {
        return Optional.ofNullable(database);
    }

    /** {@link #path()} resolved against a working directory when it is relative. */
    public Path resolvedPath(Path workingDirectory) {
        return path.isAbsolute() ? path : workingDirectory.resolve(path);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SuppressionSettings && ((SuppressionSettings) o).store == store
                && ((SuppressionSettings) o).path.equals(path) && Objects.equals(((SuppressionSettings) o).database, database);
    }

    @Override
    public int hashCode() {
        return Objects.hash(store, path, database);
    }

    @Override
    public String toString() {
        return database == null ? "{store: " + store.id() + ", path: " + path + "}"
                : "{store: " + store.id() + ", " + database + "}";
    }
}
