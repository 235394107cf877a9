package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.reply.Stage;

/** Suppression rests on evidence about the recipient: never X.1.7/X.1.8, sender wording or MAIL FROM. */
class RulesSuppressionSafetyTest {
    private static final ReplyClassifier C = ReplyClassifier.builtIn();

    @TempDir
    Path dir;

    private Path file(String... lines) throws Exception {
        Path p = dir.resolve("rules.yaml");
        Files.write(p, String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
        return p;
    }

    private static String[] suppressRule(String matchLines) {
        return new String[] {"version: 1", "rules:", "  - id: site.gone", "    match:", matchLines,
            "    action: suppress", "    reason: userunknown", "    scope: recipient", "    explanation: e",
            "    remedy: r", "    source: s"};
    }

    // ---- load time -------------------------------------------------------------------------------

    @Test
    void loaderRefusesASuppressRuleOnSenderAddressStatus() throws Exception {
        Path p = file(suppressRule("      enhanced: [5.1.1, X.1.8]"));
        assertThatThrownBy(() -> RuleSet.load(p)).isInstanceOf(RulesException.class)
                .hasMessage(p + ":5: rules[0](site.gone).match.enhanced: suppress may not match 'X.1.8': it allows"
                        + " X.1.7/X.1.8, which are about the sender's address, not the recipient's");
    }

    @Test
    void loaderRefusesASuppressRuleWhoseWildcardCoversX17() throws Exception {
        Path p = file(suppressRule("      enhanced: 5.1.*"));
        assertThatThrownBy(() -> RuleSet.load(p))
                .hasMessageStartingWith(p + ":5: rules[0](site.gone).match.enhanced: suppress may not match '5.1.*'");
        Path q = file(suppressRule("      enhanced: 4.*.*"));
        assertThatThrownBy(() -> RuleSet.load(q))
                .hasMessageStartingWith(q + ":5: rules[0](site.gone).match.enhanced: suppress may not match '4.*.*'");
    }

    @Test
    void loaderRefusesASuppressRuleAtStageMail() throws Exception {
        Path p = file(suppressRule("      stage: [RCPT, MAIL]\n      text: 'no such user'"));
        assertThatThrownBy(() -> RuleSet.load(p))
                .hasMessage(p + ":5: rules[0](site.gone).match.stage: suppress may not match stage MAIL: a reply"
                        + " to MAIL FROM is about the sender, not the recipient");
    }

    @Test
    void loaderAcceptsRecipientEvidenceAndBounceRulesOnSenderCodes() throws Exception {
        assertThat(RuleSet.load(file(suppressRule("      enhanced: [5.1.1, 5.1.10]\n      stage: RCPT"))).size())
                .isEqualTo(1);
        Path bounce = file("version: 1", "rules:", "  - id: site.sender", "    match: {enhanced: X.1.8, stage: MAIL}",
                "    action: bounce", "    reason: rejected", "    scope: message", "    explanation: e",
                "    remedy: r", "    source: s");
        assertThat(RuleSet.load(bounce).size()).isEqualTo(1);
    }

    // ---- classification time ---------------------------------------------------------------------

    @Test
    void senderDomainWordingNeverSuppresses() {
        for (String reply : new String[] {
            "553 5.1.8 <ops@build7.example.net>... Domain of sender address ops@build7.example.net does not exist",
            "550 Domain of sender address noreply@gone.example.org does not exist",
            "553 sender address <a@old.example> does not exist",
        }) {
            Classification c = C.classify(reply);
            assertThat(c.action()).as(reply).isEqualTo(Action.BOUNCE);
            assertThat(c.reason()).as(reply).isEqualTo("rejected");
        }
    }

    @Test
    void aBroadOverrideCannotSuppressOverTheSender() throws Exception {
        // An operator's rule that would suppress anything saying "does not exist".
        Path p = file(suppressRule("      text: 'does not exist|unknown'"));
        ReplyClassifier c = ReplyClassifier.withOverrides(Collections.singletonList(p));
        // the rule itself works for a recipient
        assertThat(c.classify("550 mailbox jo@example.org does not exist", Stage.RCPT).action())
                .isEqualTo(Action.SUPPRESS);
        // X.1.7 and X.1.8 are about the sender, whatever the words
        Classification x18 = c.classify("550 5.1.8 address does not exist");
        assertThat(x18.action()).isEqualTo(Action.BOUNCE);
        assertThat(x18.reason()).isEqualTo("rejected");
        assertThat(x18.scope()).isEqualTo(Scope.MESSAGE);
        assertThat(x18.ruleId()).isEqualTo("site.gone");
        assertThat(x18.explanation()).startsWith("Not suppressed: its status 5.1.8");
        assertThat(c.classify("553 5.1.7 unknown mailbox syntax").action()).isEqualTo(Action.BOUNCE);
        // the basic code decides the class, the subject and detail still say "sender"
        assertThat(c.classify("550 4.1.8 host does not exist").action()).isEqualTo(Action.BOUNCE);
        // words about the sender
        assertThat(c.classify("550 Sender address rejected: domain does not exist").action()).isEqualTo(Action.BOUNCE);
        assertThat(c.classify("550 unknown sender").action()).isEqualTo(Action.BOUNCE);
        // the MAIL stage, given by the caller or read from the wrapper
        assertThat(c.classify("550 user unknown", Stage.MAIL).action()).isEqualTo(Action.BOUNCE);
        assertThat(c.classify("SMTP error from remote mail server after MAIL FROM:<a@b.example> SIZE=900: "
                + "550 account does not exist").action()).isEqualTo(Action.BOUNCE);
        assertThat(c.classify("mx.example.net [192.0.2.9] did not like our MAIL FROM:550 unknown account")
                .action()).isEqualTo(Action.BOUNCE);
    }

    @Test
    void builtInUnknownUserWordingAtMailFromIsRejectedNotSuppressed() {
        Classification c = C.classify("550 5.1.1 no such user here", Stage.MAIL);
        assertThat(c.action()).isEqualTo(Action.BOUNCE);
        assertThat(c.reason()).isEqualTo("rejected");
        assertThat(C.classify("550 5.1.1 no such user here", Stage.RCPT).action()).isEqualTo(Action.SUPPRESS);
    }

    @Test
    void noBuiltInSuppressRuleAllowsSenderEvidence() {
        for (ReplyRule r : C.rules()) {
            if (r.action() == Action.SUPPRESS) {
                assertThat(r.describeMatch()).as(r.id()).doesNotContain("X.1.8", "X.1.7", "5.1.*", "MAIL");
            }
        }
    }
}
