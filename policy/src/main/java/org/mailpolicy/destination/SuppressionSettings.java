package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Objects;

/** Where the suppression list lives. */
public final class SuppressionSettings {
    /** The kinds of store; an embedded H2 file is the default, a shared SQL database comes later. */
    public enum Store {
        H2;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final Path DEFAULT_PATH = Paths.get("var", "delivery-policy", "suppressions");

    private final Store store;
    private final Path path;

    private SuppressionSettings(Store store, Path path) {
        this.store = store;
        this.path = path;
    }

    public static SuppressionSettings of(Store store, Path path) {
        return new SuppressionSettings(Preconditions.checkNotNull(store, "store"), Preconditions.checkNotNull(path, "path"));
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

    /** {@link #path()} resolved against a working directory when it is relative. */
    public Path resolvedPath(Path workingDirectory) {
        return path.isAbsolute() ? path : workingDirectory.resolve(path);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SuppressionSettings && ((SuppressionSettings) o).store == store
                && ((SuppressionSettings) o).path.equals(path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(store, path);
    }

    @Override
    public String toString() {
        return "{store: " + store.id() + ", path: " + path + "}";
    }
}
