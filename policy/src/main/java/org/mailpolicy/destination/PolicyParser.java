package org.mailpolicy.destination;

import static org.mailpolicy.yaml.YamlNodes.line;

import com.google.common.collect.ImmutableSet;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.mailpolicy.jdbc.SharedDatabase;
import org.mailpolicy.rules.Reasons;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionExpiry;
import org.mailpolicy.yaml.YamlReader;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Reads the YAML policy file with SnakeYAML's node API, so that every error has a line, and keeps
 * going after an error so that the operator sees all of them at once. This class reads the top of
 * the file: its version, where the stores are and which rules files apply; {@link DestinationParser}
 * reads the {@code default:} and {@code destinations:} blocks.
 */
final class PolicyParser {
    static final int SUPPORTED_VERSION = 1;

    private static final Set<String> ROOT_KEYS = ImmutableSet.of("version", "suppression", "rules", "destinations", "default",
            "waits", "egress");
    private static final Set<String> WAIT_KEYS = ImmutableSet.of("in", "repository");
    private static final Set<String> STORE_KEYS = ImmutableSet.of("store", "path", "url", "user", "password", "maxConnections",
            "expire");
    private static final int MAX_FILE_CHARS = 1 << 20;

    private final YamlReader reader;
    private final Path baseDirectory;
    /** Loading a real file: the rule files it names must exist now, not first fail when James starts. */
    private final boolean checkRuleFiles;

    private PolicyParser(String fileName, boolean checkRuleFiles) {
        this.reader = new YamlReader(fileName);
        this.checkRuleFiles = checkRuleFiles;
        Path parent = null;
        try {
            parent = Paths.get(fileName).toAbsolutePath().getParent();
        } catch (InvalidPathException e) {
            // A name that is not a path (a test, a string): relative rule files stay relative.
        }
        this.baseDirectory = parent;
    }

    static DeliveryPolicy parse(String yaml, String fileName) throws PolicyException {
        return parse(yaml, fileName, false);
    }

    /** @param checkRuleFiles whether the {@code rules:} files must exist and be readable (a policy read from disk) */
    static DeliveryPolicy parse(String yaml, String fileName, boolean checkRuleFiles) throws PolicyException {
        PolicyParser parser = new PolicyParser(fileName == null ? "<policy>" : fileName, checkRuleFiles);
        DeliveryPolicy policy = parser.parseDocument(yaml == null ? "" : yaml);
        if (parser.reader.hasErrors()) {
            throw new PolicyException(parser.reader.errorsInFileOrder());
        }
        return policy;
    }

    private DeliveryPolicy parseDocument(String yaml) {
        Node root = reader.document(yaml, MAX_FILE_CHARS, "expected at least 'version: " + SUPPORTED_VERSION + "'");
        Map<String, NodeTuple> top = root == null ? null : reader.mapping(root, "", ROOT_KEYS);
        if (top == null) {
            return null;
        }
        reader.version(root, top, SUPPORTED_VERSION);

        StoreSettings stores = StoreSettings.defaults();
        if (top.containsKey("suppression")) {
            stores = storeSettings(top.get("suppression").getValueNode());
        }
        if (top.containsKey("egress")) {
            Node node = top.get("egress").getValueNode();
            String name = reader.nonEmptyString(node, "egress");
            if (name != null && !Egress.isName(name)) {
                reader.error(node, "egress", "'" + name
                        + "' is not an egress name: use lower-case letters, digits, '.', '_', '-' (at most 64)");
            } else if (name != null) {
                stores = stores.withEgress(Egress.of(name));
            }
        }

        List<Path> ruleFiles = new ArrayList<>();
        if (top.containsKey("rules")) {
            ruleFiles = ruleFiles(top.get("rules").getValueNode());
        }

        DestinationParser destinationParser = new DestinationParser(reader);
        DestinationPolicy defaults = DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME).build();
        if (top.containsKey("default")) {
            DestinationPolicy d = destinationParser.defaultBlock(top.get("default").getValueNode(), defaults);
            if (d != null) {
                defaults = d;
            }
        }

