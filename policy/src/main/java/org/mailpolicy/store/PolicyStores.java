package org.mailpolicy.store;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.time.Clock;
import org.mailpolicy.destination.StoreSettings;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.parking.JdbcParkedMailStore;
import org.mailpolicy.parking.ParkedMailStore;
import org.mailpolicy.state.ClusterDestinationStateStore;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.JdbcDestinationStateStore;
import org.mailpolicy.state.SingleNodeDestinationStateStore;
import org.mailpolicy.suppression.BatchingSentMessageLedger;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SentMessageLedger;

/**
 * The stores a policy's {@code suppression:} block names, opened together over one
 * {@link Database}: the suppression list, the sent-message ledger and the destination state, in
 * the embedded H2 file of one node (holds survive a restart) or in a cluster's PostgreSQL. One
 * pool serves all three; {@link #close()} releases it.
 */
public final class PolicyStores implements AutoCloseable {
    private final Database database;
    private final JdbcSuppressionList suppressions;
    private final SentMessageLedger sentMessages;
    private final DestinationStateStore destinations;
    private final ParkedMailStore parked;

    private PolicyStores(Database database, JdbcSuppressionList suppressions, SentMessageLedger sentMessages,
                         DestinationStateStore destinations, ParkedMailStore parked) {
        this.database = database;
        this.parked = parked;
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
            JdbcSuppressionList suppressions = JdbcSuppressionList.open(db, settings.expiry(), clock);
            JdbcSentMessageLedger sentMessages = JdbcSentMessageLedger.open(db);
            JdbcDestinationStateStore jdbcDestinations = JdbcDestinationStateStore.on(db).egress(settings.egress()).open();
            DestinationStateStore destinations = db.isSingleProcess()
                    ? SingleNodeDestinationStateStore.over(jdbcDestinations, clock) : ClusterDestinationStateStore.over(jdbcDestinations);
            // Created even when the policy keeps waits in the queue: a policy switched back must still see what was parked.
            ParkedMailStore parked = JdbcParkedMailStore.open(db);
            // Read only when a bounce comes back: written in batches, off the delivery threads.
            return new PolicyStores(db, suppressions, BatchingSentMessageLedger.over(sentMessages), destinations, parked);
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

    public SentMessageLedger sentMessages() {
        return sentMessages;
    }

    /**
     * Holds, probes, pacing, concurrency and rate per destination key. On one node (the embedded
     * file) admission is in memory and holds and pace are written through
     * ({@link SingleNodeDestinationStateStore}); in a cluster each node admits in memory within
     * concurrency slots it leases from the shared database, and holds, probes and pace are
     * transactions on it ({@link ClusterDestinationStateStore}).
     */
    public DestinationStateStore destinations() {
        return destinations;
    }

    /** The schedule of parked mail ({@code waits: in: parked}), in the same database. */
    public ParkedMailStore parked() {
        return parked;
    }

    @Override
    public void close() {
        try {
            if (destinations instanceof ClusterDestinationStateStore) {
                // Gives this node's leased slots back to the cluster and adds the outcomes counted in memory.
                ((ClusterDestinationStateStore) destinations).close();
            }
            sentMessages.close(); // stores the records still queued
            suppressions.close(); // saves its in-memory index for the next start; the database stays ours
        } finally {
            database.close();
        }
    }

    @Override
    public String toString() {
        return "PolicyStores{" + database + "}";
    }
}
