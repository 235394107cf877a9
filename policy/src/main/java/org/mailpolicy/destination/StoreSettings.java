package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.mailpolicy.jdbc.SharedDatabase;
import org.mailpolicy.suppression.SuppressionExpiry;

/**
 * The policy file's {@code suppression:} block: where the plugin keeps what it must remember, that
 * is the suppression list, the sent-message ledger and the destination holds (an embedded H2 file
 * for one James node, or a PostgreSQL database that several nodes share), and how long a suppression
 * holds per reason ({@link #expiry()}).
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
    private final SuppressionExpiry expiry;
    private final Egress egress;

    private StoreSettings(Store store, Path path, SharedDatabase database, SuppressionExpiry expiry, Egress egress) {
        this.store = store;
        this.path = path;
        this.database = database;
        this.expiry = expiry;
        this.egress = egress;
    }

    /** An embedded H2 store at {@code path}. */
    public static StoreSettings of(Store store, Path path) {
        Preconditions.checkNotNull(store, "store");
        Preconditions.checkArgument(store == Store.H2, "store %s needs a database, not a path", store.id());
        return new StoreSettings(store, Preconditions.checkNotNull(path, "path"), null, SuppressionExpiry.NONE, Egress.DEFAULT);
    }

    /** A PostgreSQL database shared by every James node: suppressions, sent messages and destination holds. */
    public static StoreSettings postgresql(SharedDatabase database) {
        return new StoreSettings(Store.POSTGRESQL, DEFAULT_PATH, Preconditions.checkNotNull(database, "database"),
                SuppressionExpiry.NONE, Egress.DEFAULT);
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

    /** These settings with suppressions that expire as {@code e} says. */
    public StoreSettings withExpiry(SuppressionExpiry e) {
        return new StoreSettings(store, path, database, Preconditions.checkNotNull(e, "expiry"), egress);
    }

    /** These settings for a node sending from {@code e}: its holds, probes and rate counts are kept under that egress. */
    public StoreSettings withEgress(Egress e) {
        return new StoreSettings(store, path, database, expiry, Preconditions.checkNotNull(e, "egress"));
    }

    /** The policy's {@code egress}: which rows of the destination state this node's attempts count against. */
    public Egress egress() {
        return egress;
    }

    /** How long a suppression holds per reason, from its last confirmation; {@link SuppressionExpiry#NONE} by default. */
    public SuppressionExpiry expiry() {
        return expiry;
    }

    /** {@link #path()} resolved against a working directory when it is relative. */
    public Path resolvedPath(Path workingDirectory) {
        return path.isAbsolute() ? path : workingDirectory.resolve(path);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoreSettings && ((StoreSettings) o).store == store
                && ((StoreSettings) o).path.equals(path) && Objects.equals(((StoreSettings) o).database, database)
                && ((StoreSettings) o).expiry.equals(expiry) && ((StoreSettings) o).egress.equals(egress);
    }

    @Override
    public int hashCode() {
        return Objects.hash(store, path, database, expiry, egress);
    }

    @Override
    public String toString() {
        String expire = (expiry.equals(SuppressionExpiry.NONE) ? "" : ", expire: " + expiry)
                + (egress.equals(Egress.DEFAULT) ? "" : ", egress: " + egress);
        return database == null ? "{store: " + store.id() + ", path: " + path + expire + "}"
                : "{store: " + store.id() + ", " + database + expire + "}";
    }
}
