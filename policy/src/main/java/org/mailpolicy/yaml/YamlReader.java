package org.mailpolicy.yaml;

import static org.mailpolicy.yaml.YamlNodes.describe;
import static org.mailpolicy.yaml.YamlNodes.line;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ListMultimap;
import com.google.common.collect.MultimapBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the nodes of one operator's file (the policy file, a rules file) into values, and records
 * each mistake as {@code FILE:LINE: FIELD: MESSAGE} instead of stopping at the first, so that the
 * operator fixes them all in one pass. The policy file and the rules files share it so that the
 * same mistake reads the same in both.
 *
 * <p>A reading method that meets a mistake records it and returns null (a list: empty), and the
 * caller goes on with the next field. A field is a dotted path such as
 * {@code destinations[aol].retry.schedule[0]}; the empty field is the document itself, named
 * {@code file} in errors.
 */
public final class YamlReader {
    private final String fileName;
    /** By line, and on one line in the order found: the checks run by structure, operators read top to bottom. */
    private final ListMultimap<Integer, String> errors = MultimapBuilder.treeKeys().arrayListValues().build();

    public YamlReader(String fileName) {
        this.fileName = Preconditions.checkNotNull(fileName, "fileName");
    }

    /** The name errors start with. */
    public String fileName() {
        return fileName;
    }

    // ---- the document ----

    /**
     * The document's root node, or null after recording why there is none: too large, not YAML,
     * or empty.
     *
     * @param whatToWrite what an empty file lacks, for its error, e.g. {@code expected at least 'version: 1'}
     */
    public Node document(String yaml, int maxChars, String whatToWrite) {
        if (yaml.length() > maxChars) {
            error(1, "", "larger than " + maxChars + " characters");
            return null;
        }
        Node root;
        try {
            root = YamlNodes.compose(yaml, maxChars);
        } catch (YamlNodes.SyntaxError e) {
            error(e.line(), "yaml", e.getMessage());
            return null;
        }
        if (root == null) {
            error(1, "", "empty; " + whatToWrite);
        }
        return root;
    }

    /**
     * Checks the {@code version:} key of a document's root mapping: present, a whole number, the
     * one this engine reads. Every file format of this project reads it this way.
     */
    public void version(Node root, Map<String, NodeTuple> rootMapping, int supported) {
        NodeTuple version = rootMapping.get("version");
        if (version == null) {
            error(root, "version", "missing; this format is 'version: " + supported + "'");
            return;
        }
        Integer v = integer(version.getValueNode(), "version");
        if (v != null && v != supported) {
            error(version.getValueNode(), "version", "unsupported version " + v + "; this engine reads version "
                    + supported);
        }
    }

    // ---- structure ----

