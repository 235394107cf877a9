package org.mailpolicy.destination;

import static org.mailpolicy.yaml.YamlNodes.line;

import com.google.common.collect.ImmutableSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.mailpolicy.rules.RuleSet;
import org.mailpolicy.yaml.Durations;
import org.mailpolicy.yaml.YamlReader;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the destination blocks of the policy file: {@code default:} and each entry of
 * {@code destinations:}. A destination's missing fields come from the {@code default:} block, whose
 * missing fields come from the built-in defaults. Mistakes go to the policy file's reader.
 */
final class DestinationParser {
    private static final Set<String> DESTINATION_KEYS = ImmutableSet.of("name", "domains", "mx", "retry", "maxAge",
            "delayWarning", "throttle", "route", "concurrency", "rate", "pacing", "unknownRecipientGuard", "connections",
            "tls", "rules");
    private static final Set<String> DEFAULT_KEYS = ImmutableSet.of("retry", "maxAge", "delayWarning", "throttle",
            "route", "concurrency", "rate", "pacing", "unknownRecipientGuard", "connections", "tls", "rules");
    private static final Set<String> RETRY_KEYS = ImmutableSet.of("schedule", "exponential");
    private static final Set<String> EXPONENTIAL_KEYS = ImmutableSet.of("initial", "factor", "max", "jitter");
    private static final Set<String> THROTTLE_KEYS = ImmutableSet.of("initial", "growth", "max");
    private static final Set<String> CONNECTIONS_KEYS = ImmutableSet.of("maxMessages", "idleTimeout", "rsetAfterIdle");
    private static final Set<String> TLS_KEYS = ImmutableSet.of("level", "trustStore", "trustStorePassword",
            "plaintextFallback", "mtaSts", "mtaStsPolicyUrl");
    private static final Set<String> PACING_KEYS = ImmutableSet.of("start", "cut", "step", "growEvery", "quiet", "pause");
    private static final Set<String> GUARD_KEYS = ImmutableSet.of("window", "minRecipients", "share", "quiet");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private final YamlReader reader;

    DestinationParser(YamlReader reader) {
        this.reader = reader;
    }

    /** The {@code default:} block on top of {@code builtIn}; null when any field is wrong. */
    DestinationPolicy defaultBlock(Node node, DestinationPolicy builtIn) {
        return destination(node, "default", builtIn, true);
    }

