package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;

class ReplyClassifierTest {
    private static final ReplyClassifier C = ReplyClassifier.builtIn();
    private static final String ALPHABET = "0123456789 .-:()#;ABCDRTLY\r\n";

    @Test
    void builtInIsSharedAndImmutable() {
        assertThat(ReplyClassifier.builtIn()).isSameAs(C);
        assertThat(C.plus(new RuleSet("empty", java.util.Collections.emptyList()))).isSameAs(C);
    }

    @Test
    void tiersDecideBeforeOrder() {
        // token beats text: "mailbox not found" text plus an AOL token
        assertThat(C.classify("554 RTR:BB mailbox not found").ruleId()).isEqualTo("aol.rtr-bb");
        // text beats enhanced
        assertThat(C.classify("550 5.7.1 Relay access denied").ruleId()).isEqualTo("generic.relay-denied");
        // exact enhanced beats enhanced wildcard and basic code
        assertThat(C.classify("550 5.1.2 bad system").ruleId()).isEqualTo("rfc3463.5.1.2");
        assertThat(C.classify("550 5.1.99 odd").ruleId()).isEqualTo("rfc3463.5.1.any");
        // a class-only enhanced code is no more specific than the basic code
        assertThat(C.classify("550 5.9.9 odd").ruleId()).isEqualTo("basic.550");
        assertThat(C.classify("5.9.9 odd").ruleId()).isEqualTo("rfc3463.5.any");
        // basic code beats class
        assertThat(C.classify("551 moved").ruleId()).isEqualTo("basic.551");
        assertThat(C.classify("599 odd").ruleId()).isEqualTo("class.5xx");
        assertThat(C.classify("no code at all").ruleId()).isEqualTo("class.none");
    }

    @Test
    void aFinalFailureTurnsRetriesAndThrottlesIntoBouncesWithTheirReason() {
        Classification full = C.classify(SmtpReply.fromReport("mailbox full", EnhancedStatus.parse("5.2.2")));
        assertThat(full.action()).isEqualTo(Action.RETRY);
        Classification gaveUp = full.asFinalFailure("The reporting server gave up.");
        assertThat(gaveUp.action()).isEqualTo(Action.BOUNCE);
        assertThat(gaveUp.reason()).isEqualTo(full.reason()).isEqualTo("mailboxfull");
        assertThat(gaveUp.ruleId()).isEqualTo(full.ruleId());
        assertThat(gaveUp.retryHint()).isEmpty();
        assertThat(gaveUp.explanation()).startsWith("The reporting server gave up. ").endsWith(full.explanation());

        Classification throttle = C.classify("421 4.7.1 : (DYN:T1)");
        assertThat(throttle.action()).isEqualTo(Action.THROTTLE);
        Classification bounced = throttle.asFinalFailure("Gave up.");
        assertThat(bounced.action()).isEqualTo(Action.BOUNCE);
        assertThat(bounced.throttleEffect()).isEmpty();
        assertThat(bounced.holdHint()).isEmpty();
        assertThat(bounced.reason()).isEqualTo(throttle.reason());

        Classification unknown = C.classify("550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown");
        assertThat(unknown.action()).isEqualTo(Action.SUPPRESS);
        assertThat(unknown.asFinalFailure("Gave up.")).isSameAs(unknown);
    }

    @Test
    void whenClassesDisagreeTheBasicCodeDecides() {
        Classification c = C.classify("550 4.2.1 odd");
        assertThat(c.ruleId()).isEqualTo("rfc3463.5.2.1");
        assertThat(c.action()).isEqualTo(Action.BOUNCE);
        assertThat(C.classify("450 5.2.1 odd").action()).isEqualTo(Action.RETRY);
    }

    @Test
    void neverThrowsOnRandomInput() {
        Random random = new Random(7);
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(200);
            for (int j = 0; j < n; j++) {
                sb.append(random.nextInt(4) == 0 ? (char) random.nextInt(0x10000) : ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            Classification c = C.classify(sb.toString(), Stage.values()[i % Stage.values().length]);
            assertThat(c.action()).isNotNull();
            assertThat(c.dsnStatus()).isNotNull();
        }
    }

    @Test
    void dsnStatusUsesTheReplysOwnCodeInTheClassOfTheDecision() {
        assertThat(C.classify("550 5.1.1 user unknown").dsnStatus()).isEqualTo(EnhancedStatus.of(5, 1, 1));
        assertThat(C.classify("421 4.7.1 : (DYN:T1)").dsnStatus()).isEqualTo(EnhancedStatus.of(4, 7, 1));
        // a 5xx that AOL calls transient is reported as delayed (4.x.x)
        assertThat(C.classify("521 5.2.1 \"TempFail\"").dsnStatus()).isEqualTo(EnhancedStatus.of(4, 2, 1));
    }

    @Test
    void dsnStatusDerivedFromReasonWhenTheReplyHasNone() {
        assertThat(C.classify("550 MAILBOX NOT FOUND").dsnStatus()).isEqualTo(EnhancedStatus.of(5, 1, 1));
        assertThat(C.classify("552 Mailbox full").dsnStatus()).isEqualTo(EnhancedStatus.of(4, 2, 2));
        assertThat(C.classify("552 Message exceeds maximum fixed size").dsnStatus()).isEqualTo(EnhancedStatus.of(5, 3, 4));
        assertThat(C.classify("421 DYN:T1").dsnStatus()).isEqualTo(EnhancedStatus.of(4, 7, 0));
        assertThat(C.classify("Connection refused").dsnStatus()).isEqualTo(EnhancedStatus.of(4, 4, 1));
        assertThat(C.classify("retry timeout exceeded").dsnStatus()).isEqualTo(EnhancedStatus.of(5, 4, 7));
        assertThat(C.classify("something odd").dsnStatus()).isEqualTo(EnhancedStatus.of(4, 0, 0));
    }

    @Test
    void classifyKeepsTheReplyAndItsStage() {
        SmtpReply reply = SmtpReply.parse("550 5.1.1 user unknown", Stage.RCPT);
        Classification c = C.classify(reply);
        assertThat(c.reply()).isSameAs(reply);
        assertThat(c.reply().stage()).isEqualTo(Stage.RCPT);
        assertThat(c.toString()).contains("suppress/userunknown");
    }
}