    /**
     * The mapping's entries by key, in the file's order. A key that is not allowed, one given
     * twice or one that is not a plain word is an error, and is left out.
     */
    public Map<String, NodeTuple> mapping(Node node, String field, Set<String> allowedKeys) {
        if (!isMapping(node, field)) {
            return null;
        }
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode)) {
                error(k, field, "keys must be plain words");
                continue;
            }
            String key = ((ScalarNode) k).getValue();
            if (!allowedKeys.contains(key)) {
                error(k, child(field, key), "unknown key; expected one of " + String.join(", ", allowedKeys));
            } else if (out.containsKey(key)) {
                error(k, child(field, key), "given twice (first at line " + line(out.get(key).getKeyNode()) + ")");
            } else {
                out.put(key, t);
            }
        }
        return out;
    }

    /** Whether the node is a mapping; when not, records that one was expected. */
    public boolean isMapping(Node node, String field) {
        if (!(node instanceof MappingNode)) {
            error(node, field, "expected a mapping (key: value), got " + describe(node));
            return false;
        }
        return true;
    }

    /** The value of a key that must be there, or null after recording that it is missing from {@code owner}. */
    public Node required(Map<String, NodeTuple> mapping, Node owner, String field, String key) {
        NodeTuple t = mapping.get(key);
        if (t == null) {
            error(owner, child(field, key), "missing");
            return null;
        }
        return t.getValueNode();
    }

    /** The list's items, or null after recording that the node is not a list. */
    public List<Node> list(Node node, String field) {
        if (!(node instanceof SequenceNode)) {
            error(node, field, "expected a list, got " + describe(node));
            return null;
        }
        return ((SequenceNode) node).getValue();
    }

    /**
     * The items of one value or of a list of values ({@code code: 550} or {@code code: [550, 551]});
     * anything else is an error and gives no items. The caller reads each item, as a single value.
     */
    public List<Node> valueOrList(Node node, String field) {
        if (node instanceof ScalarNode) {
            return ImmutableList.of(node);
        }
        if (node instanceof SequenceNode) {
            return ((SequenceNode) node).getValue();
        }
        error(node, field, "expected a value or a list of values, got " + describe(node));
        return ImmutableList.of();
    }

    // ---- single values ----

    /** The value as written (not trimmed). */
    public String string(Node node, String field) {
        if (!(node instanceof ScalarNode)) {
            error(node, field, "expected a single value, got " + describe(node));
            return null;
        }
        return ((ScalarNode) node).getValue();
    }

    /** The value trimmed; blank is an error. */
    public String nonEmptyString(Node node, String field) {
        String s = string(node, field);
        if (s != null && s.trim().isEmpty()) {
            error(node, field, "must not be empty");
            return null;
        }
        return s == null ? null : s.trim();
    }

    /** {@link #nonEmptyString} of a key that must be there. */
    public String requiredString(Map<String, NodeTuple> mapping, Node owner, String field, String key) {
        Node value = required(mapping, owner, field, key);
        return value == null ? null : nonEmptyString(value, child(field, key));
    }

    /**
     * A value in a syntax of its own (a route, a rate, a duration), or null after recording the
     * parser's complaint.
     *
     * @param parser throws {@link IllegalArgumentException} with a message that says what is wrong
     */
    public <T> T parsed(Node node, String field, Function<String, T> parser) {
        String s = string(node, field);
        if (s == null) {
            return null;
        }
        try {
            return parser.apply(s);
        } catch (IllegalArgumentException e) {
            error(node, field, e.getMessage());
            return null;
        }
    }

    public Integer integer(Node node, String field) {
        return parsed(node, field, s -> {
            try {
                return Integer.valueOf(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number, got '" + s + "'", e);
            }
        });
    }

    /** A finite decimal number. */
    public Double number(Node node, String field) {
        return parsed(node, field, s -> {
            double d;
            try {
                d = Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                d = Double.NaN;
            }
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("expected a number, got '" + s + "'");
            }
            return d;
        });
    }

    /** A positive duration in the {@link Durations} syntax, e.g. {@code 30s}, {@code 1h30m}. */
    public Duration duration(Node node, String field) {
        return parsed(node, field, Durations::parse);
    }

    /** {@link #duration} of a key that must be there. */
    public Duration requiredDuration(Map<String, NodeTuple> mapping, Node owner, String field, String key) {
        Node value = required(mapping, owner, field, key);
        return value == null ? null : duration(value, child(field, key));
    }

    /**
     * One of an enum's constants, written in lower case (any case is read), e.g. {@code action:
     * bounce}; anything else is an error listing the choices.
     *
     * @param what what the value is, for the error: {@code unknown action 'defer'; expected ...}
     */
    public <E extends Enum<E>> E choice(Node node, String field, Class<E> type, String what) {
        return parsed(node, field, s -> {
            try {
                return Enum.valueOf(type, s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown " + what + " '" + s + "'; expected " + choices(type), e);
            }
        });
    }

    private static String choices(Class<? extends Enum<?>> type) {
        List<String> names = new ArrayList<>();
        for (Enum<?> constant : type.getEnumConstants()) {
            names.add(constant.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        int last = names.size() - 1;
        return last == 0 ? names.get(0) : String.join(", ", names.subList(0, last)) + " or " + names.get(last);
    }

    /** The field of a key below {@code field}: {@code retry.schedule}, or {@code version} at the top. */
    public static String child(String field, String key) {
        return field.isEmpty() ? key : field + "." + key;
    }

    // ---- errors ----

    /** Records a mistake at the node's line. */
    public void error(Node node, String field, String message) {
        error(line(node), field, message);
    }

    /** Records a mistake at a 1-based line. */
    public void error(int line, String field, String message) {
        errors.put(line, fileName + ":" + line + ": " + (field.isEmpty() ? "file" : field) + ": " + message);
    }

    /** How many mistakes are recorded so far; a reader compares it before and after a part of the file. */
    public int errorCount() {
        return errors.size();
    }

    public boolean hasErrors() {
        return !errors.isEmpty();
    }

    /** Every mistake as {@code FILE:LINE: FIELD: MESSAGE}, in file order. */
    public ImmutableList<String> errorsInFileOrder() {
        return ImmutableList.copyOf(errors.values());
    }
}
