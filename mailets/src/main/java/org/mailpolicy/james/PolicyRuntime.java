package org.mailpolicy.james;

import com.google.common.annotations.VisibleForTesting;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.mail.MessagingException;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PolicyException;
import org.mailpolicy.jdbc.StoreException;
import org.mailpolicy.parking.JdbcParkedMailStore;
import org.mailpolicy.parking.ParkedMailStore;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.rules.RulesException;
import org.mailpolicy.state.DestinationStateStore;
import org.mailpolicy.state.DirectoryOutageGuard;
import org.mailpolicy.store.PolicyStores;
import org.mailpolicy.suppression.SentMessageLedger;
import org.mailpolicy.suppression.SuppressionList;

/**
 * Everything the mailets of one policy file share inside one James JVM: the loaded policy, the
 * reply classifiers, the suppression list, the sent-message ledger, the destination state and the
 * clock. The delivery mailet, the suppression matcher and the DSN mailet name the same policy file
 * and must see the same state (a hold set by one delivery thread stops the others), so there is
 * one runtime per file, kept in a registry keyed by the file's absolute normalised path.
 *
 * <p>Thread-safe: the parts are immutable or thread-safe themselves.
 */
public final class PolicyRuntime {
    private static final String FILE_URL_PREFIX = "file://";
    private static final Map<Path, PolicyRuntime> BY_FILE = new ConcurrentHashMap<>();

    private final DeliveryPolicy policy;
    private final ReplyClassifier classifier;
    private final ImmutableMap<String, ReplyClassifier> classifierByDestination;
    private final SuppressionList suppressions;
    private final SentMessageLedger sentMessages;
    private final DestinationStateStore destinations;
    private final ParkedMailStore parked;
    /** Per JVM, as the guard explains; the delivery threads and WebAdmin share it through this runtime. */
    private final DirectoryOutageGuard directoryOutages = new DirectoryOutageGuard();
    private final Clock clock;
    /** The stores this runtime opened from its policy file, closed with it; null when a test passed its own parts. */
    private final PolicyStores ownedStores;

    private PolicyRuntime(DeliveryPolicy policy, ReplyClassifier classifier, SuppressionList suppressions,
                          SentMessageLedger sentMessages, DestinationStateStore destinations, ParkedMailStore parked,
                          Clock clock, PolicyStores ownedStores) {
        this.parked = Preconditions.checkNotNull(parked, "parked");
        this.policy = Preconditions.checkNotNull(policy, "policy");
        this.classifier = Preconditions.checkNotNull(classifier, "classifier");
        this.suppressions = Preconditions.checkNotNull(suppressions, "suppressions");
        this.sentMessages = Preconditions.checkNotNull(sentMessages, "sentMessages");
        this.destinations = Preconditions.checkNotNull(destinations, "destinations");
        this.clock = Preconditions.checkNotNull(clock, "clock");
        this.ownedStores = ownedStores;
        // Built once: a destination's own rules are parsed at load, so a broken rule fails init, not a delivery.
        Map<String, ReplyClassifier> byName = new HashMap<>();
        byName.put(policy.defaultDestination().name(), policy.defaultDestination().classifier(classifier));
        for (DestinationPolicy d : policy.destinations()) {
            byName.put(d.name(), d.classifier(classifier));
        }
        this.classifierByDestination = ImmutableMap.copyOf(byName);
    }

    /**
     * The runtime for a policy file, loading it the first time this JVM asks for that file.
     *
     * @param location a path, absolute or relative to the JVM's working directory (James's), with
     *                 or without a {@code file://} prefix
     * @throws MessagingException naming the file, line and field of every problem, when the policy,
     *                            a rules file or the suppression store cannot be used
     */
    public static PolicyRuntime forPolicyFile(String location) throws MessagingException {
        Path file = resolve(location);
        PolicyRuntime existing = BY_FILE.get(file);
        if (existing != null) {
            return existing;
        }
        synchronized (BY_FILE) {
            existing = BY_FILE.get(file);
            if (existing != null) {
                return existing;
            }
            PolicyRuntime loaded = load(file);
            BY_FILE.put(file, loaded);
            return loaded;
        }
    }

    /** Assembles a runtime from parts, outside the registry; tests use it with a fixed clock. */
    public static PolicyRuntime of(DeliveryPolicy policy, ReplyClassifier classifier, SuppressionList suppressions,
                                   SentMessageLedger sentMessages, DestinationStateStore destinations, Clock clock) {
        return of(policy, classifier, suppressions, sentMessages, destinations, JdbcParkedMailStore.inMemory(), clock);
    }

