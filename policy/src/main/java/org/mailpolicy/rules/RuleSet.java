package org.mailpolicy.rules;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.mailpolicy.yaml.YamlReader;
import org.yaml.snakeyaml.nodes.Node;

/**
 * An ordered list of validated reply rules from one source (a file, or a destination's
 * {@code rules:} list in the policy file). Immutable.
 */
public final class RuleSet {
    private final String name;
    private final ImmutableList<ReplyRule> rules;

    RuleSet(String name, List<ReplyRule> rules) {
        this.name = Preconditions.checkNotNull(name);
        this.rules = ImmutableList.copyOf(rules);
    }

    /**
     * Reads a rules file: {@code version: 1} and a {@code rules:} list.
     *
     * @throws RulesException naming file, line and field of every problem
     */
    public static RuleSet load(Path file) throws RulesException {
        Preconditions.checkNotNull(file, "file");
        String text;
        try {
            if (Files.size(file) > RuleLoader.MAX_FILE_CHARS * 4L) {
                throw new RulesException(file + ":1: file: larger than " + RuleLoader.MAX_FILE_CHARS + " characters");
            }
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RulesException(file + ":1: file: cannot read: " + e, e);
        }
        return parse(text, file.toString());
    }

    /** Reads the text of a rules file; {@code fileName} is used in error messages. */
    public static RuleSet parse(String yaml, String fileName) throws RulesException {
        return RuleLoader.parseDocument(yaml, fileName == null ? "<rules>" : fileName);
    }

    /**
     * Reads a {@code rules:} list already parsed by SnakeYAML's node API, as in the policy file's
     * per-destination rules. Lines in errors are the node's own lines in {@code fileName}.
     */
    public static RuleSet fromYaml(Node rulesListNode, String fileName) throws RulesException {
        return RuleLoader.parseRulesList(rulesListNode, fileName == null ? "<rules>" : fileName);
    }

    /**
     * Reads a {@code rules:} list inside a file that {@code reader} is reading (a destination's rules
     * in the policy file), so that its mistakes join that file's, named under {@code field} such as
     * {@code destinations[aol].rules}.
     *
     * @return the rules, or null when any is wrong (the mistakes are recorded in {@code reader})
     */
    public static RuleSet fromYaml(Node rulesListNode, YamlReader reader, String field) {
        Preconditions.checkNotNull(reader, "reader");
        Preconditions.checkNotNull(field, "field");
        return RuleLoader.readRulesList(rulesListNode, reader, field);
    }

    /** Where the rules came from, e.g. a file name. */
    public String name() {
        return name;
    }

    public List<ReplyRule> rules() {
        return rules;
    }

    public int size() {
        return rules.size();
    }

    @Override
    public String toString() {
        return "RuleSet{" + name + ", " + rules.size() + " rules}";
    }
}
