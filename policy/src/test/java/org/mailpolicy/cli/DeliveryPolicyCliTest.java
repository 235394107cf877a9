package org.mailpolicy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SuppressionEntry;

class DeliveryPolicyCliTest {
    @TempDir
    Path dir;

    private static final class Result {
        final int exit;
        final String out;
        final String err;

        Result(int exit, String out, String err) {
            this.exit = exit;
            this.out = out;
            this.err = err;
        }

        List<String> lines() {
            List<String> lines = new ArrayList<>();
            for (String l : out.split("\n", -1)) {
                lines.add(l);
            }
            // a trailing newline leaves one empty element
            assertThat(lines.remove(lines.size() - 1)).isEmpty();
            return lines;
        }
    }

    private static Result run(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = DeliveryPolicyCli.run(args, new ByteArrayInputStream(stdin),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Result run(String stdin, String... args) {
        return run(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    private static Map<String, Object> json(String line) throws IOException {
        Map<String, Object> m = new HashMap<>();
        try (JsonParser p = new JsonFactory().createParser(line)) {
            assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                JsonToken t = p.nextToken();
                if (t == JsonToken.START_ARRAY) {
                    List<String> values = new ArrayList<>();
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        values.add(p.getText());
                    }
                    m.put(name, values);
                } else if (t == JsonToken.VALUE_NULL) {
                    m.put(name, null);
                } else if (t == JsonToken.VALUE_NUMBER_INT) {
                    m.put(name, p.getIntValue());
                } else {
                    m.put(name, p.getText());
                }
            }
            assertThat(p.nextToken()).isNull();
        }
        return m;
    }

    @Test
    void classifyWritesOneJsonObjectPerLineInOrder() throws IOException {
        Result r = run("421 4.7.1 : (DYN:T1)\n550 MAILBOX NOT FOUND\r\nConnection refused\n554 RTR:GE", "classify");
        assertThat(r.exit).isZero();
        assertThat(r.err).isEmpty();
        List<String> lines = r.lines();
        assertThat(lines).hasSize(4);
        Map<String, Object> first = json(lines.get(0));
        assertThat(first).containsEntry("action", "throttle").containsEntry("reason", "speeding")
                .containsEntry("scope", "destination").containsEntry("code", 421).containsEntry("enhancedCode", "4.7.1")
                .containsEntry("token", "DYN:T1").containsEntry("rule", "aol.dyn-t1").containsEntry("hold", "15m")
                .containsEntry("stage", "UNKNOWN").containsEntry("input", "421 4.7.1 : (DYN:T1)")
                .containsEntry("dsnStatus", "4.7.1");
        assertThat((String) first.get("explanation")).isNotBlank();
        assertThat((String) first.get("remedy")).isNotBlank();
        assertThat((String) first.get("source")).contains("postmaster.aol.com/Postmaster.Errors.php");
        assertThat(json(lines.get(1))).containsEntry("action", "suppress").containsEntry("input", "550 MAILBOX NOT FOUND")
                .containsEntry("enhancedCode", null);
        assertThat(json(lines.get(2))).containsEntry("action", "retry").containsEntry("code", null)
                .containsEntry("reason", "networkerror");
        assertThat(json(lines.get(3))).containsEntry("action", "retry").containsEntry("retryAfter", "1d");
    }

    @Test
    void everyInputLineGetsExactlyOneOutputLine_binaryHugeAndEmpty() throws IOException {
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        Random random = new Random(1);
        int lines = 0;
        for (int i = 0; i < 200; i++) {
            byte[] junk = new byte[random.nextInt(400)];
            random.nextBytes(junk);
            for (int j = 0; j < junk.length; j++) {
                if (junk[j] == '\n') {
                    junk[j] = '\r';
                }
            }
            in.write(junk);
            in.write('\n');
            lines++;
        }
        in.write('\n'); // empty line
        lines++;
        StringBuilder huge = new StringBuilder("550 5.1.1 ");
        while (huge.length() < 200_000) {
            huge.append("no such user \u00e9\u2028\u0000 ");
        }
        in.write(huge.toString().getBytes(StandardCharsets.UTF_8));
        in.write('\n');
        lines++;
        in.write(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, '\r', '\n'});
        lines++;
        in.write("421 DYN:T1".getBytes(StandardCharsets.UTF_8)); // last line without newline
        lines++;

        Result r = run(in.toByteArray(), "classify", "--stage", "RCPT");
        assertThat(r.exit).isZero();
        List<String> out = r.lines();
        assertThat(out).hasSize(lines);
        for (String line : out) {
            Map<String, Object> m = json(line);
            assertThat(m).containsKeys("action", "reason", "scope", "code", "enhancedCode", "token", "explanation",
                    "rule", "input", "stage");
            assertThat(m.get("stage")).isEqualTo("RCPT");
            assertThat((String) m.get("input")).hasSizeLessThanOrEqualTo(1000);
        }
        assertThat(json(out.get(200))).containsEntry("input", "").containsEntry("rule", "class.none");
        assertThat(json(out.get(201))).containsEntry("action", "suppress");
        assertThat(json(out.get(out.size() - 1))).containsEntry("rule", "aol.dyn-t1");
    }

    @Test
    void classifyWithAnOverrideFile() throws IOException {
        Path rules = dir.resolve("site-rules.yaml");
        Files.write(rules, String.join("\n", "version: 1", "rules:", "  - id: site.mnf", "    match: {code: 550, text: 'mailbox not found'}",
                "    action: bounce", "    reason: userunknown", "    scope: recipient", "    explanation: e",
                "    remedy: r", "    source: site").getBytes(StandardCharsets.UTF_8));
        Result r = run("550 MAILBOX NOT FOUND\n", "classify", "--rules", rules.toString());
        assertThat(r.exit).isZero();
        assertThat(json(r.lines().get(0))).containsEntry("action", "bounce").containsEntry("rule", "site.mnf");
    }

    @Test
    void aBrokenOverrideFileIsReportedWithFileLineAndField() throws IOException {
        Path rules = dir.resolve("broken.yaml");
        Files.write(rules, "version: 1\nrules:\n  - id: x\n    match: {}\n    action: maybe\n".getBytes(StandardCharsets.UTF_8));
        Result r = run("550 x\n", "classify", "--rules", rules.toString());
        assertThat(r.exit).isEqualTo(1);
        assertThat(r.out).isEmpty();
        assertThat(r.err).contains(rules + ":5: rules[0](x).action: unknown action 'maybe'");
    }

    @Test
    void explainPrintsAReadableBlock() {
        Result r = run("", "explain", "421", "4.7.1", ":", "(DYN:T1)");
        assertThat(r.exit).isZero();
        assertThat(r.out).contains("Reply:       421 4.7.1 : (DYN:T1)")
                .contains("Parsed:      code 421, enhanced 4.7.1, token DYN:T1, stage UNKNOWN")
                .contains("Decision:    THROTTLE")
                .contains("hold at least 15m")
                .contains("Rule:        aol.dyn-t1 [token=DYN:T1] at reply-rules.yaml (built-in):")
                .contains("Source:      AOL postmaster SMTP error messages page (postmaster.aol.com/Postmaster.Errors.php)");
        Result connect = run("", "explain", "--stage", "connect", "421 closing");
        assertThat(connect.out).contains("stage CONNECT").contains("basic.421-at-connect");
    }

    @Test
    void rulesListsEveryRule() {
        Result r = run("", "rules");
        assertThat(r.exit).isZero();
        assertThat(r.lines().size()).isGreaterThan(250);
        assertThat(r.out).contains("aol.dyn-t1\ttoken\ttoken=DYN:T1\tthrottle/speeding/destination\t");
    }

    @Test
    void checkConfigAcceptsTheShippedPolicy() {
        Path shipped = Paths.get("..", "config", "delivery-policy.yaml");
        Result r = run("", "check-config", shipped.toString());
        assertThat(r.err).isEmpty();
        assertThat(r.exit).isZero();
        assertThat(r.out).matches("OK: .*delivery-policy.yaml: \\d+ destinations\\n");
    }

    @Test
    void checkConfigReportsEachErrorAndExitsOne() throws IOException {
        Path bad = dir.resolve("bad-policy.yaml");
        Files.write(bad, "version: 1\ncolour: blue\n".getBytes(StandardCharsets.UTF_8));
        Result r = run("", "check-config", bad.toString());
        assertThat(r.exit).isEqualTo(1);
        assertThat(r.out).isEmpty();
        assertThat(r.err).contains(bad + ":2: ").contains("colour");
    }

    @Test
    void suppressionsImportAddsEachAddressOnceAndNamesBadLines() throws IOException {
        Path store = dir.resolve("var/suppressions");
        Path input = dir.resolve("bounced.csv");
        Files.write(input, String.join("\n",
                "\uFEFFemail,reason",
                "bob@aol.com",
                "  \"Carol@AOL.com\" , hard bounce",
                "",
                "# exported 2026-11-01",
                "BOB@aol.com",
                "not-an-address",
                "<dave@yahoo.com>\tuser unknown").getBytes(StandardCharsets.UTF_8));

        Result r = run("", "suppressions", "import", "--store", store.toString(), input.toString());
        // The good lines are in; the exit code tells a script that some were not.
        assertThat(r.exit).isEqualTo(1);
        assertThat(r.err).contains("line 1: not a mail address (expected local@domain): 'email'")
                .contains("line 7: not a mail address (expected local@domain): 'not-an-address'");
        Map<String, Object> summary = json(r.lines().get(0));
        assertThat(summary).containsEntry("addresses", 4).containsEntry("added", 3)
                .containsEntry("already_listed", 1).containsEntry("invalid_lines", 2)
                .containsKey("compact_seconds");

        try (JdbcSuppressionList list = JdbcSuppressionList.openH2(store)) {
            assertThat(list.count(Optional.empty())).isEqualTo(3);
            SuppressionEntry carol = list.find("carol@aol.com").get();
            assertThat(carol.source()).isEqualTo(SuppressionEntry.Source.MANUAL);
            assertThat(carol.reason()).isEqualTo("manual");
            assertThat(carol.ruleId()).isEqualTo("import");
            assertThat(list.find("dave@yahoo.com")).isPresent();
        }
    }

    @Test
    void suppressionsImportFromStandardInputIntoThePolicysStoreIsRepeatable() throws IOException {
        Path store = dir.resolve("policy-store/suppressions");
        Path policy = dir.resolve("delivery-policy.yaml");
        Files.write(policy, ("version: 1\nsuppression:\n  store: h2\n  path: " + store.toAbsolutePath() + "\n")
                .getBytes(StandardCharsets.UTF_8));
        String addresses = "a@gmail.com\nb@gmail.com\r\nc@gmail.com";

        Result first = run(addresses, "suppressions", "import", "--policy", policy.toString(), "--reason", "userunknown", "-");
        assertThat(first.err).isEmpty();
        assertThat(first.exit).isZero();
        assertThat(json(first.lines().get(0))).containsEntry("added", 3).containsEntry("invalid_lines", 0);
        Result again = run(addresses, "suppressions", "import", "--policy", policy.toString(), "--no-compact", "-");
        // Nothing new, nothing to compact.
        assertThat(json(again.lines().get(0))).containsEntry("added", 0).containsEntry("already_listed", 3)
                .doesNotContainKey("compact_seconds");
        Result skipped = run("z@gmail.com", "suppressions", "import", "--policy", policy.toString(), "--no-compact", "-");
        assertThat(json(skipped.lines().get(0))).containsEntry("added", 1).doesNotContainKey("compact_seconds");

        try (JdbcSuppressionList list = JdbcSuppressionList.openH2(store)) {
            assertThat(list.find("b@gmail.com").get().reason()).isEqualTo("userunknown");
        }
    }

    @Test
    void suppressionsImportUsageAndUnusableInputs() throws IOException {
        String store = dir.resolve("s").toString();
        assertThat(run("", "suppressions").exit).isEqualTo(2);
        assertThat(run("", "suppressions", "export").exit).isEqualTo(2);
        assertThat(run("", "suppressions", "import", "-").exit).isEqualTo(2);
        assertThat(run("", "suppressions", "import", "--store", store).exit).isEqualTo(2);
        assertThat(run("", "suppressions", "import", "--store", store, "--policy", "p.yaml", "-").exit).isEqualTo(2);
        assertThat(run("", "suppressions", "import", "--store", store, "--reason", " ", "-").exit).isEqualTo(2);
        assertThat(run("", "suppressions", "import", "--store", store, "--force", "-").exit).isEqualTo(2);

        Result missing = run("", "suppressions", "import", "--store", store, dir.resolve("none.txt").toString());
        assertThat(missing.exit).isEqualTo(1);
        assertThat(missing.err).contains("none.txt: no such file");

        // A store that cannot be opened: its file is not an H2 database.
        Path garbage = dir.resolve("garbage");
        Files.createDirectories(garbage);
        Files.write(garbage.resolve("s.mv.db"), "not a database, not at all".repeat(1000).getBytes(StandardCharsets.UTF_8));
        Result broken = run("a@b.com\n", "suppressions", "import", "--store", garbage.resolve("s").toString(), "-");
        assertThat(broken.exit).isEqualTo(1);
        assertThat(broken.err).contains("cannot open the suppression store").contains("stop James first");
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(run("").exit).isEqualTo(2);
        assertThat(run("", "frobnicate").exit).isEqualTo(2);
        assertThat(run("", "explain").exit).isEqualTo(2);
        assertThat(run("", "classify", "--stage", "LUNCH").exit).isEqualTo(2);
        assertThat(run("", "classify", "--stage").exit).isEqualTo(2);
        assertThat(run("", "classify", "extra").exit).isEqualTo(2);
        assertThat(run("", "classify", "--verbose").exit).isEqualTo(2);
        assertThat(run("", "check-config").exit).isEqualTo(2);
        assertThat(run("", "check-config", "a", "b").exit).isEqualTo(2);
        Result r = run("", "frobnicate");
        assertThat(r.err).contains("unknown command 'frobnicate'").contains("usage: delivery-policy");
        assertThat(run("", "--help").exit).isZero();
    }

    @Test
    void lineReaderKeepsABoundedPrefixOfHugeLines() throws IOException {
        byte[] big = new byte[300_000];
        java.util.Arrays.fill(big, (byte) 'a');
        big[big.length - 1] = '\n';
        InputStream in = new ByteArrayInputStream(big);
        DeliveryPolicyCli.LineReader reader = new DeliveryPolicyCli.LineReader(in, 1000);
        assertThat(reader.next()).hasSize(1000);
        assertThat(reader.next()).isNull();
    }
}
