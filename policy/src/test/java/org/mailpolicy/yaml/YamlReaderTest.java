package org.mailpolicy.yaml;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableSet;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/** The one reader of the policy file and the rules files: what each mistake reads like. */
class YamlReaderTest {
    private enum Colour { RED, GREEN, BLUE }

    private final YamlReader reader = new YamlReader("f.yaml");

    private Node root(String... lines) {
        Node root = reader.document(String.join("\n", lines) + "\n", 1000, "expected something");
        assertThat(reader.errorsInFileOrder()).isEmpty();
        return root;
    }

    private Node value(Node mapping, String key) {
        for (NodeTuple t : ((MappingNode) mapping).getValue()) {
            if (key.equals(((ScalarNode) t.getKeyNode()).getValue())) {
                return t.getValueNode();
            }
        }
        throw new AssertionError("no key " + key);
    }

    @Test
    void aDocumentThatIsNotThereSaysWhy() {
        assertThat(reader.document("", 1000, "expected 'version: 1'")).isNull();
        assertThat(reader.document("a: [b", 1000, "x")).isNull();
        assertThat(reader.document("a: b\n", 3, "x")).isNull();
        assertThat(reader.errorsInFileOrder()).hasSize(3)
                .contains("f.yaml:1: file: empty; expected 'version: 1'", "f.yaml:1: file: larger than 3 characters")
                .anySatisfy(e -> assertThat(e).startsWith("f.yaml:1: yaml: "));
    }

    @Test
    void mappingKeysAreCheckedOnceWithTheirLines() {
        Node root = root("a: 1", "b: 2", "c: 3", "a: 4", "[x]: 5");
        Map<String, NodeTuple> m = reader.mapping(root, "", ImmutableSet.of("a", "b"));
        assertThat(m).containsOnlyKeys("a", "b");
        assertThat(reader.errorsInFileOrder()).containsExactly(
                "f.yaml:3: c: unknown key; expected one of a, b",
                "f.yaml:4: a: given twice (first at line 1)",
                "f.yaml:5: file: keys must be plain words");
        assertThat(reader.mapping(value(root, "a"), "top.a", ImmutableSet.of())).isNull();
        assertThat(reader.errorsInFileOrder()).contains("f.yaml:1: top.a: expected a mapping (key: value), got '1'");
    }

    @Test
    void versionIsAWholeNumberThatMustBeTheSupportedOne() {
        YamlReader missing = new YamlReader("m.yaml");
        Node root = missing.document("\n# comment\nrules: []\n", 1000, "x");
        missing.version(root, missing.mapping(root, "", ImmutableSet.of("rules")), 1);
        assertThat(missing.errorsInFileOrder()).containsExactly("m.yaml:3: version: missing; this format is 'version: 1'");

        for (String written : new String[] {"2", "one", "1.0"}) {
            YamlReader r = new YamlReader("v.yaml");
            Node doc = r.document("version: " + written + "\n", 1000, "x");
            r.version(doc, r.mapping(doc, "", ImmutableSet.of("version")), 1);
            assertThat(r.errorsInFileOrder()).as(written).containsExactly("2".equals(written)
                    ? "v.yaml:1: version: unsupported version 2; this engine reads version 1"
                    : "v.yaml:1: version: expected a whole number, got '" + written + "'");
        }
    }

    @Test
    void singleValuesSayWhatWasExpectedAndWhatWasWritten() {
        Node root = root("s: [a]", "n: five", "x: 1e999", "d: 10", "blank: '  '", "c: Purple", "ok: ' 1h30m '",
                "colour: Green");
        assertThat(reader.string(value(root, "s"), "s")).isNull();
        assertThat(reader.integer(value(root, "n"), "n")).isNull();
        assertThat(reader.number(value(root, "x"), "x")).isNull();
        assertThat(reader.duration(value(root, "d"), "d")).isNull();
        assertThat(reader.nonEmptyString(value(root, "blank"), "blank")).isNull();
        assertThat(reader.choice(value(root, "c"), "c", Colour.class, "colour")).isNull();
        assertThat(reader.errorsInFileOrder()).containsExactly(
                "f.yaml:1: s: expected a single value, got a list",
                "f.yaml:2: n: expected a whole number, got 'five'",
                "f.yaml:3: x: expected a number, got '1e999'",
                "f.yaml:4: d: malformed duration '10': expected a number and a unit s, m, h or d, such as 30s, 10m, 4h, 5d",
                "f.yaml:5: blank: must not be empty",
                "f.yaml:6: c: unknown colour 'Purple'; expected red, green or blue");
        assertThat(reader.duration(value(root, "ok"), "ok")).isEqualTo(Duration.ofMinutes(90));
        assertThat(reader.nonEmptyString(value(root, "ok"), "ok")).isEqualTo("1h30m");
        assertThat(reader.choice(value(root, "colour"), "colour", Colour.class, "colour")).isEqualTo(Colour.GREEN);
        assertThat(reader.errorCount()).isEqualTo(6);
    }

    @Test
    void requiredKeysAreMissingAtTheirOwnersLine() {
        Node root = root("", "block:", "  a: 1");
        Node block = value(root, "block");
        Map<String, NodeTuple> m = reader.mapping(block, "block", ImmutableSet.of("a", "b", "c"));
        assertThat(reader.requiredString(m, block, "block", "a")).isEqualTo("1");
        assertThat(reader.requiredString(m, block, "block", "b")).isNull();
        assertThat(reader.requiredDuration(m, block, "block", "c")).isNull();
        assertThat(reader.errorsInFileOrder()).containsExactly("f.yaml:3: block.b: missing", "f.yaml:3: block.c: missing");
    }

    @Test
    void oneValueOrAListOfValues() {
        Node root = root("one: a", "many: [a, b]", "neither: {a: b}");
        assertThat(reader.valueOrList(value(root, "one"), "one")).hasSize(1);
        assertThat(reader.valueOrList(value(root, "many"), "many")).hasSize(2);
        assertThat(reader.valueOrList(value(root, "neither"), "neither")).isEmpty();
        assertThat(reader.list(value(root, "one"), "one")).isNull();
        assertThat(reader.errorsInFileOrder()).containsExactly(
                "f.yaml:1: one: expected a list, got 'a'",
                "f.yaml:3: neither: expected a value or a list of values, got a mapping");
    }

    @Test
    void errorsComeInFileOrderAndInTheOrderFoundOnOneLine() {
        reader.error(3, "c", "third");
        reader.error(1, "a", "first");
        reader.error(3, "d", "fourth");
        reader.error(2, "", "second");
        assertThat(reader.errorsInFileOrder()).containsExactly(
                "f.yaml:1: a: first", "f.yaml:2: file: second", "f.yaml:3: c: third", "f.yaml:3: d: fourth");
        assertThat(reader.hasErrors()).isTrue();
        assertThat(YamlReader.child("", "version")).isEqualTo("version");
        assertThat(YamlReader.child("retry", "schedule")).isEqualTo("retry.schedule");
    }
}
