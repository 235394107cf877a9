package org.mailpolicy.rules;

import static org.mailpolicy.yaml.YamlNodes.describe;
import static org.mailpolicy.yaml.YamlNodes.line;

import com.google.common.collect.ImmutableSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.mailpolicy.destination.Durations;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.yaml.YamlNodes;
import org.yaml.snakeyaml.nodes.MappingNode;
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
    private static final Set<String> RULE_KEYS = ImmutableSet.of("id", "match", "action", "reason", "scope", "hold",
            "retryAfter", "explanation", "remedy", "source");
    private static final Set<String> MATCH_KEYS = ImmutableSet.of("code", "enhanced", "token", "text", "stage");
    /** Sisimai's reason names (lower case); a typo here would silently split statistics. */
    static final Set<String> REASONS = ImmutableSet.of("authfailure", "badreputation", "blocked", "contenterror",
            "expired", "filtered", "hasmoved", "hostunknown", "mailboxfull", "mailererror", "mesgtoobig",
            "networkerror", "norelaying", "notaccept", "notcompliantrfc", "onhold", "policyviolation", "rejected",
            "requireptr", "securityerror", "spamdetected", "speeding", "suspend", "syntaxerror", "systemerror",
            "systemfull", "toomanyconn", "undefined", "userunknown", "virusdetected");
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,79}");
    private static final Pattern CODE_CLASS = Pattern.compile("([2-5])xx", Pattern.CASE_INSENSITIVE);
    private static final Pattern ENHANCED = Pattern.compile("([245xX])\\.(\\d{1,3}|\\*)\\.(\\d{1,3}|\\*)");
    private static final Pattern TOKEN = Pattern.compile("[A-Z]{2,4}:[A-Z0-9]{1,3}|RTRU");
    private static final int MAX_TEXT_CHARS = 2000;

    private final String fileName;
    private final List<String> errors = new ArrayList<>();
    private final List<Integer> errorLines = new ArrayList<>();

    private RuleLoader(String fileName) {
        this.fileName = fileName;
    }

    static RuleSet parseDocument(String yaml, String fileName) throws RulesException {
        RuleLoader loader = new RuleLoader(fileName);
        List<ReplyRule> rules = loader.document(yaml == null ? "" : yaml);
        loader.throwIfErrors();
        return new RuleSet(fileName, rules);
    }

    static RuleSet parseRulesList(Node node, String fileName) throws RulesException {
        RuleLoader loader = new RuleLoader(fileName);
        List<ReplyRule> rules = node == null ? new ArrayList<>() : loader.rulesList(node, "rules");
        loader.throwIfErrors();
        return new RuleSet(fileName, rules);
    }

    private void throwIfErrors() throws RulesException {
        if (errors.isEmpty()) {
            return;
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < errors.size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Integer.compare(errorLines.get(a), errorLines.get(b)));
        List<String> sorted = new ArrayList<>();
        for (int i : order) {
            sorted.add(errors.get(i));
        }
        throw new RulesException(sorted);
    }

    private List<ReplyRule> document(String yaml) {
        List<ReplyRule> none = new ArrayList<>();
        if (yaml.length() > MAX_FILE_CHARS) {
            addError(1, "file: larger than " + MAX_FILE_CHARS + " characters");
            return none;
        }
        Node root;
        try {
            root = YamlNodes.compose(yaml, MAX_FILE_CHARS);
        } catch (YamlNodes.SyntaxError e) {
            addError(e.line(), "yaml: " + e.getMessage());
            return none;
        }
        if (root == null) {
            addError(1, "file: empty; expected 'version: " + SUPPORTED_VERSION + "' and a 'rules:' list");
            return none;
        }
        Map<String, NodeTuple> top = mapping(root, "", ROOT_KEYS);
        if (top == null) {
            return none;
        }
        NodeTuple version = top.get("version");
        if (version == null) {
            error(root, "version", "missing; this format is 'version: " + SUPPORTED_VERSION + "'");
        } else {
            String v = string(version.getValueNode(), "version");
            if (v != null && !String.valueOf(SUPPORTED_VERSION).equals(v.trim())) {
                error(version.getValueNode(), "version", "unsupported version '" + v + "'; this engine reads version "
                        + SUPPORTED_VERSION);
            }
        }
        NodeTuple rules = top.get("rules");
        if (rules == null) {
            error(root, "rules", "missing; expected a list of rules");
            return none;
        }
        return rulesList(rules.getValueNode(), "rules");
    }

    private List<ReplyRule> rulesList(Node node, String field) {
        List<ReplyRule> out = new ArrayList<>();
        if (!(node instanceof SequenceNode)) {
            error(node, field, "expected a list of rules, got " + describe(node));
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
        Map<String, NodeTuple> m = mapping(node, field + ".", RULE_KEYS);
        if (m == null) {
            return null;
        }
        int errorsBefore = errors.size();
        ReplyRule.Builder b = new ReplyRule.Builder();
        b.origin = fileName + ":" + line(node);

        String id = required(m, node, field, "id");
        if (id != null) {
            if (!ID.matcher(id).matches()) {
                error(m.get("id").getValueNode(), field + ".id", "'" + id
                        + "' is not a valid id: lower-case letters, digits, '.', '_', '-' (at most 80)");
            } else if (idLines.containsKey(id)) {
                error(m.get("id").getValueNode(), field + ".id", "duplicate id '" + id + "' (first at line "
                        + idLines.get(id) + ")");
            } else {
                idLines.put(id, line(m.get("id").getValueNode()));
            }
            field = field + "(" + id + ")";
            b.id = id;
        }

        if (m.get("match") == null) {
            error(node, field + ".match", "missing; use {} to match every reply");
        } else {
            match(m.get("match").getValueNode(), field + ".match", b);
        }

        String action = required(m, node, field, "action");
        if (action != null) {
            try {
                b.action = Action.valueOf(action.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                error(m.get("action").getValueNode(), field + ".action", "unknown action '" + action
                        + "'; expected retry, throttle, bounce or suppress");
            }
        }
        String reason = required(m, node, field, "reason");
        if (reason != null) {
            if (!REASONS.contains(reason)) {
                error(m.get("reason").getValueNode(), field + ".reason", "unknown reason '" + reason
                        + "'; expected one of " + String.join(", ", REASONS));
            } else {
                b.reason = reason;
            }
        }
        String scope = required(m, node, field, "scope");
        if (scope != null) {
            try {
                b.scope = Scope.valueOf(scope.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                error(m.get("scope").getValueNode(), field + ".scope", "unknown scope '" + scope
                        + "'; expected recipient, message or destination");
            }
        }
        if (m.get("hold") != null) {
            b.hold = duration(m.get("hold").getValueNode(), field + ".hold");
        }
        if (m.get("retryAfter") != null) {
            b.retryAfter = duration(m.get("retryAfter").getValueNode(), field + ".retryAfter");
        }
        b.explanation = prose(m, node, field, "explanation");
        b.remedy = prose(m, node, field, "remedy");
        b.source = prose(m, node, field, "source");

        // Cross-field rules: these are the mistakes that would make the engine do harm.
        if (b.action == Action.SUPPRESS && b.reason != null && !"userunknown".equals(b.reason)) {
            error(m.get("action").getValueNode(), field + ".action", "suppress is only for reason userunknown"
                    + " (suppressing an address over quota, policy, reputation or content loses a real person's"
                    + " mail); use bounce for reason " + b.reason);
        }
        if (b.action == Action.SUPPRESS && b.scope != null && b.scope != Scope.RECIPIENT) {
            error(m.get("scope").getValueNode(), field + ".scope", "suppress applies to one recipient; scope must"
                    + " be recipient");
        }
        if (b.action == Action.THROTTLE && b.scope != null && b.scope != Scope.DESTINATION) {
            error(m.get("scope").getValueNode(), field + ".scope", "throttle holds the whole destination; scope"
                    + " must be destination");
        }
        if (b.hold != null && b.action != null && b.action != Action.THROTTLE) {
            error(m.get("hold").getValueNode(), field + ".hold", "only a throttle holds a destination; use"
                    + " retryAfter for action " + b.action.id());
        }
        if (b.retryAfter != null && b.action != null && b.action.isFinal()) {
            error(m.get("retryAfter").getValueNode(), field + ".retryAfter", "action " + b.action.id()
                    + " is final; retryAfter only applies to retry or throttle");
        }
        SuppressionSafety.check(b, m.get("match"), field + ".match", this::error);
        if (errors.size() != errorsBefore) {
            return null;
        }
        return new ReplyRule(b);
    }

    private void match(Node node, String field, ReplyRule.Builder b) {
        Map<String, NodeTuple> m = mapping(node, field + ".", MATCH_KEYS);
        if (m == null) {
            return;
        }
        if (m.get("code") != null) {
            for (Node v : scalars(m.get("code").getValueNode(), field + ".code")) {
                String s = ((ScalarNode) v).getValue().trim();
                Matcher cls = CODE_CLASS.matcher(s);
                if (cls.matches()) {
                    b.codeClasses.add(Integer.parseInt(cls.group(1)));
                } else if ("none".equalsIgnoreCase(s)) {
                    b.codeClasses.add(ReplyRule.NO_CODE);
                } else if (s.matches("[2-5]\\d\\d")) {
                    b.codes.add(Integer.parseInt(s));
                } else {
                    error(v, field + ".code", "'" + s + "' is not a code: expected a number 200-599, a class"
                            + " such as 4xx, or none");
                }
            }
        }
        if (m.get("enhanced") != null) {
            for (Node v : scalars(m.get("enhanced").getValueNode(), field + ".enhanced")) {
                String s = ((ScalarNode) v).getValue().trim();
                Matcher e = ENHANCED.matcher(s);
                if (!e.matches() || "*".equals(e.group(2)) && !"*".equals(e.group(3))) {
                    error(v, field + ".enhanced", "'" + s + "' is not an enhanced code pattern: expected"
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
            for (Node v : scalars(m.get("token").getValueNode(), field + ".token")) {
                String s = ((ScalarNode) v).getValue().trim();
                if (!TOKEN.matcher(s).matches()) {
                    error(v, field + ".token", "'" + s + "' is not a provider token: expected 2-4 capitals, a"
                            + " colon and 1-3 capitals or digits (DYN:T1), or RTRU");
                } else {
                    b.tokens.add(s);
                }
            }
        }
        if (m.get("text") != null) {
            String s = string(m.get("text").getValueNode(), field + ".text");
            if (s != null) {
                if (s.isEmpty() || s.length() > MAX_TEXT_CHARS) {
                    error(m.get("text").getValueNode(), field + ".text", "a pattern of 1 to " + MAX_TEXT_CHARS
                            + " characters is expected");
                } else {
                    try {
                        b.text = Pattern.compile(s, Pattern.CASE_INSENSITIVE);
                    } catch (PatternSyntaxException e) {
                        error(m.get("text").getValueNode(), field + ".text", "bad regular expression: "
                                + YamlNodes.firstLine(e.getDescription()) + " near index " + e.getIndex() + " of '" + s + "'");
                    }
                }
            }
        }
        if (m.get("stage") != null) {
            for (Node v : scalars(m.get("stage").getValueNode(), field + ".stage")) {
                String s = ((ScalarNode) v).getValue().trim();
                try {
                    Stage st = Stage.valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
                    if (st == Stage.UNKNOWN) {
                        throw new IllegalArgumentException();
                    }
                    b.stages.add(st);
                } catch (IllegalArgumentException e) {
                    error(v, field + ".stage", "unknown stage '" + s
                            + "'; expected CONNECT, HELO, MAIL, RCPT, DATA or END_OF_DATA");
                }
            }
        }
    }

    private String required(Map<String, NodeTuple> m, Node owner, String field, String key) {
        NodeTuple t = m.get(key);
        if (t == null) {
            error(owner, field + "." + key, "missing");
            return null;
        }
        String s = string(t.getValueNode(), field + "." + key);
        if (s != null && s.trim().isEmpty()) {
            error(t.getValueNode(), field + "." + key, "empty");
            return null;
        }
        return s == null ? null : s.trim();
    }

    private String prose(Map<String, NodeTuple> m, Node owner, String field, String key) {
        String s = required(m, owner, field, key);
        if (s != null && s.length() > 2000) {
            error(m.get(key).getValueNode(), field + "." + key, "longer than 2000 characters");
            return null;
        }
        return s == null ? null : s.replaceAll("\\s+", " ");
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

    /** A scalar or a list of scalars. */
    private List<Node> scalars(Node node, String field) {
        List<Node> out = new ArrayList<>();
        if (node instanceof ScalarNode) {
            out.add(node);
        } else if (node instanceof SequenceNode && !((SequenceNode) node).getValue().isEmpty()) {
            for (Node v : ((SequenceNode) node).getValue()) {
                if (v instanceof ScalarNode) {
                    out.add(v);
                } else {
                    error(v, field, "expected a single value in the list, got " + describe(v));
                }
            }
        } else {
            error(node, field, "expected a value or a non-empty list of values, got " + describe(node));
        }
        return out;
    }

    private Map<String, NodeTuple> mapping(Node node, String prefix, Set<String> allowed) {
        String where = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
        if (!(node instanceof MappingNode)) {
            error(node, where.isEmpty() ? "file" : where, "expected a mapping, got " + describe(node));
            return null;
        }
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode)) {
                error(k, where, "keys must be plain names");
                continue;
            }
            String key = ((ScalarNode) k).getValue();
            if (!allowed.contains(key)) {
                error(k, prefix + key, "unknown key '" + key + "'; expected one of " + String.join(", ", allowed));
            } else if (out.containsKey(key)) {
                error(k, prefix + key, "given twice (first at line " + line(out.get(key).getKeyNode()) + ")");
            } else {
                out.put(key, t);
            }
        }
        return out;
    }

    private String string(Node node, String field) {
        if (!(node instanceof ScalarNode)) {
            error(node, field, "expected a single value, got " + describe(node));
            return null;
        }
        return ((ScalarNode) node).getValue();
    }

    private void addError(int line, String fieldAndMessage) {
        errors.add(fileName + ":" + line + ": " + fieldAndMessage);
        errorLines.add(line);
    }

    private void error(Node node, String field, String message) {
        addError(line(node), field + ": " + message);
    }
}
