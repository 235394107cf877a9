package org.mailpolicy.destination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyValidationTest {
    /** The first line of each file under broken/: {@code # expect: LINE: FIELD: MESSAGE (a fragment)}. */
    private static final Pattern EXPECT = Pattern.compile("# expect: (\\d+): (\\S+): (.*)");

    private static List<String> errorsOf(String... lines) {
        try {
            DeliveryPolicy.parse(String.join("\n", lines) + "\n", "p.yaml");
        } catch (PolicyException e) {
            assertThat(e.getMessage()).contains(e.errors().get(0));
            return e.errors();
        }
        throw new AssertionError("expected the policy to be rejected");
    }

    @Test
    void everyErrorNamesFileLineAndField() {
        List<String> errors = errorsOf(
                "version: 1",
                "destinations:",
                "  - name: aol",
                "    domains: [aol.com]",
                "    maxAge: -5d",
                "    concurrency: 0",
                "    colour: blue");
        assertThat(errors).containsExactly(
                "p.yaml:5: destinations[aol].maxAge: malformed duration '-5d': expected a number and a unit s, m, h or d, such as 30s, 10m, 4h, 5d",
                "p.yaml:6: destinations[aol].concurrency: must be at least 1, got 0",
                "p.yaml:7: destinations[aol].colour: unknown key; expected one of name, domains, mx, retry, maxAge, delayWarning, throttle, route, concurrency, rate, pacing, unknownRecipientGuard, connections, tls, rules");
    }

    @Test
    void collectsErrorsAcrossTheWholeFile() {
        List<String> errors = errorsOf(
                "version: 1",
                "suppression: { store: mongo }",
                "default:",
                "  maxAge: 0s",
                "destinations:",
                "  - name: a",
                "    domains: [a.com]",
                "    throttle: { initial: 1h, growth: 0.5, max: 10m }",
                "  - name: b",
                "    domains: [b.com]",
                "    retry: { exponential: { initial: 5m, factor: 2, max: 1h, jitter: 1.0 } }",
                "    route: 'bad host:99999'",
                "    rate: 'lots'");
        assertThat(errors).hasSize(7);
        assertThat(errors.get(0)).startsWith("p.yaml:2: suppression.store: unknown store 'mongo'");
        assertThat(errors.get(1)).startsWith("p.yaml:4: default.maxAge: duration must be positive");
        assertThat(errors.get(2)).isEqualTo("p.yaml:8: destinations[a].throttle.growth: must be at least 1, got 0.5");
        assertThat(errors.get(3)).isEqualTo("p.yaml:8: destinations[a].throttle.max: max (10m) must not be below initial (1h)");
        assertThat(errors.get(4)).isEqualTo("p.yaml:11: destinations[b].retry.exponential.jitter: must be in [0, 1), got 1.0");
        assertThat(errors.get(5)).startsWith("p.yaml:12: destinations[b].route: ");
        assertThat(errors.get(6)).startsWith("p.yaml:13: destinations[b].rate: malformed rate 'lots'");
    }

    @Test
    void rejectsDuplicateNamesAndSharedDomains() {
        List<String> errors = errorsOf(
                "version: 1",
                "destinations:",
                "  - name: aol",
                "    domains: [aol.com, aim.com]",
                "  - name: aol",
                "    domains: [other.com]",
                "  - name: verizon",
                "    domains: [verizon.net, AIM.com]",
                "    mx: ['*.mx.aol.com']",
                "  - name: aol2",
                "    mx: ['*.MX.aol.com']");
        assertThat(errors).containsExactly(
                "p.yaml:5: destinations[1].name: duplicate destination name 'aol' (first at line 3)",
                "p.yaml:8: destinations[verizon].domains: domain 'aim.com' is already in destination 'aol'",
                "p.yaml:11: destinations[aol2].mx: mx pattern '*.mx.aol.com' is already in destination 'verizon'");
    }

    @Test
    void rejectsStructuralMistakes() {
        assertThat(errorsOf("version: 2")).containsExactly(
                "p.yaml:1: version: unsupported version 2; this engine reads version 1");
        assertThat(errorsOf("version: one")).containsExactly(
                "p.yaml:1: version: expected a whole number, got 'one'");
        assertThat(errorsOf("destinations: []")).containsExactly(
                "p.yaml:1: version: missing; this format is 'version: 1'");
        assertThat(errorsOf("version: 1", "destinations: { name: aol }")).containsExactly(
                "p.yaml:2: destinations: expected a list, got a mapping");
        assertThat(errorsOf("version: 1", "version: 1")).containsExactly(
                "p.yaml:2: version: given twice (first at line 1)");
        assertThat(errorsOf("version: 1", "destinations:", "  - domains: [a.com]")).containsExactly(
                "p.yaml:3: destinations[0].name: missing");
        assertThat(errorsOf("version: 1", "destinations:", "  - name: x")).containsExactly(
                "p.yaml:3: destinations[x]: matches nothing: give 'domains', 'mx' or both");
        assertThat(errorsOf("version: 1", "destinations:", "  - name: Bad Name", "    domains: [a.com]").get(0))
                .startsWith("p.yaml:3: destinations[0].name: 'Bad Name' is not a name");
        assertThat(errorsOf("version: 1", "destinations:", "  - name: default", "    domains: [a.com]").get(0))
                .startsWith("p.yaml:3: destinations[0].name: 'default' is reserved");
        assertThat(errorsOf("version: 1", "destinations:", "  - name: [a, b]", "    domains: [a.com]")).containsExactly(
                "p.yaml:3: destinations[0].name: expected a single value, got a list");
        assertThat(errorsOf("version: 1", "destinations:", "  - just-a-string")).containsExactly(
                "p.yaml:3: destinations[0]: expected a mapping (key: value), got 'just-a-string'");
        assertThat(errorsOf("version: 1", "default:", "  domains: [a.com]").get(0))
                .startsWith("p.yaml:3: default.domains: unknown key");
        assertThat(errorsOf("version: 1", "destinations:", "  - name: aol", "    domains: [aol.com]",
                "    rules: { id: x }")).containsExactly(
                "p.yaml:5: destinations[aol].rules: expected a list of rules, got a mapping");
        assertThat(errorsOf("version: 1", "destinations:", "  - name: aol", "    domains: { aol.com: yes }"))
                .containsExactly("p.yaml:4: destinations[aol].domains: expected a value or a list of values, got a mapping");
    }

    @Test
    void rejectsBadRetryBlocks() {
        assertThat(errorsOf("version: 1", "default:", "  retry: { schedule: [] }")).containsExactly(
                "p.yaml:3: default.retry.schedule: needs at least one delay");
        assertThat(errorsOf("version: 1", "default:", "  retry: { schedule: [1m], exponential: { initial: 1m, max: 1h } }"))
                .containsExactly("p.yaml:3: default.retry: give exactly one of 'schedule' (a list of delays) or 'exponential'");
        assertThat(errorsOf("version: 1", "default:", "  retry: { schedule: [1m, 2x, 0m] }")).hasSize(2)
                .allSatisfy(e -> assertThat(e).startsWith("p.yaml:3: default.retry.schedule["));
        assertThat(errorsOf("version: 1", "default:", "  retry: { exponential: { factor: 2 } }")).containsExactly(
                "p.yaml:3: default.retry.exponential.initial: missing",
                "p.yaml:3: default.retry.exponential.max: missing");
        assertThat(errorsOf("version: 1", "default:", "  retry: { exponential: { initial: 1h, max: 5m, factor: x } }"))
                .containsExactly(
                        "p.yaml:3: default.retry.exponential.factor: expected a number, got 'x'",
                        "p.yaml:3: default.retry.exponential.max: max (5m) must not be below initial (1h)");
    }

    @Test
    void rejectsBadUnknownRecipientGuards() {
        assertThat(errorsOf("version: 1", "default:", "  unknownRecipientGuard: maybe")).containsExactly(
                "p.yaml:3: default.unknownRecipientGuard: expected off, on or a mapping of window, minRecipients, share"
                        + " and quiet; got 'maybe'");
        assertThat(errorsOf("version: 1", "default:", "  unknownRecipientGuard: { share: 1.5, window: 0s, size: 3 }"))
                .containsExactly(
                        "p.yaml:3: default.unknownRecipientGuard.size: unknown key; expected one of window, minRecipients,"
                                + " share, quiet",
                        "p.yaml:3: default.unknownRecipientGuard.window: duration must be positive: '0s'");
        assertThat(errorsOf("version: 1", "destinations:", "  - name: aol", "    domains: [aol.com]",
                "    unknownRecipientGuard:", "      minRecipients: 0")).containsExactly(
                "p.yaml:6: destinations[aol].unknownRecipientGuard.minRecipients: must be at least 1: 0");
        assertThat(errorsOf("version: 1", "default:", "  unknownRecipientGuard: { share: 0 }")).containsExactly(
                "p.yaml:3: default.unknownRecipientGuard.share: must be in (0, 1]: 0.0");
        assertThat(errorsOf("version: 1", "default:", "  unknownRecipientGuard: { quiet: [1m] }")).containsExactly(
                "p.yaml:3: default.unknownRecipientGuard.quiet: expected a single value, got a list");
    }

    @Test
    void rejectsBadSuppressionExpiries() {
        assertThat(errorsOf("version: 1", "suppression:", "  expire: { userunkown: 365d, manual: soon, userunknown: 0d }"))
                .containsExactly(
                        "p.yaml:3: suppression.expire.userunkown: unknown reason 'userunkown'; expected manual or one of "
                                + String.join(", ", org.mailpolicy.rules.Reasons.ALL),
                        "p.yaml:3: suppression.expire.manual: malformed duration 'soon': expected a number and a unit s,"
                                + " m, h or d, such as 30s, 10m, 4h, 5d",
                        "p.yaml:3: suppression.expire.userunknown: duration must be positive: '0d'");
        assertThat(errorsOf("version: 1", "suppression:", "  expire: 365d")).containsExactly(
                "p.yaml:3: suppression.expire: expected a mapping (key: value), got '365d'");
        assertThat(errorsOf("version: 1", "suppression:", "  expire:", "    manual: 1d", "    manual: 2d")).containsExactly(
                "p.yaml:5: suppression.expire.manual: given twice (first at line 4)");
    }

    @Test
    void rejectsDelayWarningNotBeforeMaxAge() {
        assertThat(errorsOf("version: 1", "default:", "  maxAge: 4h", "  delayWarning: 4h")).containsExactly(
                "p.yaml:4: default.delayWarning: delayWarning (4h) must be shorter than maxAge (4h), or the warning is never sent");
    }

    @Test
    void rejectsBadDomainPatterns() {
        List<String> errors = errorsOf("version: 1", "destinations:", "  - name: x",
                "    domains: ['a*.com', 'exa mple.com', 'ok.com', 'ok.com']");
        assertThat(errors).hasSize(3);
        assertThat(errors.get(0)).startsWith("p.yaml:4: destinations[x].domains[0]: not a domain name or *.domain pattern");
        assertThat(errors.get(2)).isEqualTo("p.yaml:4: destinations[x].domains[3]: 'ok.com' is listed twice");
    }

    @Test
    void reportsYamlSyntaxErrorsWithTheirLine() {
        List<String> errors = errorsOf("version: 1", "destinations:", "  - name: [unclosed");
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0)).startsWith("p.yaml:");
        assertThat(errors.get(0)).contains(": yaml: ");
        assertThat(errorsOf("")).containsExactly("p.yaml:1: file: empty; expected at least 'version: 1'");
        assertThat(errorsOf("just text")).containsExactly("p.yaml:1: file: expected a mapping (key: value), got 'just text'");
    }

    @Test
    void refusesYamlTagsThatWouldBuildObjects() {
        List<String> errors = errorsOf("version: 1", "default:", "  maxAge: !!java.io.File /tmp");
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0)).isEqualTo("p.yaml:3: yaml: Global tag is not allowed: tag:yaml.org,2002:java.io.File");
    }

    @Test
    void unreadableFileIsAPolicyExceptionNamingTheFile(@TempDir Path dir) {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> DeliveryPolicy.load(missing))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining(missing + ":1: file: cannot read: ");
    }

    /**
     * One file per mistake an operator makes (broken/NN-what.yaml), loaded from disk as James loads
     * it: each is refused, and the error its first line names is there with file, line and field.
     * Every other error of the file has the same form, so none is a bare exception message.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenPolicyFiles")
    void eachBrokenPolicyFileIsRefusedNamingFileLineAndField(String name, Path file) throws Exception {
        String first = Files.readAllLines(file, StandardCharsets.UTF_8).get(0);
        Matcher expect = EXPECT.matcher(first);
        assertThat(expect.matches()).as("first line of %s: %s", name, first).isTrue();

        PolicyException e = catchThrowableOfType(() -> DeliveryPolicy.load(file), PolicyException.class);

        assertThat(e).as("%s must be refused", name).isNotNull();
        String where = file + ":" + expect.group(1) + ": " + expect.group(2) + ": ";
        assertThat(e.errors()).anySatisfy(error -> assertThat(error).startsWith(where).contains(expect.group(3)));
        assertThat(e.errors()).allSatisfy(error ->
                assertThat(error).matches(Pattern.quote(file.toString()) + ":[1-9]\\d*: \\S+: .+"));
        assertThat(e.getMessage()).contains(where);
    }

    static Stream<Object[]> brokenPolicyFiles() throws Exception {
        Path dir = resourceDirectory("broken");
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().collect(Collectors.toList());
        }
        assertThat(files).as("broken policy files in %s", dir).hasSizeGreaterThanOrEqualTo(20);
        return files.stream().map(p -> new Object[] {p.getFileName().toString(), p});
    }

    private static Path resourceDirectory(String name) throws URISyntaxException {
        return Paths.get(PolicyValidationTest.class.getResource(name).toURI());
    }

    @Test
    void aRulesFileThePolicyNamesMustExistWhenThePolicyIsLoaded(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, "version: 1\nrules:\n  - local-rules.yaml\n  - " + dir + "\n");

        PolicyException e = catchThrowableOfType(() -> DeliveryPolicy.load(policy), PolicyException.class);

        assertThat(e.errors()).containsExactly(
                policy + ":3: rules[0]: no such file: " + dir.resolve("local-rules.yaml"),
                policy + ":4: rules[1]: cannot read " + dir + ": not a readable file");
        Files.writeString(dir.resolve("local-rules.yaml"), "version: 1\nrules: []\n");
        Files.writeString(policy, "version: 1\nrules: [local-rules.yaml]\n");
        assertThat(DeliveryPolicy.load(policy).ruleFiles()).containsExactly(dir.resolve("local-rules.yaml"));
        // Parsed from text (tests, tools), the files are named but not looked for.
        assertThat(DeliveryPolicy.parse("version: 1\nrules: [elsewhere.yaml]\n", "p.yaml").ruleFiles()).hasSize(1);
    }
}
