package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.jdbc.SharedDatabase;

/**
 * The policy file's {@code suppression:} block: where the plugin keeps what it must remember, that
 * is the suppression list, the sent-message ledger and the destination holds. An embedded H2 file
 * for one James node, or a PostgreSQL database that several nodes share.
 */
public final class StoreSettings {
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

    private StoreSettings(Store store, Path path, SharedDatabase database) {
        this.store = store;
        this.path = path;
        this.database = database;
    }

    /** An embedded H2 store at {@code path}. */
    public static StoreSettings of(Store store, Path path) {
        Preconditions.checkNotNull(store, "store");
        Preconditions.checkArgument(store == Store.H2, "store %s needs a database, not a path", store.id());
        return new StoreSettings(store, Preconditions.checkNotNull(path, "path"), null);
    }

    /** A PostgreSQL database shared by every James node: suppressions, sent messages and destination holds. */
    public static StoreSettings postgresql(SharedDatabase database) {
        return new StoreSettings(Store.POSTGRESQL, DEFAULT_PATH, Preconditions.checkNotNull(database, "database"));
    }

    public static StoreSettings defaults() {
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
        return o instanceof StoreSettings && ((StoreSettings) o).store == store
                && ((StoreSettings) o).path.equals(path) && Objects.equals(((StoreSettings) o).database, database);
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