        List<DestinationPolicy> destinations = new ArrayList<>();
        if (top.containsKey("destinations")) {
            destinations = destinationParser.destinations(top.get("destinations").getValueNode(), defaults);
        }
        WaitSettings waits = WaitSettings.inQueue();
        if (top.containsKey("waits")) {
            waits = waitSettings(top.get("waits").getValueNode());
        }
        if (reader.hasErrors()) {
            return null;
        }
        try {
            return DeliveryPolicy.of(stores, ruleFiles, destinations, defaults).withWaits(waits);
        } catch (IllegalArgumentException e) {
            // Cross-destination checks are made by DestinationParser with lines; this is the safety net.
            reader.error(1, "destinations", e.getMessage());
            return null;
        }
    }

    /**
     * The {@code suppression:} block: where the suppressions, the sent-message ledger and the
     * destination holds are kept (the block is named after the first of them).
     */
    private StoreSettings storeSettings(Node node) {
        Map<String, NodeTuple> m = reader.mapping(node, "suppression", STORE_KEYS);
        if (m == null) {
            return StoreSettings.defaults();
        }
        StoreSettings where = storeLocation(node, m);
        return m.containsKey("expire") ? where.withExpiry(expiry(m.get("expire").getValueNode())) : where;
    }

    /**
     * {@code suppression.expire}: a duration per reason ({@code userunknown: 365d}). A reason is one of the
     * rules' (Sisimai's) or {@code manual}, an operator's entry: a misspelt one would never expire anything.
     */
    private SuppressionExpiry expiry(Node node) {
        String field = "suppression.expire";
        if (!reader.isMapping(node, field)) {
            return SuppressionExpiry.NONE;
        }
        Map<String, Duration> byReason = new TreeMap<>();
        Map<String, Node> firstAt = new HashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            String reason = reader.string(t.getKeyNode(), field);
            if (reason == null) {
                continue;
            }
            String child = YamlReader.child(field, reason);
            if (!Reasons.ALL.contains(reason) && !SuppressionEntry.MANUAL_REASON.equals(reason)) {
                reader.error(t.getKeyNode(), child, "unknown reason '" + reason + "'; expected "
                        + SuppressionEntry.MANUAL_REASON + " or one of " + String.join(", ", Reasons.ALL));
            } else if (firstAt.containsKey(reason)) {
                reader.error(t.getKeyNode(), child, "given twice (first at line " + line(firstAt.get(reason)) + ")");
            } else {
                firstAt.put(reason, t.getKeyNode());
                Duration d = reader.duration(t.getValueNode(), child);
                if (d != null) {
                    byReason.put(reason, d);
                }
            }
        }
        return SuppressionExpiry.of(byReason);
    }

    /** Where the stores are: an H2 file at {@code path}, or PostgreSQL. */
    private StoreSettings storeLocation(Node node, Map<String, NodeTuple> m) {
        StoreSettings.Store store = StoreSettings.Store.H2;
        if (m.containsKey("store")) {
            StoreSettings.Store given = reader.choice(m.get("store").getValueNode(), "suppression.store",
                    StoreSettings.Store.class, "store");
            store = given == null ? store : given;
        }
        if (store == StoreSettings.Store.POSTGRESQL || m.containsKey("url") || m.containsKey("user")
                || m.containsKey("password") || m.containsKey("maxConnections")) {
            return sharedDatabase(node, m, store);
        }
        Path path = StoreSettings.DEFAULT_PATH;
        if (m.containsKey("path")) {
            Path given = path(m.get("path").getValueNode(), "suppression.path");
            path = given == null ? path : given;
        }
        return StoreSettings.of(store, path);
    }

    /** {@code store: postgresql} with {@code url}, {@code user} and {@code password}; no {@code path}. */
    private StoreSettings sharedDatabase(Node node, Map<String, NodeTuple> m, StoreSettings.Store store) {
        if (store != StoreSettings.Store.POSTGRESQL) {
            for (String key : new String[] {"url", "user", "password", "maxConnections"}) {
                if (m.containsKey(key)) {
                    reader.error(m.get(key).getKeyNode(), "suppression." + key, "only with store: postgresql");
                }
            }
            return StoreSettings.defaults();
        }
        if (m.containsKey("path")) {
            reader.error(m.get("path").getKeyNode(), "suppression.path",
                    "not with store: postgresql (the database is at url)");
        }
        String url = databaseSetting(node, m, "url");
        String user = databaseSetting(node, m, "user");
        String password = "";
        if (m.containsKey("password")) {
            String p = reader.string(m.get("password").getValueNode(), "suppression.password");
            password = p == null ? "" : p;
        }
        int maxConnections = SharedDatabase.DEFAULT_MAX_CONNECTIONS;
        if (m.containsKey("maxConnections")) {
            Integer given = reader.integer(m.get("maxConnections").getValueNode(), "suppression.maxConnections");
            if (given != null && (given < 1 || given > 1000)) {
                reader.error(m.get("maxConnections").getValueNode(), "suppression.maxConnections",
                        "must be between 1 and 1000 (connections of this node's pool), got " + given);
            } else if (given != null) {
                maxConnections = given;
            }
        }
        if (url == null || user == null) {
            return StoreSettings.defaults();
        }
        if (!url.startsWith("jdbc:postgresql:")) {
            reader.error(m.get("url").getValueNode(), "suppression.url", "must be a PostgreSQL JDBC URL such as "
                    + "jdbc:postgresql://db.example.net:5432/mail");
            return StoreSettings.defaults();
        }
        return StoreSettings.postgresql(SharedDatabase.of(url, user, password).withMaxConnections(maxConnections));
    }

    /**
     * The {@code waits:} block: {@code in: queue} (the default) or {@code in: parked} with the
     * {@code repository} URL of a James mail repository that keeps the parked mails' content.
     */
    private WaitSettings waitSettings(Node node) {
        Map<String, NodeTuple> m = reader.mapping(node, "waits", WAIT_KEYS);
        if (m == null) {
            return WaitSettings.inQueue();
        }
        WaitSettings.Place place = WaitSettings.Place.QUEUE;
        if (m.containsKey("in")) {
            WaitSettings.Place given = reader.choice(m.get("in").getValueNode(), "waits.in", WaitSettings.Place.class,
                    "place");
            if (given == null) {
                return WaitSettings.inQueue();
            }
            place = given;
        }
        if (place == WaitSettings.Place.QUEUE) {
            if (m.containsKey("repository")) {
                reader.error(m.get("repository").getKeyNode(), "waits.repository",
                        "only with in: parked (with in: queue the queue keeps waiting mail)");
            }
            return WaitSettings.inQueue();
        }
        if (!m.containsKey("repository")) {
            reader.error(node, "waits.repository", "required with in: parked: the URL of a James mail repository "
                    + "such as file://var/mail/policy-parked/ (memory://var/mail/policy-parked/ on the memory server)");
            return WaitSettings.inQueue();
        }
        String url = reader.nonEmptyString(m.get("repository").getValueNode(), "waits.repository");
        if (url == null) {
            return WaitSettings.inQueue();
        }
        if (!url.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.+")) {
            reader.error(m.get("repository").getValueNode(), "waits.repository", "expected a mail repository URL "
                    + "such as file://var/mail/policy-parked/, got '" + url + "'");
            return WaitSettings.inQueue();
        }
        return WaitSettings.parked(url);
    }

    /** {@code url} or {@code user}: a database has no default for them. */
    private String databaseSetting(Node node, Map<String, NodeTuple> m, String key) {
        if (!m.containsKey(key)) {
            reader.error(node, "suppression." + key, "required with store: postgresql");
            return null;
        }
        return reader.nonEmptyString(m.get(key).getValueNode(), "suppression." + key);
    }

    private List<Path> ruleFiles(Node node) {
        List<Path> out = new ArrayList<>();
        List<Node> items = reader.list(node, "rules");
        if (items == null) {
            return out;
        }
        for (int i = 0; i < items.size(); i++) {
            String field = "rules[" + i + "]";
            Path p = path(items.get(i), field);
            if (p == null) {
                continue;
            }
            // Relative to the policy file, so a policy and its rules move together.
            Path resolved = p.isAbsolute() || baseDirectory == null ? p : baseDirectory.resolve(p).normalize();
            if (checkRuleFiles && !Files.exists(resolved)) {
                reader.error(items.get(i), field, "no such file: " + resolved);
            } else if (checkRuleFiles && !(Files.isRegularFile(resolved) && Files.isReadable(resolved))) {
                reader.error(items.get(i), field, "cannot read " + resolved + ": not a readable file");
            }
            out.add(resolved);
        }
        return out;
    }

    /** A file path as written (trimmed), not yet resolved. */
    private Path path(Node node, String field) {
        String s = reader.nonEmptyString(node, field);
        if (s == null) {
            return null;
        }
        try {
            return Paths.get(s);
        } catch (InvalidPathException e) {
            reader.error(node, field, "not a valid path: " + e.getReason());
            return null;
        }
    }
}
