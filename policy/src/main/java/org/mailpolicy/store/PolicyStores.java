package org.mailpolicy.store;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.time.Clock;
import org.mailpolicy.destination.StoreSettings;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.state.JdbcDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;

/**
 * The stores a policy's {@code suppression:} block names, opened together over one
 * {@link Database}: the suppression list, the sent-message ledger and the destination state, in
 * the embedded H2 file of one node (holds survive a restart) or in a cluster's PostgreSQL. One
 * pool serves all three; {@link #close()} releases it.
 */
public final class PolicyStores implements AutoCloseable {
    private final Database database;
    private final JdbcSuppressionList suppressions;
    private final JdbcSentMessageLedger sentMessages;
    private final JdbcDestinationStateStore destinations;

    private PolicyStores(Database database, JdbcSuppressionList suppressions, JdbcSentMessageLedger sentMessages,
                         JdbcDestinationStateStore destinations) {
        this.database = database;
        this.suppressions = suppressions;
        this.sentMessages = sentMessages;
        this.destinations = destinations;
    }

    /**
     * Opens the database {@code settings} names, creating the tables that are missing.
     *
     * @param workingDirectory what a relative H2 path resolves against (James's working directory)
     * @throws org.mailpolicy.jdbc.StoreException naming the database when it cannot be opened or written
     */
    public static PolicyStores open(StoreSettings settings, Path workingDirectory) {
        return open(settings, workingDirectory, Clock.systemUTC());
    }

    /** As {@link #open(StoreSettings, Path)}; {@code clock} judges the suppressions' expiry. */
    public static PolicyStores open(StoreSettings settings, Path workingDirectory, Clock clock) {
        Preconditions.checkNotNull(settings, "settings");
        Database db = settings.store() == StoreSettings.Store.POSTGRESQL
                ? Database.open(settings.database().get())
                : Database.openH2(settings.resolvedPath(workingDirectory));
        try {
            return new PolicyStores(db, JdbcSuppressionList.open(db, settings.expiry(), clock), JdbcSentMessageLedger.open(db),
                    JdbcDestinationStateStore.open(db));
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** Where the stores live, as errors name it (never a password). */
    public Database database() {
        return database;
    }

    public JdbcSuppressionList suppressions() {
        return suppressions;
    }

    public JdbcSentMessageLedger sentMessages() {
        return sentMessages;
    }

    /**
     * Holds, probes, pacing, concurrency and rate per destination key. On one node the embedded file
     * is this process's alone, so the leases and probes a crash left behind are dropped at open.
     */
    public JdbcDestinationStateStore destinations() {
        return destinations;
    }

    @Override
    public void close() {
        database.close();
    }

    @Override
    public String toString() {
        return "PolicyStores{" + database + "}";
    }
}
