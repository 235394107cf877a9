package org.mailpolicy.destination;

import static org.mailpolicy.yaml.YamlNodes.describe;
import static org.mailpolicy.yaml.YamlNodes.line;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.mailpolicy.rules.RuleSet;
import org.mailpolicy.rules.RulesException;
import org.mailpolicy.yaml.Durations;
import org.mailpolicy.yaml.YamlNodes;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the YAML policy file with SnakeYAML's node API, so that every error has a line, and keeps
 * going after an error so that the operator sees all of them at once. A destination's missing
 * fields come from the {@code default:} block, whose missing fields come from the built-in defaults.
 */
final class PolicyParser {
    static final int SUPPORTED_VERSION = 1;

    private static final Set<String> ROOT_KEYS = ImmutableSet.of("version", "suppression", "rules", "destinations", "default");
    private static final Set<String> SUPPRESSION_KEYS = ImmutableSet.of("store", "path", "url", "user", "password");
    private static final Set<String> DESTINATION_KEYS = ImmutableSet.of("name", "domains", "mx", "retry", "maxAge",
            "delayWarning", "throttle", "route", "concurrency", "rate", "rules");
    private static final Set<String> DEFAULT_KEYS = ImmutableSet.of("retry", "maxAge", "delayWarning", "throttle",
            "route", "concurrency", "rate", "rules");
    private static final Set<String> RETRY_KEYS = ImmutableSet.of("schedule", "exponential");
    private static final Set<String> EXPONENTIAL_KEYS = ImmutableSet.of("initial", "factor", "max", "jitter");
    private static final Set<String> THROTTLE_KEYS = ImmutableSet.of("initial", "growth", "max");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final int MAX_FILE_CHARS = 1 << 20;

    private final String fileName;
    private final Path baseDirectory;
    /** Loading a real file: the rule files it names must exist now, not first fail when James starts. */
    private final boolean checkRuleFiles;
    private final List<String> errors = new ArrayList<>();
    private final List<Integer> errorLines = new ArrayList<>();

    private PolicyParser(String fileName, boolean checkRuleFiles) {
        this.fileName = fileName;
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
        if (!parser.errors.isEmpty()) {
            throw new PolicyException(parser.errorsInFileOrder());
        }
        return policy;
    }

    private DeliveryPolicy parseDocument(String yaml) {
        if (yaml.length() > MAX_FILE_CHARS) {
            addError(1, "file: larger than " + MAX_FILE_CHARS + " characters");
            return null;
        }
        Node root;
        try {
            root = YamlNodes.compose(yaml, MAX_FILE_CHARS);
        } catch (YamlNodes.SyntaxError e) {
            addError(e.line(), "yaml: " + e.getMessage());
            return null;
        }
        if (root == null) {
            addError(1, "file: empty; expected at least 'version: " + SUPPORTED_VERSION + "'");
            return null;
        }
        Map<String, NodeTuple> top = mapping(root, "", ROOT_KEYS);
        if (top == null) {
            return null;
        }

        NodeTuple version = top.get("version");
        if (version == null) {
            error(root, "version", "missing; this format is 'version: " + SUPPORTED_VERSION + "'");
        } else {
            Integer v = integer(version.getValueNode(), "version");
            if (v != null && v != SUPPORTED_VERSION) {
                error(version.getValueNode(), "version", "unsupported version " + v + "; this engine reads version "
                        + SUPPORTED_VERSION);
            }
        }

        StoreSettings suppression = StoreSettings.defaults();
        if (top.containsKey("suppression")) {
            suppression = suppression(top.get("suppression").getValueNode());
        }

        List<Path> ruleFiles = new ArrayList<>();
        if (top.containsKey("rules")) {
            ruleFiles = ruleFiles(top.get("rules").getValueNode());
        }

        DestinationPolicy defaults = DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME).build();
        if (top.containsKey("default")) {
            DestinationPolicy d = destination(top.get("default").getValueNode(), "default", defaults, true);
            if (d != null) {
                defaults = d;
            }
        }

