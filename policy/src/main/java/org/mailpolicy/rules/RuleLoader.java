package org.mailpolicy.rules;

import static org.mailpolicy.yaml.YamlNodes.describe;
import static org.mailpolicy.yaml.YamlNodes.line;

import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.yaml.YamlNodes;
import org.mailpolicy.yaml.YamlReader;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads and validates rules with SnakeYAML's node API, so every error names file, line and field.
 * Collects all problems before failing.
 */
final class RuleLoader {
    static final int MAX_FILE_CHARS = 1 << 20;
    static final int SUPPORTED_VERSION = 1;

    private static final Set<String> ROOT_KEYS = ImmutableSet.of("version", "rules");
    private static final Set<String> RULE_KEYS = ImmutableSet.of("id", "match", "action", "reason", "scope", "effect",
            "hold", "retryAfter", "explanation", "remedy", "source");
    private static final Set<String> MATCH_KEYS = ImmutableSet.of("code", "enhanced", "token", "text", "stage");
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,79}");
    private static final Pattern CODE_CLASS = Pattern.compile("([2-5])xx", Pattern.CASE_INSENSITIVE);
    private static final Pattern ENHANCED = Pattern.compile("([245xX])\\.(\\d{1,3}|\\*)\\.(\\d{1,3}|\\*)");
    private static final Pattern TOKEN = Pattern.compile("[A-Z]{2,4}:[A-Z0-9]{1,3}|RTRU");
    private static final int MAX_TEXT_CHARS = 2000;

    private final YamlReader reader;

    private RuleLoader(YamlReader reader) {
        this.reader = reader;
    }

    static RuleSet parseDocument(String yaml, String fileName) throws RulesException {
        YamlReader reader = new YamlReader(fileName);
        List<ReplyRule> rules = new RuleLoader(reader).document(yaml == null ? "" : yaml);
        throwIfErrors(reader);
        return new RuleSet(fileName, rules);
    }

    static RuleSet parseRulesList(Node node, String fileName) throws RulesException {
        YamlReader reader = new YamlReader(fileName);
        RuleSet rules = readRulesList(node, reader, "rules");
        throwIfErrors(reader);
        return rules;
    }

    /**
     * The rules of a {@code rules:} list, its mistakes named under {@code field}; null when any
     * rule is wrong (the mistakes are recorded in {@code reader}).
     */
    static RuleSet readRulesList(Node node, YamlReader reader, String field) {
        int errorsBefore = reader.errorCount();
        List<ReplyRule> rules = node == null ? new ArrayList<>() : new RuleLoader(reader).rulesList(node, field);
        return reader.errorCount() > errorsBefore ? null : new RuleSet(reader.fileName(), rules);
    }

    private static void throwIfErrors(YamlReader reader) throws RulesException {
        if (reader.hasErrors()) {
            throw new RulesException(reader.errorsInFileOrder());
        }
    }

    private List<ReplyRule> document(String yaml) {
        List<ReplyRule> none = new ArrayList<>();
        Node root = reader.document(yaml, MAX_FILE_CHARS,
                "expected 'version: " + SUPPORTED_VERSION + "' and a 'rules:' list");
        Map<String, NodeTuple> top = root == null ? null : reader.mapping(root, "", ROOT_KEYS);
        if (top == null) {
            return none;
        }
        reader.version(root, top, SUPPORTED_VERSION);
        NodeTuple rules = top.get("rules");
        if (rules == null) {
            reader.error(root, "rules", "missing; expected a list of rules");
            return none;
        }
        return rulesList(rules.getValueNode(), "rules");
    }

    private List<ReplyRule> rulesList(Node node, String field) {
        List<ReplyRule> out = new ArrayList<>();
        if (!(node instanceof SequenceNode)) {
            reader.error(node, field, "expected a list of rules, got " + describe(node));
            return out;
        }
        Map<String, Integer> idLines = new HashMap<>();
        List<Node> items = ((SequenceNode) node).getValue();
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            ReplyRule rule = rule(item, field + "[" + i + "]", idLines);
            if (rule != null) {
                out.add(rule);
            }
        }
        return out;
    }

    private ReplyRule rule(Node node, String field, Map<String, Integer> idLines) {
        Map<String, NodeTuple> m = reader.mapping(node, field, RULE_KEYS);
        if (m == null) {
            return null;
        }
        int errorsBefore = reader.errorCount();
        ReplyRule.Builder b = new ReplyRule.Builder();
        b.origin = reader.fileName() + ":" + line(node);

        String id = reader.requiredString(m, node, field, "id");
        if (id != null) {
            if (!ID.matcher(id).matches()) {
                reader.error(m.get("id").getValueNode(), field + ".id", "'" + id
                        + "' is not a valid id: lower-case letters, digits, '.', '_', '-' (at most 80)");
            } else if (idLines.containsKey(id)) {
                reader.error(m.get("id").getValueNode(), field + ".id", "duplicate id '" + id + "' (first at line "
                        + idLines.get(id) + ")");
            } else {
                idLines.put(id, line(m.get("id").getValueNode()));
            }
            field = field + "(" + id + ")";
            b.id = id;
        }

        if (m.get("match") == null) {
            reader.error(node, field + ".match", "missing; use {} to match every reply");
        } else {
            match(m.get("match").getValueNode(), field + ".match", b);
        }

        Node action = reader.required(m, node, field, "action");
        if (action != null) {
            b.action = reader.choice(action, field + ".action", Action.class, "action");
        }
        String reason = reader.requiredString(m, node, field, "reason");
        if (reason != null) {
            if (!Reasons.ALL.contains(reason)) {
                reader.error(m.get("reason").getValueNode(), field + ".reason", "unknown reason '" + reason
                        + "'; expected one of " + String.join(", ", Reasons.ALL));
            } else {
                b.reason = reason;
            }
        }
        Node scope = reader.required(m, node, field, "scope");
        if (scope != null) {
            b.scope = reader.choice(scope, field + ".scope", Scope.class, "scope");
        }
        if (m.get("hold") != null) {
            b.hold = reader.duration(m.get("hold").getValueNode(), field + ".hold");
        }
        if (m.get("effect") != null) {
            b.effect = reader.choice(m.get("effect").getValueNode(), field + ".effect", ThrottleEffect.class, "effect");
        }
        if (m.get("retryAfter") != null) {
            b.retryAfter = reader.duration(m.get("retryAfter").getValueNode(), field + ".retryAfter");
        }
        b.explanation = prose(m, node, field, "explanation");
        b.remedy = prose(m, node, field, "remedy");
        b.source = prose(m, node, field, "source");

        // Cross-field rules: these are the mistakes that would make the engine do harm.
        if (b.action == Action.SUPPRESS && b.reason != null && !"userunknown".equals(b.reason)) {
            reader.error(m.get("action").getValueNode(), field + ".action", "suppress is only for reason userunknown"
                    + " (suppressing an address over quota, policy, reputation or content loses a real person's"
                    + " mail); use bounce for reason " + b.reason);
        }
        if (b.action == Action.SUPPRESS && b.scope != null && b.scope != Scope.RECIPIENT) {
            reader.error(m.get("scope").getValueNode(), field + ".scope", "suppress applies to one recipient; scope must"
                    + " be recipient");
        }
        if (b.action == Action.THROTTLE && b.scope != null && b.scope != Scope.DESTINATION) {
            reader.error(m.get("scope").getValueNode(), field + ".scope", "throttle holds the whole destination; scope"
                    + " must be destination");
        }
        if (b.hold != null && b.action != null && b.action != Action.THROTTLE) {
            reader.error(m.get("hold").getValueNode(), field + ".hold", "only a throttle holds a destination; use"
                    + " retryAfter for action " + b.action.id());
        }
        if (b.effect != null && b.action != null && b.action != Action.THROTTLE) {
            reader.error(m.get("effect").getValueNode(), field + ".effect", "only a throttle has an effect on the"
                    + " destination; action " + b.action.id() + " concerns this message alone");
        }
        if (b.effect != null && !b.effect.holds() && b.hold != null) {
            reader.error(m.get("hold").getValueNode(), field + ".hold", "effect " + b.effect.fileName() + " does not"
                    + " hold the destination (its pause follows from the lowered pace); use hold-and-slow for a hold");
        }
        if (b.retryAfter != null && b.action != null && b.action.isFinal()) {
            reader.error(m.get("retryAfter").getValueNode(), field + ".retryAfter", "action " + b.action.id()
                    + " is final; retryAfter only applies to retry or throttle");
        }
        SuppressionSafety.check(b, m.get("match"), field + ".match", reader::error);
        if (reader.errorCount() != errorsBefore) {
            return null;
        }
        return new ReplyRule(b);
    }

    private void match(Node node, String field, ReplyRule.Builder b) {
        Map<String, NodeTuple> m = reader.mapping(node, field, MATCH_KEYS);
        if (m == null) {
            return;
        }
        if (m.get("code") != null) {
            for (ScalarNode v : patterns(m.get("code").getValueNode(), field + ".code")) {
                String s = v.getValue().trim();
                Matcher cls = CODE_CLASS.matcher(s);
                if (cls.matches()) {
                    b.codeClasses.add(Integer.parseInt(cls.group(1)));
                } else if ("none".equalsIgnoreCase(s)) {
                    b.codeClasses.add(ReplyRule.NO_CODE);
                } else if (s.matches("[2-5]\\d\\d")) {
                    b.codes.add(Integer.parseInt(s));
                } else {
                    reader.error(v, field + ".code", "'" + s + "' is not a code: expected a number 200-599, a class"
                            + " such as 4xx, or none");
                }
            }
        }
        if (m.get("enhanced") != null) {
            for (ScalarNode v : patterns(m.get("enhanced").getValueNode(), field + ".enhanced")) {
                String s = v.getValue().trim();
                Matcher e = ENHANCED.matcher(s);
                if (!e.matches() || "*".equals(e.group(2)) && !"*".equals(e.group(3))) {
                    reader.error(v, field + ".enhanced", "'" + s + "' is not an enhanced code pattern: expected"
                            + " class.subject.detail such as 5.1.1, X.1.1 (any class), 5.1.* or 5.*.*");
                    continue;
                }
                b.enhanced.add(new ReplyRule.EnhancedPattern(
                        "xX".contains(e.group(1)) ? ReplyRule.EnhancedPattern.ANY : Integer.parseInt(e.group(1)),
                        "*".equals(e.group(2)) ? ReplyRule.EnhancedPattern.ANY : Integer.parseInt(e.group(2)),
                        "*".equals(e.group(3)) ? ReplyRule.EnhancedPattern.ANY : Integer.parseInt(e.group(3))));
            }
        }
        if (m.get("token") != null) {
            for (ScalarNode v : patterns(m.get("token").getValueNode(), field + ".token")) {
                String s = v.getValue().trim();
                if (!TOKEN.matcher(s).matches()) {
                    reader.error(v, field + ".token", "'" + s + "' is not a provider token: expected 2-4 capitals, a"
                            + " colon and 1-3 capitals or digits (DYN:T1), or RTRU");
                } else {
                    b.tokens.add(s);
                }
            }
        }
        if (m.get("text") != null) {
            String s = reader.string(m.get("text").getValueNode(), field + ".text");
            if (s != null) {
                if (s.isEmpty() || s.length() > MAX_TEXT_CHARS) {
                    reader.error(m.get("text").getValueNode(), field + ".text", "a pattern of 1 to " + MAX_TEXT_CHARS
                            + " characters is expected");
                } else {
                    try {
                        b.text = Pattern.compile(s, Pattern.CASE_INSENSITIVE);
                    } catch (PatternSyntaxException e) {
                        reader.error(m.get("text").getValueNode(), field + ".text", "bad regular expression: "
                                + YamlNodes.firstLine(e.getDescription()) + " near index " + e.getIndex() + " of '" + s + "'");
                    }
                }
            }
        }
        if (m.get("stage") != null) {
            for (ScalarNode v : patterns(m.get("stage").getValueNode(), field + ".stage")) {
                String s = v.getValue().trim();
                try {
                    Stage st = Stage.valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
                    if (st == Stage.UNKNOWN) {
                        throw new IllegalArgumentException();
                    }
                    b.stages.add(st);
                } catch (IllegalArgumentException e) {
                    reader.error(v, field + ".stage", "unknown stage '" + s
                            + "'; expected CONNECT, HELO, MAIL, RCPT, DATA or END_OF_DATA");
                }
            }
        }
    }

    private String prose(Map<String, NodeTuple> m, Node owner, String field, String key) {
        String s = reader.requiredString(m, owner, field, key);
        if (s != null && s.length() > 2000) {
            reader.error(m.get(key).getValueNode(), field + "." + key, "longer than 2000 characters");
            return null;
        }
        return s == null ? null : s.replaceAll("\\s+", " ");
    }

    /**
     * The values of a match key, one or a list; an empty list would match nothing, so it is refused.
     * Errors name the key, as the errors about each value do.
     */
    private List<ScalarNode> patterns(Node node, String field) {
        if (node instanceof SequenceNode && ((SequenceNode) node).getValue().isEmpty()) {
            reader.error(node, field, "expected a value or a non-empty list of values, got an empty list");
        }
        List<ScalarNode> out = new ArrayList<>();
        for (Node item : reader.valueOrList(node, field)) {
            if (reader.string(item, field) != null) {
                out.add((ScalarNode) item);
            }
        }
        return out;
    }
}
