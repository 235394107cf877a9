package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mailpolicy.reply.SmtpReply;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/** Loading, validation and override semantics of rules files. */
class RulesFileTest {
    @TempDir
    Path dir;

    private static final String RULE = String.join("\n",
            "  - id: %s",
            "    match: %s",
            "    action: %s",
            "    reason: %s",
            "    scope: %s",
            "    explanation: e",
            "    remedy: r",
            "    source: test");

    private static String rule(String id, String match, String action, String reason, String scope) {
        return String.format(RULE, id, match, action, reason, scope);
    }

    private Path file(String name, String... lines) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
        return p;
    }

    @Test
    void builtInRulesLoadAndEveryRuleIsComplete() {
        RuleSet builtIn = ReplyClassifier.builtInRules();
        assertThat(builtIn.size()).isGreaterThan(250);
        Set<String> ids = new HashSet<>();
        for (ReplyRule r : builtIn.rules()) {
            assertThat(ids.add(r.id())).as(r.id()).isTrue();
            assertThat(r.explanation()).as(r.id()).isNotBlank();
            assertThat(r.remedy()).as(r.id()).isNotBlank();
            assertThat(r.source()).as(r.id()).isNotBlank();
            if (r.action() == Action.SUPPRESS) {
                assertThat(r.reason()).isEqualTo("userunknown");
            }
            if (r.action() == Action.THROTTLE) {
                // A hold needs its length; a slow-down or fewer connections must not carry one.
                assertThat(r.hold().isPresent()).as(r.id()).isEqualTo(r.effect().get().holds());
            }
        }
        // RFC 3463: every detail of every subject, both classes
        for (String d : Arrays.asList("1.1", "1.10", "2.2", "3.4", "4.7", "5.3", "6.9", "7.1", "7.26")) {
            assertThat(ids).contains("rfc3463.4." + d, "rfc3463.5." + d);
        }
    }

    @Test
    void overrideFileWins_mailboxNotFoundBecomesBounce() throws Exception {
        Path override = file("override.yaml", "version: 1", "rules:",
                rule("site.aol-mailbox-not-found", "{code: 550, text: 'mailbox not found'}", "bounce", "userunknown",
                        "recipient"));
        assertThat(ReplyClassifier.builtIn().classify("550 MAILBOX NOT FOUND").action()).isEqualTo(Action.SUPPRESS);
        ReplyClassifier c = ReplyClassifier.withOverrides(Collections.singletonList(override));
        Classification k = c.classify("550 MAILBOX NOT FOUND");
        assertThat(k.action()).isEqualTo(Action.BOUNCE);
        assertThat(k.ruleId()).isEqualTo("site.aol-mailbox-not-found");
        // others are untouched
        assertThat(c.classify("421 DYN:T1").action()).isEqualTo(Action.THROTTLE);
    }

    @Test
    void aRuleWithTheSameIdReplacesTheBuiltInOne() throws Exception {
        Path override = file("override.yaml", "version: 1", "rules:",
                rule("aol.dyn-t1", "{token: DYN:T1}", "retry", "speeding", "destination"));
        ReplyClassifier c = ReplyClassifier.withOverrides(Collections.singletonList(override));
        assertThat(c.classify("421 DYN:T1").action()).isEqualTo(Action.RETRY);
        assertThat(c.rules().stream().filter(r -> r.id().equals("aol.dyn-t1")).count()).isEqualTo(1);
        assertThat(c.rules().size()).isEqualTo(ReplyClassifier.builtIn().rules().size());
        assertThat(c.rules().get(c.rules().size() - 1).origin()).startsWith(override.toString() + ":3");
    }

    @Test
    void aMoreSpecificBuiltInTierStillBeatsALaterLessSpecificRule() throws Exception {
        // An override on the basic code does not hide AOL's token rule: tiers first, then order.
        Path override = file("o.yaml", "version: 1", "rules:",
                rule("site.all-421", "{code: 421}", "bounce", "undefined", "message"));
        ReplyClassifier c = ReplyClassifier.withOverrides(Collections.singletonList(override));
        assertThat(c.classify("421 DYN:T1").action()).isEqualTo(Action.THROTTLE);
        assertThat(c.classify("421 4.3.0 something", null).ruleId()).isEqualTo("rfc3463.4.3.0");
        assertThat(c.classify("421 something").ruleId()).isEqualTo("site.all-421");
    }

    @Test
    void laterFilesWinOverEarlierFiles() throws Exception {
        Path a = file("a.yaml", "version: 1", "rules:", rule("a.x", "{code: 599}", "retry", "undefined", "message"));
        Path b = file("b.yaml", "version: 1", "rules:", rule("b.x", "{code: 599}", "bounce", "undefined", "message"));
        assertThat(ReplyClassifier.withOverrides(Arrays.asList(a, b)).classify("599 x").ruleId()).isEqualTo("b.x");
        assertThat(ReplyClassifier.withOverrides(Arrays.asList(b, a)).classify("599 x").ruleId()).isEqualTo("a.x");
    }

    @Test
    void plusAddsRulesFromAPolicyFileNode() throws Exception {
        String policy = String.join("\n", "destinations:", "  - name: aol", "    rules:",
                "      - id: aol.local", "        match: {code: 550, text: 'mailbox not found'}",
                "        action: bounce", "        reason: userunknown", "        scope: recipient",
                "        explanation: e", "        remedy: r", "        source: s");
        Node root = new Yaml().compose(new StringReader(policy));
        Node rules = null;
        for (NodeTuple t : ((MappingNode) root).getValue()) {
            Node dest = ((org.yaml.snakeyaml.nodes.SequenceNode) t.getValueNode()).getValue().get(0);
            for (NodeTuple u : ((MappingNode) dest).getValue()) {
                if ("rules".equals(((ScalarNode) u.getKeyNode()).getValue())) {
                    rules = u.getValueNode();
                }
            }
        }
        RuleSet set = RuleSet.fromYaml(rules, "policy.yaml");
        assertThat(set.rules()).extracting(ReplyRule::origin).containsExactly("policy.yaml:4");
        ReplyClassifier c = ReplyClassifier.builtIn().plus(set);
        assertThat(c.classify("550 MAILBOX NOT FOUND").action()).isEqualTo(Action.BOUNCE);
        assertThat(ReplyClassifier.builtIn().classify("550 MAILBOX NOT FOUND").action()).isEqualTo(Action.SUPPRESS);
    }

    @Test
    void fromYamlReportsLinesOfThePolicyFile() {
        Node rules = new Yaml().compose(new StringReader("\n\n- id: x\n  match: {}\n  action: explode\n"));
        assertThatThrownBy(() -> RuleSet.fromYaml(rules, "policy.yaml"))
                .isInstanceOf(RulesException.class)
                .hasMessageContaining("policy.yaml:5: rules[0](x).action: unknown action 'explode'");
    }

    @Test
    void unknownKeyNamesFileLineAndField() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:", rule("x.one", "{code: 550}", "bounce", "undefined", "message"),
                "    colour: red");
        assertThatThrownBy(() -> RuleSet.load(p)).isInstanceOf(RulesException.class)
                .hasMessage(p + ":11: rules[0].colour: unknown key; expected one of id, match, action, reason,"
                        + " scope, effect, hold, retryAfter, explanation, remedy, source");
    }

    @Test
    void unknownMatchKey() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:", rule("x.one", "{cod: 550}", "bounce", "undefined", "message"));
        assertThatThrownBy(() -> RuleSet.load(p))
                .hasMessage(p + ":4: rules[0](x.one).match.cod: unknown key; expected one of code, enhanced, token, text, stage");
    }

    @Test
    void badAction() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:", rule("x.one", "{code: 550}", "defer", "undefined", "message"));
        assertThatThrownBy(() -> RuleSet.load(p))
                .hasMessage(p + ":5: rules[0](x.one).action: unknown action 'defer'; expected retry, throttle, bounce or suppress");
    }

    @Test
    void badRegex() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:", rule("x.one", "{text: 'user (unknown'}", "bounce", "undefined", "message"));
        assertThatThrownBy(() -> RuleSet.load(p))
                .hasMessageStartingWith(p + ":4: rules[0](x.one).match.text: bad regular expression: Unclosed group");
    }

    @Test
    void badScopeReasonDurationCodeEnhancedTokenAndStage() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:",
                "  - id: x.one",
                "    match: {code: [550, 6xx], enhanced: 5.1, token: dyn:t1, stage: [RCPT, LUNCH]}",
                "    action: throttle",
                "    reason: UserUnknown",
                "    scope: planet",
                "    hold: soon",
                "    explanation: e",
                "    remedy: r",
                "    source: s");
        try {
            RuleSet.load(p);
            throw new AssertionError("expected RulesException");
        } catch (RulesException e) {
            List<String> errors = e.errors();
            assertThat(errors).anySatisfy(m -> assertThat(m).startsWith(p + ":4: rules[0](x.one).match.code: '6xx' is not a code"));
            assertThat(errors).anySatisfy(m -> assertThat(m).startsWith(p + ":4: rules[0](x.one).match.enhanced: '5.1'"));
            assertThat(errors).anySatisfy(m -> assertThat(m).startsWith(p + ":4: rules[0](x.one).match.token: 'dyn:t1'"));
            assertThat(errors).anySatisfy(m -> assertThat(m).startsWith(p + ":4: rules[0](x.one).match.stage: unknown stage 'LUNCH'"));
            assertThat(errors).anySatisfy(m -> assertThat(m).startsWith(p + ":6: rules[0](x.one).reason: unknown reason 'UserUnknown'"));
            assertThat(errors).anySatisfy(m -> assertThat(m).startsWith(p + ":7: rules[0](x.one).scope: unknown scope 'planet'"));
            assertThat(errors).anySatisfy(m -> assertThat(m).startsWith(p + ":8: rules[0](x.one).hold: malformed duration 'soon'"));
            assertThat(e.getMessage()).startsWith(errors.size() + " errors in reply rules:");
        }
    }

    @Test
    void missingFieldsAndDuplicateIds() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:",
                rule("x.one", "{code: 550}", "bounce", "undefined", "message"),
                rule("x.one", "{code: 551}", "bounce", "undefined", "message"),
                "  - id: x.two", "    match: {}", "    action: retry", "    reason: undefined", "    scope: message");
        try {
            RuleSet.load(p);
            throw new AssertionError("expected RulesException");
        } catch (RulesException e) {
            assertThat(e.errors()).contains(
                    p + ":11: rules[1].id: duplicate id 'x.one' (first at line 3)",
                    p + ":19: rules[2](x.two).explanation: missing",
                    p + ":19: rules[2](x.two).remedy: missing",
                    p + ":19: rules[2](x.two).source: missing");
        }
    }

    @Test
    void suppressIsOnlyForUnknownUsers() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:",
                rule("x.quota", "{text: 'quota'}", "suppress", "mailboxfull", "recipient"));
        assertThatThrownBy(() -> RuleSet.load(p))
                .hasMessageStartingWith(p + ":5: rules[0](x.quota).action: suppress is only for reason userunknown");
    }

    @Test
    void throttleHoldsTheDestinationAndHoldNeedsThrottle() throws Exception {
        Path p = file("bad.yaml", "version: 1", "rules:",
                rule("x.t", "{code: 421}", "throttle", "speeding", "message"),
                rule("x.h", "{code: 450}", "retry", "speeding", "message"),
                "    hold: 5m");
        try {
            RuleSet.load(p);
            throw new AssertionError("expected RulesException");
        } catch (RulesException e) {
            assertThat(e.errors()).containsExactly(
                    p + ":7: rules[0](x.t).scope: throttle holds the whole destination; scope must be destination",
                    p + ":19: rules[1](x.h).hold: only a throttle holds a destination; use retryAfter for action retry");
        }
    }

    @Test
    void anEffectIsForThrottlesAndOnlyAHoldingEffectTakesAHold() throws Exception {
        Path p = file("effects.yaml", "version: 1", "rules:",
                rule("x.slow", "{code: 450}", "throttle", "speeding", "destination"),
                "    effect: slow",
                "    hold: 15m",
                rule("x.retry", "{code: 451}", "retry", "speeding", "message"),
                "    effect: hold",
                rule("x.typo", "{code: 452}", "throttle", "speeding", "destination"),
                "    effect: slower");
        try {
            RuleSet.load(p);
            throw new AssertionError("expected RulesException");
        } catch (RulesException e) {
            assertThat(e.errors()).containsExactly(
                    p + ":12: rules[0](x.slow).hold: effect slow does not hold the destination (its pause follows from"
                            + " the lowered pace); use hold-and-slow for a hold",
                    p + ":21: rules[1](x.retry).effect: only a throttle has an effect on the destination; action retry"
                            + " concerns this message alone",
                    p + ":30: rules[2](x.typo).effect: unknown effect 'slower'; expected hold, slow, hold-and-slow or"
                            + " fewer-connections");
        }
    }

    @Test
    void aThrottleRuleCarriesItsEffectIntoTheClassification() throws Exception {
        Path p = file("effects.yaml", "version: 1", "rules:",
                rule("x.conn", "{code: 421, text: 'too many connections'}", "throttle", "toomanyconn", "destination"),
                "    effect: fewer-connections",
                rule("x.plain", "{code: 421}", "throttle", "speeding", "destination"));
        ReplyClassifier c = ReplyClassifier.withOverrides(java.util.List.of(p));
        assertThat(c.classify(SmtpReply.parse("421 4.7.0 Error: too many connections from 192.0.2.1")).throttleEffect())
                .contains(ThrottleEffect.FEWER_CONNECTIONS);
        assertThat(c.classify(SmtpReply.parse("421 go away")).throttleEffect()).as("a throttle without effect holds")
                .contains(ThrottleEffect.HOLD);
        assertThat(c.classify(SmtpReply.parse("550 5.1.1 no such user")).throttleEffect()).isEmpty();
    }

    @Test
    void versionIsRequiredAndChecked() throws Exception {
        assertThatThrownBy(() -> RuleSet.load(file("v.yaml", "rules: []")))
                .hasMessageEndingWith("v.yaml:1: version: missing; this format is 'version: 1'");
        assertThatThrownBy(() -> RuleSet.load(file("v2.yaml", "version: 2", "rules: []")))
                .hasMessageEndingWith("v2.yaml:1: version: unsupported version 2; this engine reads version 1");
        // Read as a whole number, as the policy file reads it.
        assertThatThrownBy(() -> RuleSet.load(file("vword.yaml", "version: one", "rules: []")))
                .hasMessageEndingWith("vword.yaml:1: version: expected a whole number, got 'one'");
        assertThatThrownBy(() -> RuleSet.load(file("e.yaml", "")))
                .hasMessageContaining("e.yaml:1: file: empty");
        assertThatThrownBy(() -> RuleSet.load(file("y.yaml", "version: 1", "rules: [", "  - x: {")))
                .hasMessageContaining("y.yaml:").hasMessageContaining(": yaml: ");
        assertThatThrownBy(() -> RuleSet.load(dir.resolve("missing.yaml")))
                .hasMessageContaining("missing.yaml:1: file: cannot read");
    }

    @Test
    void validFileWithHintsLoads() throws Exception {
        Path p = file("ok.yaml", "version: 1", "rules:",
                rule("x.t", "{token: [DYN:T1, DYN:T2], code: [421, 4xx], stage: [connect, RCPT]}", "throttle",
                        "speeding", "destination"),
                "    hold: 1h30m",
                rule("x.r", "{enhanced: [X.1.*, 5.*.*]}", "retry", "undefined", "message"),
                "    retryAfter: 2d");
        RuleSet set = RuleSet.load(p);
        assertThat(set.rules()).hasSize(2);
        assertThat(set.rules().get(0).hold()).contains(Duration.ofMinutes(90));
        assertThat(set.rules().get(0).tier()).isEqualTo(Tier.TOKEN);
        assertThat(set.rules().get(1).retryAfter()).contains(Duration.ofDays(2));
        // the least specific pattern of a list decides its tier
        assertThat(set.rules().get(1).tier()).isEqualTo(Tier.CODE_CLASS);
        assertThat(set.rules().get(1).describeMatch()).isEqualTo("enhanced=X.1.*,5.*.*");
    }
}