        List<DestinationPolicy> destinations = new ArrayList<>();
        if (top.containsKey("destinations")) {
            destinations = destinations(top.get("destinations").getValueNode(), defaults);
        }
        if (!errors.isEmpty()) {
            return null;
        }
        try {
            return DeliveryPolicy.of(suppression, ruleFiles, destinations, defaults);
        } catch (IllegalArgumentException e) {
            // Cross-destination checks are made below with lines; this is the safety net.
            addError(1, "destinations: " + e.getMessage());
            return null;
        }
    }

    private StoreSettings suppression(Node node) {
        Map<String, NodeTuple> m = mapping(node, "suppression", SUPPRESSION_KEYS);
        if (m == null) {
            return StoreSettings.defaults();
        }
        StoreSettings.Store store = StoreSettings.Store.H2;
        Path path = StoreSettings.DEFAULT_PATH;
        if (m.containsKey("store")) {
            Node v = m.get("store").getValueNode();
            String s = string(v, "suppression.store");
            if (s != null) {
                try {
                    store = StoreSettings.Store.valueOf(s.trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    error(v, "suppression.store", "unknown store '" + s + "'; known: h2, postgresql");
                }
            }
        }
        if (store == StoreSettings.Store.POSTGRESQL || m.containsKey("url") || m.containsKey("user")
                || m.containsKey("password")) {
            return sharedDatabase(node, m, store);
        }
        if (m.containsKey("path")) {
            Node v = m.get("path").getValueNode();
            String s = string(v, "suppression.path");
            if (s != null) {
                try {
                    if (s.trim().isEmpty()) {
                        error(v, "suppression.path", "must not be empty");
                    } else {
                        path = Paths.get(s.trim());
                    }
                } catch (InvalidPathException e) {
                    error(v, "suppression.path", "not a valid path: " + e.getReason());
                }
            }
        }
        return StoreSettings.of(store, path);
    }

    /** {@code store: postgresql} with {@code url}, {@code user} and {@code password}; no {@code path}. */
    private StoreSettings sharedDatabase(Node node, Map<String, NodeTuple> m, StoreSettings.Store store) {
        if (store != StoreSettings.Store.POSTGRESQL) {
            for (String key : new String[] {"url", "user", "password"}) {
                if (m.containsKey(key)) {
                    error(m.get(key).getKeyNode(), "suppression." + key, "only with store: postgresql");
                }
            }
            return StoreSettings.defaults();
        }
        if (m.containsKey("path")) {
            error(m.get("path").getKeyNode(), "suppression.path", "not with store: postgresql (the database is at url)");
        }
        String url = requiredString(node, m, "url");
        String user = requiredString(node, m, "user");
        String password = "";
        if (m.containsKey("password")) {
            String p = string(m.get("password").getValueNode(), "suppression.password");
            password = p == null ? "" : p;
        }
        if (url == null || user == null) {
            return StoreSettings.defaults();
        }
        if (!url.startsWith("jdbc:postgresql:")) {
            error(m.get("url").getValueNode(), "suppression.url", "must be a PostgreSQL JDBC URL such as "
                    + "jdbc:postgresql://db.example.net:5432/mail");
            return StoreSettings.defaults();
        }
        return StoreSettings.postgresql(org.mailpolicy.shared.SharedDatabase.of(url, user, password));
    }

    private String requiredString(Node node, Map<String, NodeTuple> m, String key) {
        if (!m.containsKey(key)) {
            error(node, "suppression." + key, "required with store: postgresql");
            return null;
        }
        String s = string(m.get(key).getValueNode(), "suppression." + key);
        if (s != null && s.trim().isEmpty()) {
            error(m.get(key).getValueNode(), "suppression." + key, "must not be empty");
            return null;
        }
        return s == null ? null : s.trim();
    }

    private List<Path> ruleFiles(Node node) {
        List<Path> out = new ArrayList<>();
        List<Node> items = sequence(node, "rules");
        if (items == null) {
            return out;
        }
        for (int i = 0; i < items.size(); i++) {
            String field = "rules[" + i + "]";
            String s = string(items.get(i), field);
            if (s == null) {
                continue;
            }
            if (s.trim().isEmpty()) {
                error(items.get(i), field, "must not be empty");
                continue;
            }
            try {
                Path p = Paths.get(s.trim());
                // Relative to the policy file, so a policy and its rules move together.
                Path resolved = p.isAbsolute() || baseDirectory == null ? p : baseDirectory.resolve(p).normalize();
                if (checkRuleFiles && !Files.exists(resolved)) {
                    error(items.get(i), field, "no such file: " + resolved);
                } else if (checkRuleFiles && !(Files.isRegularFile(resolved) && Files.isReadable(resolved))) {
                    error(items.get(i), field, "cannot read " + resolved + ": not a readable file");
                }
                out.add(resolved);
            } catch (InvalidPathException e) {
                error(items.get(i), field, "not a valid path: " + e.getReason());
            }
        }
        return out;
    }

    private List<DestinationPolicy> destinations(Node node, DestinationPolicy defaults) {
        List<DestinationPolicy> out = new ArrayList<>();
        List<Node> items = sequence(node, "destinations");
        if (items == null) {
            return out;
        }
        Map<String, Node> names = new HashMap<>();
        Map<String, String> domainOwner = new HashMap<>();
        Map<String, String> mxOwner = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            if (!(item instanceof MappingNode)) {
                error(item, "destinations[" + i + "]", "expected a mapping (key: value), got " + describe(item));
                continue;
            }
            // Keys are checked (unknown, duplicate) once, in destination(); here only look up.
            String name = null;
            NodeTuple nameTuple = firstTuple(item, "name");
            if (nameTuple == null) {
                error(item, "destinations[" + i + "].name", "missing");
            } else {
                name = string(nameTuple.getValueNode(), "destinations[" + i + "].name");
                if (name != null && !NAME.matcher(name).matches()) {
                    error(nameTuple.getValueNode(), "destinations[" + i + "].name", "'" + name
                            + "' is not a name: use lower-case letters, digits, '.', '_', '-' (at most 64)");
                    name = null;
                } else if (DeliveryPolicy.DEFAULT_NAME.equals(name)) {
                    error(nameTuple.getValueNode(), "destinations[" + i + "].name",
                            "'default' is reserved: use the top-level 'default:' block");
                    name = null;
                } else if (name != null && names.containsKey(name)) {
                    error(nameTuple.getValueNode(), "destinations[" + i + "].name", "duplicate destination name '" + name
                            + "' (first at line " + line(names.get(name)) + ")");
                } else if (name != null) {
                    names.put(name, nameTuple.getValueNode());
                }
            }
            String label = "destinations[" + (name == null ? String.valueOf(i) : name) + "]";
            // The default's own rule overrides stay with the default: a destination's rules are its own.
            DestinationPolicy d = destination(item, label, defaults, false);
            if (d == null) {
                continue;
            }
            boolean ok = name != null;
            ok &= claim(firstTuple(item, "domains"), d.name(), label + ".domains", d.domainPatterns(), domainOwner, "domain");
            ok &= claim(firstTuple(item, "mx"), d.name(), label + ".mx", d.mxPatterns(), mxOwner, "mx pattern");
            if (d.domainPatterns().isEmpty() && d.mxPatterns().isEmpty()) {
                error(item, label, "matches nothing: give 'domains', 'mx' or both");
                ok = false;
            }
            if (ok) {
                out.add(d);
            }
        }
        return out;
    }

    /** Records which destination owns each pattern; a pattern in two destinations is an error. */
    private boolean claim(NodeTuple tuple, String destination, String field, List<String> patterns,
                          Map<String, String> owners, String what) {
        boolean ok = true;
        for (int j = 0; j < patterns.size(); j++) {
            String before = owners.putIfAbsent(patterns.get(j), destination);
            if (before != null) {
                Node at = tuple.getValueNode();
                if (at instanceof SequenceNode && ((SequenceNode) at).getValue().size() > j) {
                    at = ((SequenceNode) at).getValue().get(j);
                }
                error(at, field, what + " '" + patterns.get(j) + "' is already in destination '" + before + "'");
                ok = false;
            }
        }
        return ok;
    }

    /**
     * One destination (or the default block): the fields given, on top of {@code base}. Returns
     * null when any field is wrong (the errors are recorded).
     */
    private DestinationPolicy destination(Node node, String label, DestinationPolicy base, boolean isDefault) {
        Map<String, NodeTuple> m = mapping(node, label, isDefault ? DEFAULT_KEYS : DESTINATION_KEYS);
        if (m == null) {
            return null;
        }
        int errorsBefore = errors.size();
        String name = isDefault ? DeliveryPolicy.DEFAULT_NAME : "unnamed";
        if (!isDefault && m.containsKey("name") && m.get("name").getValueNode() instanceof ScalarNode) {
            // Already checked, with its errors, by destinations().
            String s = ((ScalarNode) m.get("name").getValueNode()).getValue();
            if (NAME.matcher(s).matches()) {
                name = s;
            }
        }
        DestinationPolicy.Builder named = DestinationPolicy.builder(name);
        if (m.containsKey("domains")) {
            named.domains(patterns(m.get("domains").getValueNode(), label + ".domains"));
        }
        if (m.containsKey("mx")) {
            named.mx(patterns(m.get("mx").getValueNode(), label + ".mx"));
        }
        RetrySchedule retry = base.retrySchedule();
        if (m.containsKey("retry")) {
            RetrySchedule r = retry(m.get("retry").getValueNode(), label + ".retry");
            retry = r == null ? retry : r;
        }
        Duration maxAge = base.maxAge();
        if (m.containsKey("maxAge")) {
            Duration d = duration(m.get("maxAge").getValueNode(), label + ".maxAge");
            maxAge = d == null ? maxAge : d;
        }
        Duration delayWarning = base.delayWarning();
        if (m.containsKey("delayWarning")) {
            Duration d = duration(m.get("delayWarning").getValueNode(), label + ".delayWarning");
            delayWarning = d == null ? delayWarning : d;
        }
        if (delayWarning.compareTo(maxAge) >= 0) {
            Node at = m.containsKey("delayWarning") ? m.get("delayWarning").getValueNode()
                    : m.containsKey("maxAge") ? m.get("maxAge").getValueNode() : node;
            error(at, label + ".delayWarning", "delayWarning (" + Durations.format(delayWarning)
                    + ") must be shorter than maxAge (" + Durations.format(maxAge) + "), or the warning is never sent");
        }
        ThrottleHold throttle = base.throttleHold();
        if (m.containsKey("throttle")) {
            ThrottleHold t = throttle(m.get("throttle").getValueNode(), label + ".throttle");
            throttle = t == null ? throttle : t;
        }
        Route route = base.route().orElse(null);
        if (m.containsKey("route")) {
            Node v = m.get("route").getValueNode();
            String s = string(v, label + ".route");
            if (s != null) {
                try {
                    route = Route.parse(s);
                } catch (IllegalArgumentException e) {
                    error(v, label + ".route", e.getMessage());
                }
            }
        }
        int concurrency = base.concurrency();
        if (m.containsKey("concurrency")) {
            Node v = m.get("concurrency").getValueNode();
            Integer n = integer(v, label + ".concurrency");
            if (n != null && n < 1) {
                error(v, label + ".concurrency", "must be at least 1, got " + n);
            } else if (n != null) {
                concurrency = n;
            }
        }
        RateLimit rate = base.rateLimit().orElse(null);
        if (m.containsKey("rate")) {
            Node v = m.get("rate").getValueNode();
            String s = string(v, label + ".rate");
            if (s != null) {
                try {
                    rate = RateLimit.parse(s);
                } catch (IllegalArgumentException e) {
                    error(v, label + ".rate", e.getMessage());
                }
            }
        }
        RuleSet rules = null;
        if (m.containsKey("rules")) {
            Node v = m.get("rules").getValueNode();
            if (!(v instanceof SequenceNode)) {
                error(v, label + ".rules", "expected a list of rules, as in a rules file");
            } else {
                rules = rules(v, label);
            }
        }
        if (errors.size() > errorsBefore) {
            return null;
        }
        DestinationPolicy withNames = named.build();
        return DestinationPolicy.builder(name)
                .domains(withNames.domainPatterns())
                .mx(withNames.mxPatterns())
                .retry(retry).maxAge(maxAge).delayWarning(delayWarning).throttle(throttle)
                .route(route).concurrency(concurrency).rate(rate)
                .rules(rules)
                .build();
    }

    /**
     * A destination's own rules, validated now so that a mistake stops the load with its line. The
     * rule loader names fields from {@code rules}; they are given the destination's label here.
     */
    private RuleSet rules(Node node, String label) {
        try {
            return RuleSet.fromYaml(node, fileName);
        } catch (RulesException e) {
            String prefix = fileName + ":";
            for (String message : e.errors()) {
                int line = 1;
                String rest = message;
                if (message.startsWith(prefix)) {
                    String afterFile = message.substring(prefix.length());
                    int colon = afterFile.indexOf(": ");
                    try {
                        line = Integer.parseInt(afterFile.substring(0, Math.max(colon, 0)));
                        rest = afterFile.substring(colon + 2);
                    } catch (NumberFormatException | StringIndexOutOfBoundsException notNumbered) {
                        rest = afterFile;
                    }
                }
                addError(line, rest.startsWith("rules") ? label + "." + rest : label + ".rules: " + rest);
            }
            return null;
        }
    }

    private List<String> patterns(Node node, String field) {
        List<String> out = new ArrayList<>();
        List<Node> items = node instanceof ScalarNode ? ImmutableList.of(node) : sequence(node, field);
        if (items == null) {
            return out;
        }
        for (int i = 0; i < items.size(); i++) {
            String s = string(items.get(i), field + "[" + i + "]");
            if (s == null) {
                continue;
            }
            try {
                String p = DeliveryPolicy.checkPattern(s, field);
                if (out.contains(p)) {
                    error(items.get(i), field + "[" + i + "]", "'" + s + "' is listed twice");
                } else {
                    out.add(p);
                }
            } catch (IllegalArgumentException e) {
                error(items.get(i), field + "[" + i + "]", e.getMessage());
            }
        }
        return out;
    }

    private RetrySchedule retry(Node node, String field) {
        Map<String, NodeTuple> m = mapping(node, field, RETRY_KEYS);
        if (m == null) {
            return null;
        }
        if (m.containsKey("schedule") == m.containsKey("exponential")) {
            error(node, field, "give exactly one of 'schedule' (a list of delays) or 'exponential'");
            return null;
        }
        if (m.containsKey("schedule")) {
            Node v = m.get("schedule").getValueNode();
            List<Node> items = sequence(v, field + ".schedule");
            if (items == null) {
                return null;
            }
            if (items.isEmpty()) {
                error(v, field + ".schedule", "needs at least one delay");
                return null;
            }
            List<Duration> delays = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                Duration d = duration(items.get(i), field + ".schedule[" + i + "]");
                if (d != null) {
                    delays.add(d);
                }
            }
            return delays.size() == items.size() ? RetrySchedule.explicit(delays) : null;
        }
        String f = field + ".exponential";
        Node v = m.get("exponential").getValueNode();
        Map<String, NodeTuple> e = mapping(v, f, EXPONENTIAL_KEYS);
        if (e == null) {
            return null;
        }
        int before = errors.size();
        Duration initial = requiredDuration(e, v, f, "initial");
        Duration max = requiredDuration(e, v, f, "max");
        Double factor = e.containsKey("factor") ? number(e.get("factor").getValueNode(), f + ".factor") : Double.valueOf(2.0);
        Double jitter = e.containsKey("jitter") ? number(e.get("jitter").getValueNode(), f + ".jitter") : Double.valueOf(0.0);
        if (factor != null && factor < 1.0) {
            error(e.get("factor").getValueNode(), f + ".factor", "must be at least 1, got " + factor);
        }
        if (jitter != null && (jitter < 0.0 || jitter >= 1.0)) {
            error(e.get("jitter").getValueNode(), f + ".jitter", "must be in [0, 1), got " + jitter);
        }
        if (initial != null && max != null && max.compareTo(initial) < 0) {
            error(e.get("max").getValueNode(), f + ".max", "max (" + Durations.format(max)
                    + ") must not be below initial (" + Durations.format(initial) + ")");
        }
        if (errors.size() > before || initial == null || max == null || factor == null || jitter == null) {
            return null;
        }
        return RetrySchedule.exponential(initial, factor, max, jitter);
    }

    private ThrottleHold throttle(Node node, String field) {
        Map<String, NodeTuple> m = mapping(node, field, THROTTLE_KEYS);
        if (m == null) {
            return null;
        }
        int before = errors.size();
        Duration initial = requiredDuration(m, node, field, "initial");
        Duration max = requiredDuration(m, node, field, "max");
        Double growth = m.containsKey("growth") ? number(m.get("growth").getValueNode(), field + ".growth") : Double.valueOf(2.0);
        if (growth != null && growth < 1.0) {
            error(m.get("growth").getValueNode(), field + ".growth", "must be at least 1, got " + growth);
        }
        if (initial != null && max != null && max.compareTo(initial) < 0) {
            error(m.get("max").getValueNode(), field + ".max", "max (" + Durations.format(max)
                    + ") must not be below initial (" + Durations.format(initial) + ")");
        }
        if (errors.size() > before || initial == null || max == null || growth == null) {
            return null;
        }
        return ThrottleHold.of(initial, growth, max);
    }

    private Duration requiredDuration(Map<String, NodeTuple> m, Node owner, String field, String key) {
        if (!m.containsKey(key)) {
            error(owner, field + "." + key, "missing");
            return null;
        }
        return duration(m.get(key).getValueNode(), field + "." + key);
    }

    // ---- scalar and structure helpers; each records an error and returns null on a mismatch ----

    /** The mapping's entries by key, in order; unknown and duplicate keys are errors. */
    private Map<String, NodeTuple> mapping(Node node, String field, Set<String> allowed) {
        if (!(node instanceof MappingNode)) {
            error(node, field.isEmpty() ? "file" : field, "expected a mapping (key: value), got " + describe(node));
            return null;
        }
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            Node k = t.getKeyNode();
            String prefix = field.isEmpty() ? "" : field + ".";
            if (!(k instanceof ScalarNode)) {
                error(k, field.isEmpty() ? "file" : field, "keys must be plain words");
                continue;
            }
            String key = ((ScalarNode) k).getValue();
            if (!allowed.contains(key)) {
                error(k, prefix + key, "unknown key; expected one of " + String.join(", ", allowed));
            } else if (out.containsKey(key)) {
                error(k, prefix + key, "given twice (first at line " + line(out.get(key).getKeyNode()) + ")");
            } else {
                out.put(key, t);
            }
        }
        return out;
    }

    private static NodeTuple firstTuple(Node mapping, String key) {
        for (NodeTuple t : ((MappingNode) mapping).getValue()) {
            if (t.getKeyNode() instanceof ScalarNode && key.equals(((ScalarNode) t.getKeyNode()).getValue())) {
                return t;
            }
        }
        return null;
    }

    private List<Node> sequence(Node node, String field) {
        if (!(node instanceof SequenceNode)) {
            error(node, field, "expected a list, got " + describe(node));
            return null;
        }
        return ((SequenceNode) node).getValue();
    }

    private String string(Node node, String field) {
        if (!(node instanceof ScalarNode)) {
            error(node, field, "expected a single value, got " + describe(node));
            return null;
        }
        return ((ScalarNode) node).getValue();
    }

    private Integer integer(Node node, String field) {
        String s = string(node, field);
        if (s == null) {
            return null;
        }
        try {
            return Integer.valueOf(s.trim());
        } catch (NumberFormatException e) {
            error(node, field, "expected a whole number, got '" + s + "'");
            return null;
        }
    }

    private Double number(Node node, String field) {
        String s = string(node, field);
        if (s == null) {
            return null;
        }
        try {
            double d = Double.parseDouble(s.trim());
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            error(node, field, "expected a number, got '" + s + "'");
            return null;
        }
    }

    private Duration duration(Node node, String field) {
        String s = string(node, field);
        if (s == null) {
            return null;
        }
        try {
            return Durations.parse(s);
        } catch (IllegalArgumentException e) {
            error(node, field, e.getMessage());
            return null;
        }
    }

    private void addError(int line, String fieldAndMessage) {
        errors.add(fileName + ":" + line + ": " + fieldAndMessage);
        errorLines.add(line);
    }

    private void error(Node node, String field, String message) {
        errors.add(fileName + ":" + line(node) + ": " + field + ": " + message);
        errorLines.add(line(node));
    }

    /** Sorted by line (stable): checks run by structure, operators read top to bottom. */
    private List<String> errorsInFileOrder() {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < errors.size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Integer.compare(lineOf(a), lineOf(b)));
        List<String> out = new ArrayList<>();
        for (int i : order) {
            out.add(errors.get(i));
        }
        return out;
    }

    private int lineOf(int errorIndex) {
        return errorIndex < errorLines.size() ? errorLines.get(errorIndex) : 1;
    }
}
