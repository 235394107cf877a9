package org.mailpolicy.yaml;

import java.io.StringReader;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * What the policy file and the rules files share: composing an operator's YAML into nodes (which
 * keep their line numbers, so every error can name its line) and describing nodes in errors.
 */
public final class YamlNodes {
    private YamlNodes() {
    }

    /** A document that is not YAML at all; {@link #line()} is 1-based. */
    public static final class SyntaxError extends Exception {
        private final int line;

        SyntaxError(int line, String message) {
            super(message);
            this.line = line;
        }

        public int line() {
            return line;
        }
    }

    /**
     * Composes the document into nodes, or null when it is empty. Aliases are bounded and recursive
     * keys refused, so a hostile file cannot exhaust memory.
     */
    public static Node compose(String yaml, int maxChars) throws SyntaxError {
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowRecursiveKeys(false);
            options.setMaxAliasesForCollections(20);
            options.setCodePointLimit(maxChars);
            return new Yaml(options).compose(new StringReader(yaml));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String message = firstLine(e.getProblem() == null ? e.getMessage() : e.getProblem());
            // "expected ',' or ']'" is noticed on the line after an unclosed [ ... : say where it opened.
            Mark context = e.getContextMark();
            if (e.getProblem() != null && e.getContext() != null && context != null && mark != null
                    && context.getLine() != mark.getLine()) {
                message += " (" + firstLine(e.getContext()) + " that starts at line " + (context.getLine() + 1) + ")";
            }
            throw new SyntaxError(mark == null ? 1 : mark.getLine() + 1, message);
        } catch (YAMLException e) {
            throw new SyntaxError(1, firstLine(e.getMessage()));
        }
    }

    /** The node's 1-based line, or 1 when it has none. */
    public static int line(Node node) {
        return node == null || node.getStartMark() == null ? 1 : node.getStartMark().getLine() + 1;
    }

    /** What an operator wrote there, for "expected X, got Y" messages. */
    public static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        if (node instanceof ScalarNode) {
            String v = ((ScalarNode) node).getValue();
            return v.isEmpty() ? "nothing" : "'" + (v.length() > 40 ? v.substring(0, 40) + "..." : v) + "'";
        }
        return "nothing";
    }

    /** The first line of a library's message, for one-line errors. */
    public static String firstLine(String s) {
        if (s == null) {
            return "malformed YAML";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}