    /** As {@link #of(DeliveryPolicy, ReplyClassifier, SuppressionList, SentMessageLedger, DestinationStateStore, Clock)}, with the parked-mail schedule given. */
    public static PolicyRuntime of(DeliveryPolicy policy, ReplyClassifier classifier, SuppressionList suppressions,
                                   SentMessageLedger sentMessages, DestinationStateStore destinations,
                                   ParkedMailStore parked, Clock clock) {
        return new PolicyRuntime(policy, classifier, suppressions, sentMessages, destinations, parked, clock, null);
    }

    /**
     * Makes {@link #forPolicyFile} return {@code runtime} for {@code location}, so a mailet under
     * test that reads its {@code policy} parameter gets parts the test controls.
     */
    @VisibleForTesting
    public static void registerForTesting(String location, PolicyRuntime runtime) {
        BY_FILE.put(resolve(location), Preconditions.checkNotNull(runtime, "runtime"));
    }

    /** Forgets the runtime of {@code location} (closing its stores), so the next call reloads the file. */
    @VisibleForTesting
    public static void forgetForTesting(String location) {
        PolicyRuntime gone = BY_FILE.remove(resolve(location));
        if (gone != null) {
            gone.close();
        }
    }

    /** The absolute normalised path a policy location names; the registry key. */
    static Path resolve(String location) {
        Preconditions.checkArgument(location != null && !location.trim().isEmpty(), "policy location must not be empty");
        String s = location.trim();
        if (s.regionMatches(true, 0, FILE_URL_PREFIX, 0, FILE_URL_PREFIX.length())) {
            s = s.substring(FILE_URL_PREFIX.length());
        }
        try {
            return Paths.get(s).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("policy location is not a file path: '" + location + "': " + e.getMessage(), e);
        }
    }

    private static PolicyRuntime load(Path file) throws MessagingException {
        DeliveryPolicy policy;
        try {
            policy = DeliveryPolicy.load(file);
        } catch (PolicyException e) {
            throw new MessagingException("delivery policy " + file + " cannot be used:\n  "
                    + String.join("\n  ", e.errors()), e);
        }
        ReplyClassifier classifier;
        try {
            classifier = ReplyClassifier.withOverrides(policy.ruleFiles());
        } catch (RulesException e) {
            throw new MessagingException("reply rules of delivery policy " + file + " cannot be used:\n  "
                    + String.join("\n  ", e.errors()), e);
        }
        PolicyStores stores;
        try {
            stores = PolicyStores.open(policy.suppression(), Paths.get("").toAbsolutePath());
        } catch (StoreException e) {
            throw new MessagingException("the store of delivery policy " + file + " cannot be used: " + e.getMessage(), e);
        }
        try {
            return new PolicyRuntime(policy, classifier, stores.suppressions(), stores.sentMessages(),
                    stores.destinations(), stores.parked(), Clock.systemUTC(), stores);
        } catch (RuntimeException e) {
            stores.close();
            throw new MessagingException("delivery policy " + file + " cannot be used: " + e.getMessage(), e);
        }
    }

    public DeliveryPolicy policy() {
        return policy;
    }

    /** The classifier every destination starts from: built-in rules plus the policy's rule files. */
    public ReplyClassifier classifier() {
        return classifier;
    }

    /** The classifier for one destination of this policy: {@link #classifier()} plus its own rules. */
    public ReplyClassifier classifierFor(DestinationPolicy destination) {
        Preconditions.checkNotNull(destination, "destination");
        ReplyClassifier c = classifierByDestination.get(destination.name());
        // A destination built outside this policy (tests) still gets its own rules.
        return c != null ? c : destination.classifier(classifier);
    }

    public SuppressionList suppressions() {
        return suppressions;
    }

    /** Which message went to which recipients: lets bounce ingestion trust only bounces about our mail. */
    public SentMessageLedger sentMessages() {
        return sentMessages;
    }

    /**
     * Holds, probes, concurrency and rate limits per destination key, shared by every delivery
     * thread: in the H2 file of the suppressions (one node, survives restarts) or in PostgreSQL
     * (a cluster).
     */
    public DestinationStateStore destinations() {
        return destinations;
    }

    /**
     * The schedule of parked mail (the policy's {@code waits: in: parked}), in the same store as the
     * destination state: the delivery mailet parks and releases, WebAdmin lists and brings forward.
     */
    public ParkedMailStore parked() {
        return parked;
    }

    /** Which destinations' unknown-user replies look like a directory outage, and are retried instead of suppressed. */
    public DirectoryOutageGuard directoryOutages() {
        return directoryOutages;
    }

    public Clock clock() {
        return clock;
    }

    /** Releases the stores; only tests and {@link #forgetForTesting} call it (James keeps a runtime for its life). */
    void close() {
        if (ownedStores != null) {
            ownedStores.close();
        }
    }

    @Override
    public String toString() {
        return "PolicyRuntime{" + policy + ", " + classifier + "}";
    }
}