    /** The {@code destinations:} list, each on top of {@code defaults}; wrong ones are left out (errors recorded). */
    List<DestinationPolicy> destinations(Node node, DestinationPolicy defaults) {
        List<DestinationPolicy> out = new ArrayList<>();
        List<Node> items = reader.list(node, "destinations");
        if (items == null) {
            return out;
        }
        Map<String, Node> names = new HashMap<>();
        Map<String, String> domainOwner = new HashMap<>();
        Map<String, String> mxOwner = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            if (!reader.isMapping(item, "destinations[" + i + "]")) {
                continue;
            }
            String name = name(item, "destinations[" + i + "].name", names);
            String label = "destinations[" + (name == null ? String.valueOf(i) : name) + "]";
            // The default's own rule overrides stay with the default: a destination's rules are its own.
            DestinationPolicy d = destination(item, label, defaults, false);
            if (d == null) {
                continue;
            }
            boolean ok = name != null;
            ok &= claim(firstTuple(item, "domains"), d.name(), label + ".domains", d.domainPatterns(), domainOwner,
                    "domain");
            ok &= claim(firstTuple(item, "mx"), d.name(), label + ".mx", d.mxPatterns(), mxOwner, "mx pattern");
            if (d.domainPatterns().isEmpty() && d.mxPatterns().isEmpty()) {
                reader.error(item, label, "matches nothing: give 'domains', 'mx' or both");
                ok = false;
            }
            if (ok) {
                out.add(d);
            }
        }
        return out;
    }

    /**
     * A destination's name, or null when it is missing or wrong (recorded). Its key is looked up
     * here, not checked: destination() checks every key of the block once.
     *
     * @param names the names so far, with their nodes, to tell where a duplicate was first given
     */
    private String name(Node destination, String field, Map<String, Node> names) {
        NodeTuple tuple = firstTuple(destination, "name");
        if (tuple == null) {
            reader.error(destination, field, "missing");
            return null;
        }
        Node value = tuple.getValueNode();
        String name = reader.string(value, field);
        if (name == null) {
            return null;
        }
        if (!NAME.matcher(name).matches()) {
            reader.error(value, field, "'" + name
                    + "' is not a name: use lower-case letters, digits, '.', '_', '-' (at most 64)");
            return null;
        }
        if (DeliveryPolicy.DEFAULT_NAME.equals(name)) {
            reader.error(value, field, "'default' is reserved: use the top-level 'default:' block");
            return null;
        }
        if (names.containsKey(name)) {
            reader.error(value, field, "duplicate destination name '" + name + "' (first at line "
                    + line(names.get(name)) + ")");
        } else {
            names.put(name, value);
        }
        return name;
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
                reader.error(at, field, what + " '" + patterns.get(j) + "' is already in destination '" + before + "'");
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
        Map<String, NodeTuple> m = reader.mapping(node, label, isDefault ? DEFAULT_KEYS : DESTINATION_KEYS);
        if (m == null) {
            return null;
        }
        int errorsBefore = reader.errorCount();
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
            Duration d = reader.duration(m.get("maxAge").getValueNode(), label + ".maxAge");
            maxAge = d == null ? maxAge : d;
        }
        Duration delayWarning = base.delayWarning();
        if (m.containsKey("delayWarning")) {
            Duration d = reader.duration(m.get("delayWarning").getValueNode(), label + ".delayWarning");
            delayWarning = d == null ? delayWarning : d;
        }
        if (delayWarning.compareTo(maxAge) >= 0) {
            Node at = m.containsKey("delayWarning") ? m.get("delayWarning").getValueNode()
                    : m.containsKey("maxAge") ? m.get("maxAge").getValueNode() : node;
            reader.error(at, label + ".delayWarning", "delayWarning (" + Durations.format(delayWarning)
                    + ") must be shorter than maxAge (" + Durations.format(maxAge) + "), or the warning is never sent");
        }
        ThrottleHold throttle = base.throttleHold();
        if (m.containsKey("throttle")) {
            ThrottleHold t = throttle(m.get("throttle").getValueNode(), label + ".throttle");
            throttle = t == null ? throttle : t;
        }
        Route route = base.route().orElse(null);
        if (m.containsKey("route")) {
            Route r = reader.parsed(m.get("route").getValueNode(), label + ".route", Route::parse);
            route = r == null ? route : r;
        }
        int concurrency = base.concurrency();
        if (m.containsKey("concurrency")) {
            Node v = m.get("concurrency").getValueNode();
            Integer n = reader.integer(v, label + ".concurrency");
            if (n != null && n < 1) {
                reader.error(v, label + ".concurrency", "must be at least 1, got " + n);
            } else if (n != null) {
                concurrency = n;
            }
        }
        RateLimit rate = base.rateLimit().orElse(null);
        if (m.containsKey("rate")) {
            RateLimit r = reader.parsed(m.get("rate").getValueNode(), label + ".rate", RateLimit::parse);
            rate = r == null ? rate : r;
        }
        PacingSettings pacing = base.pacing();
        if (m.containsKey("pacing")) {
            PacingSettings p = pacing(m.get("pacing").getValueNode(), label + ".pacing");
            pacing = p == null ? pacing : p;
        }
        UnknownRecipientGuard guard = base.unknownRecipientGuard();
        if (m.containsKey("unknownRecipientGuard")) {
            UnknownRecipientGuard g = unknownRecipientGuard(m.get("unknownRecipientGuard").getValueNode(),
                    label + ".unknownRecipientGuard", guard);
            guard = g == null ? guard : g;
        }
        ConnectionSettings connections = base.connections();
        if (m.containsKey("connections")) {
            ConnectionSettings c = connections(m.get("connections").getValueNode(), label + ".connections", connections);
            connections = c == null ? connections : c;
        }
        TlsSettings tls = base.tls();
        if (m.containsKey("tls")) {
            TlsSettings t = tls(m.get("tls").getValueNode(), label + ".tls", tls);
            tls = t == null ? tls : t;
        }
        RuleSet rules = null;
        if (m.containsKey("rules")) {
            // Read with this file's reader: a rule's mistakes are named under the destination.
            rules = RuleSet.fromYaml(m.get("rules").getValueNode(), reader, label + ".rules");
        }
        if (reader.errorCount() > errorsBefore) {
            return null;
        }
        DestinationPolicy withNames = named.build();
        return DestinationPolicy.builder(name)
                .domains(withNames.domainPatterns())
                .mx(withNames.mxPatterns())
                .retry(retry).maxAge(maxAge).delayWarning(delayWarning).throttle(throttle)
                .route(route).concurrency(concurrency).rate(rate).pacing(pacing)
                .unknownRecipientGuard(guard).connections(connections).tls(tls).rules(rules)
                .build();
    }

    /** Domain or MX patterns, one or a list; {@link DeliveryPolicy#checkPattern} checks and lower-cases each. */
    private List<String> patterns(Node node, String field) {
        List<String> out = new ArrayList<>();
        List<Node> items = reader.valueOrList(node, field);
        for (int i = 0; i < items.size(); i++) {
            String s = reader.string(items.get(i), field + "[" + i + "]");
            if (s == null) {
                continue;
            }
            try {
                String p = DeliveryPolicy.checkPattern(s, field);
                if (out.contains(p)) {
                    reader.error(items.get(i), field + "[" + i + "]", "'" + s + "' is listed twice");
                } else {
                    out.add(p);
                }
            } catch (IllegalArgumentException e) {
                reader.error(items.get(i), field + "[" + i + "]", e.getMessage());
            }
        }
        return out;
    }

    private RetrySchedule retry(Node node, String field) {
        Map<String, NodeTuple> m = reader.mapping(node, field, RETRY_KEYS);
        if (m == null) {
            return null;
        }
        if (m.containsKey("schedule") == m.containsKey("exponential")) {
            reader.error(node, field, "give exactly one of 'schedule' (a list of delays) or 'exponential'");
            return null;
        }
        if (m.containsKey("schedule")) {
            Node v = m.get("schedule").getValueNode();
            List<Node> items = reader.list(v, field + ".schedule");
            if (items == null) {
                return null;
            }
            if (items.isEmpty()) {
                reader.error(v, field + ".schedule", "needs at least one delay");
                return null;
            }
            List<Duration> delays = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                Duration d = reader.duration(items.get(i), field + ".schedule[" + i + "]");
                if (d != null) {
                    delays.add(d);
                }
            }
            return delays.size() == items.size() ? RetrySchedule.explicit(delays) : null;
        }
        String f = field + ".exponential";
        Node v = m.get("exponential").getValueNode();
        Map<String, NodeTuple> e = reader.mapping(v, f, EXPONENTIAL_KEYS);
        if (e == null) {
            return null;
        }
        Double jitter = number(e, f, "jitter", 0.0);
        if (jitter != null && (jitter < 0.0 || jitter >= 1.0)) {
            reader.error(e.get("jitter").getValueNode(), f + ".jitter", "must be in [0, 1), got " + jitter);
            jitter = null;
        }
        Double checkedJitter = jitter;
        return growingDelay(e, v, f, "factor", (initial, factor, max) -> checkedJitter == null ? null
                : RetrySchedule.exponential(initial, factor, max, checkedJitter));
    }

    private ThrottleHold throttle(Node node, String field) {
        Map<String, NodeTuple> m = reader.mapping(node, field, THROTTLE_KEYS);
        if (m == null) {
            return null;
        }
        return growingDelay(m, node, field, "growth", ThrottleHold::of);
    }

    /**
     * {@code pacing: fixed} (the ceilings are the pace), {@code pacing: adaptive} (the defaults), or
     * a mapping of the adaptive settings that differ from the defaults. Null when wrong (recorded).
     */
    private PacingSettings pacing(Node node, String field) {
        if (node instanceof ScalarNode) {
            String word = ((ScalarNode) node).getValue().trim();
            if ("fixed".equals(word)) {
                return PacingSettings.FIXED;
            }
            if ("adaptive".equals(word)) {
                return PacingSettings.DEFAULT;
            }
            reader.error(node, field, "expected fixed, adaptive or a mapping of start, cut, step, growEvery, quiet"
                    + " and pause; got '" + word + "'");
            return null;
        }
        Map<String, NodeTuple> m = reader.mapping(node, field, PACING_KEYS);
        if (m == null) {
            return null;
        }
        PacingSettings d = PacingSettings.DEFAULT;
        Double start = number(m, field, "start", d.start());
        Double cut = number(m, field, "cut", d.cut());
        Double step = number(m, field, "step", d.step());
        Duration growEvery = m.containsKey("growEvery") ? reader.duration(m.get("growEvery").getValueNode(),
                field + ".growEvery") : d.growEvery();
        Duration quiet = m.containsKey("quiet") ? reader.duration(m.get("quiet").getValueNode(), field + ".quiet")
                : d.quiet();
        Duration pause = m.containsKey("pause") ? reader.duration(m.get("pause").getValueNode(), field + ".pause")
                : d.pause();
        if (start == null || cut == null || step == null || growEvery == null || quiet == null || pause == null) {
            return null;
        }
        try {
            return PacingSettings.of(true, start, cut, step, growEvery, quiet, pause);
        } catch (IllegalArgumentException e) {
            settingError(e, m, node, field);
            return null;
        }
    }

    /**
     * {@code unknownRecipientGuard: off}, {@code on} (the defaults), or a mapping of the settings that differ
     * from {@code base} (from the defaults when {@code base} is off). Null when wrong (recorded).
     */
    private UnknownRecipientGuard unknownRecipientGuard(Node node, String field, UnknownRecipientGuard base) {
        if (node instanceof ScalarNode) {
            String word = ((ScalarNode) node).getValue().trim();
            if ("off".equals(word)) {
                return UnknownRecipientGuard.OFF;
            }
            if ("on".equals(word)) {
                return UnknownRecipientGuard.DEFAULT;
            }
            reader.error(node, field, "expected off, on or a mapping of window, minRecipients, share and quiet; got '"
                    + word + "'");
            return null;
        }
        Map<String, NodeTuple> m = reader.mapping(node, field, GUARD_KEYS);
        if (m == null) {
            return null;
        }
        UnknownRecipientGuard d = base.isEnabled() ? base : UnknownRecipientGuard.DEFAULT;
        Duration window = m.containsKey("window") ? reader.duration(m.get("window").getValueNode(), field + ".window")
                : d.window();
        Integer minRecipients = m.containsKey("minRecipients")
                ? reader.integer(m.get("minRecipients").getValueNode(), field + ".minRecipients")
                : Integer.valueOf(d.minRecipients());
        Double share = number(m, field, "share", d.share());
        Duration quiet = m.containsKey("quiet") ? reader.duration(m.get("quiet").getValueNode(), field + ".quiet")
                : d.quiet();
        if (window == null || minRecipients == null || share == null || quiet == null) {
            return null;
        }
        try {
            return UnknownRecipientGuard.of(window, minRecipients, share, quiet);
        } catch (IllegalArgumentException e) {
            settingError(e, m, node, field);
            return null;
        }
    }

    /** Records a settings value's complaint, which starts with the setting's name ("cut must be in (0, 1): 1.5"), at that key. */
    private void settingError(IllegalArgumentException e, Map<String, NodeTuple> m, Node node, String field) {
        String key = e.getMessage().substring(0, e.getMessage().indexOf(' '));
        reader.error(m.containsKey(key) ? m.get(key).getValueNode() : node, YamlReader.child(field, key),
                e.getMessage().substring(key.length() + 1));
    }

    /**
     * {@code connections: {maxMessages: 20, idleTimeout: 2s, rsetAfterIdle: 1s}}; a setting not given comes from
     * {@code base}.
     * Null when wrong (recorded).
     */
    private ConnectionSettings connections(Node node, String field, ConnectionSettings base) {
        Map<String, NodeTuple> m = reader.mapping(node, field, CONNECTIONS_KEYS);
        if (m == null) {
            return null;
        }
        Integer maxMessages = base.maxMessages();
        if (m.containsKey("maxMessages")) {
            Node v = m.get("maxMessages").getValueNode();
            maxMessages = reader.integer(v, field + ".maxMessages");
            if (maxMessages != null && maxMessages < 1) {
                reader.error(v, field + ".maxMessages", "must be at least 1 (1: no reuse), got " + maxMessages);
                maxMessages = null;
            }
        }
        Duration idleTimeout = m.containsKey("idleTimeout")
                ? reader.duration(m.get("idleTimeout").getValueNode(), field + ".idleTimeout") : base.idleTimeout();
        Duration rsetAfterIdle = m.containsKey("rsetAfterIdle")
                ? reader.parsed(m.get("rsetAfterIdle").getValueNode(), field + ".rsetAfterIdle",
                        Durations::parseAllowingZero)
                : base.rsetAfterIdle();
        return maxMessages == null || idleTimeout == null || rsetAfterIdle == null ? null
                : ConnectionSettings.of(maxMessages, idleTimeout, rsetAfterIdle);
    }

    /**
     * {@code tls: opportunistic} (a level alone), or a mapping of {@code level}, {@code trustStore},
     * {@code trustStorePassword}, {@code plaintextFallback} and {@code mtaSts: on | off}; a setting not given comes
     * from {@code base}. Null when wrong (recorded).
     */
    private TlsSettings tls(Node node, String field, TlsSettings base) {
        if (node instanceof ScalarNode) {
            TlsSettings.Level level = tlsLevel((ScalarNode) node, field);
            return level == null ? null : base.withLevel(level);
        }
        Map<String, NodeTuple> m = reader.mapping(node, field, TLS_KEYS);
        if (m == null) {
            return null;
        }
        boolean ok = true;
        TlsSettings.Level level = base.level();
        if (m.containsKey("level")) {
            Node v = m.get("level").getValueNode();
            level = v instanceof ScalarNode ? tlsLevel((ScalarNode) v, field + ".level") : null;
            if (!(v instanceof ScalarNode)) {
                reader.error(v, field + ".level", "expected one of none, opportunistic, required, verified");
            }
            ok &= level != null;
        }
        String trustStore = base.trustStore().orElse(null);
        if (m.containsKey("trustStore")) {
            trustStore = reader.string(m.get("trustStore").getValueNode(), field + ".trustStore");
            ok &= trustStore != null;
            if (trustStore != null && trustStore.trim().isEmpty()) {
                reader.error(m.get("trustStore").getValueNode(), field + ".trustStore", "must not be empty");
                ok = false;
            }
        }
        String password = base.trustStorePassword().orElse(null);
        if (m.containsKey("trustStorePassword")) {
            password = reader.string(m.get("trustStorePassword").getValueNode(), field + ".trustStorePassword");
            ok &= password != null;
        }
        Duration fallback = base.plaintextFallback();
        if (m.containsKey("plaintextFallback")) {
            fallback = reader.duration(m.get("plaintextFallback").getValueNode(), field + ".plaintextFallback");
            ok &= fallback != null;
        }
        boolean mtaSts = base.mtaSts();
        if (m.containsKey("mtaSts")) {
            Node v = m.get("mtaSts").getValueNode();
            String word = v instanceof ScalarNode ? ((ScalarNode) v).getValue().trim() : "";
            if ("on".equals(word) || "true".equals(word)) {
                mtaSts = true;
            } else if ("off".equals(word) || "false".equals(word)) {
                mtaSts = false;
            } else {
                reader.error(v, field + ".mtaSts", "expected on or off, got '" + word + "'");
                ok = false;
            }
        }
        String policyUrl = base.mtaStsPolicyUrl();
        if (m.containsKey("mtaStsPolicyUrl")) {
            policyUrl = reader.string(m.get("mtaStsPolicyUrl").getValueNode(), field + ".mtaStsPolicyUrl");
            ok &= policyUrl != null;
        }
        if (!ok) {
            return null;
        }
        try {
            return TlsSettings.of(level, trustStore, password, fallback, mtaSts, policyUrl);
        } catch (IllegalArgumentException e) {
            settingError(e, m, node, field);
            return null;
        }
    }

    private TlsSettings.Level tlsLevel(ScalarNode node, String field) {
        String word = node.getValue().trim();
        TlsSettings.Level level = TlsSettings.Level.named(word).orElse(null);
        if (level == null) {
            reader.error(node, field, "expected none, opportunistic, required, verified or a mapping of level,"
                    + " trustStore, trustStorePassword, plaintextFallback and mtaSts; got '" + word + "'");
        }
        return level;
    }

    /** Makes a value of a delay that starts at initial and grows by factor up to max. */
    private interface GrowingDelayMaker<T> {
        T make(Duration initial, double factor, Duration max);
    }

    /**
     * What an exponential retry and a throttle hold share: {@code initial}, {@code max} and a growth
     * factor under {@code factorKey}. Null when any is missing or wrong (recorded).
     */
    private <T> T growingDelay(Map<String, NodeTuple> m, Node owner, String field, String factorKey,
                               GrowingDelayMaker<T> maker) {
        Duration initial = reader.requiredDuration(m, owner, field, "initial");
        Duration max = reader.requiredDuration(m, owner, field, "max");
        Double factor = number(m, field, factorKey, 2.0);
        if (factor != null && factor < 1.0) {
            // Below 1 the delay would shrink with every step.
            reader.error(m.get(factorKey).getValueNode(), field + "." + factorKey, "must be at least 1, got " + factor);
            factor = null;
        }
        if (initial != null && max != null && max.compareTo(initial) < 0) {
            reader.error(m.get("max").getValueNode(), field + ".max", "max (" + Durations.format(max)
                    + ") must not be below initial (" + Durations.format(initial) + ")");
            return null;
        }
        return initial == null || max == null || factor == null ? null : maker.make(initial, factor, max);
    }

    /** The number under {@code key}, {@code ifAbsent} when not given, or null when wrong (recorded). */
    private Double number(Map<String, NodeTuple> m, String field, String key, double ifAbsent) {
        return m.containsKey(key) ? reader.number(m.get(key).getValueNode(), YamlReader.child(field, key))
                : Double.valueOf(ifAbsent);
    }

    /** A key's entry, looked up without the checks {@link YamlReader#mapping} records (made once elsewhere). */
    private static NodeTuple firstTuple(Node mapping, String key) {
        for (NodeTuple t : ((MappingNode) mapping).getValue()) {
            if (t.getKeyNode() instanceof ScalarNode && key.equals(((ScalarNode) t.getKeyNode()).getValue())) {
                return t;
            }
        }
        return null;
    }
}
