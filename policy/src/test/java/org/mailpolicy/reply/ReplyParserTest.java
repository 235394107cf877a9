package org.mailpolicy.reply;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReplyParserTest {

    @Test
    void singleLineWithEnhancedCodeAndToken() {
        SmtpReply r = SmtpReply.parse("421 4.7.1 : (DYN:T1)");
        assertThat(r.code()).hasValue(421);
        assertThat(r.enhancedStatus()).contains(EnhancedStatus.of(4, 7, 1));
        assertThat(r.tokens()).containsExactly("DYN:T1");
        assertThat(r.text()).isEqualTo("(DYN:T1)");
        assertThat(r.stage()).isEqualTo(Stage.UNKNOWN);
    }

    @Test
    void wrappersThatNameTheFailedCommandGiveTheStageAndTheirCode() {
        SmtpReply r = SmtpReply.parse("mx2.example.net [198.51.100.7] did not like our RCPT TO:550 5.1.1 <ann@example.net>:"
                + " no such user");
        assertThat(r.code()).hasValue(550);
        assertThat(r.enhancedStatus()).contains(EnhancedStatus.of(5, 1, 1));
        assertThat(r.text()).isEqualTo("<ann@example.net>: no such user");
        assertThat(r.stage()).isEqualTo(Stage.RCPT);
        assertThat(SmtpReply.parse("mx [198.51.100.7] did not like our final DATA:554 5.7.1 refused").stage())
                .isEqualTo(Stage.END_OF_DATA);
        assertThat(SmtpReply.parse("mx [198.51.100.7] did not like our MAIL FROM:553 5.1.8 refused").stage())
                .isEqualTo(Stage.MAIL);
        // qmail-remote names the command that failed in its own words
        assertThat(SmtpReply.parse("Connected to 203.0.113.5 but sender was rejected. Remote host said: 553 sorry")
                .stage()).isEqualTo(Stage.MAIL);
        assertThat(SmtpReply.parse("Connected to 203.0.113.5 but my name was rejected. Remote host said: 501 bad")
                .stage()).isEqualTo(Stage.HELO);
        // only after the wrapper: a colon before a number elsewhere still keeps it out
        assertThat(SmtpReply.parse("queue id:550 something").code()).isEmpty();
    }

    @Test
    void aReportedStatusIsTheEnhancedCodeOfADiagnosticWithoutOne() {
        // Postfix's own prose (X-Postfix;) comes with the recipient's Status and no code of its own.
        SmtpReply prose = SmtpReply.fromReport("mailbox unknown (user moved away)", EnhancedStatus.parse("5.1.1"));
        assertThat(prose.code()).isEmpty();
        assertThat(prose.enhancedStatus()).contains(EnhancedStatus.of(5, 1, 1));
        assertThat(prose.text()).isEqualTo("mailbox unknown (user moved away)");
        assertThat(prose.raw()).isEqualTo("mailbox unknown (user moved away)");
        // a reply without an enhanced code takes the Status too
        SmtpReply basicOnly = SmtpReply.fromReport("550 Requested action not taken: mailbox unavailable",
                EnhancedStatus.parse("5.1.1"));
        assertThat(basicOnly.code()).hasValue(550);
        assertThat(basicOnly.enhancedStatus()).contains(EnhancedStatus.of(5, 1, 1));
    }

    @Test
    void aReportedStatusNeverReplacesTheReplysOwnCodes() {
        SmtpReply own = SmtpReply.fromReport("550 5.7.1 <bob@example.net>: Relay access denied",
                EnhancedStatus.parse("5.0.0"));
        assertThat(own).isEqualTo(SmtpReply.parse("550 5.7.1 <bob@example.net>: Relay access denied"));
        // qmail's (#5.1.1) is the diagnostic's own code
        assertThat(SmtpReply.fromReport("Sorry, no mailbox here by that name. (#5.1.1)", EnhancedStatus.parse("5.0.0"))
                .enhancedStatus()).contains(EnhancedStatus.of(5, 1, 1));
        // X.0.0 only restates a basic code's class: the rules for that code must still apply
        assertThat(SmtpReply.fromReport("550 No Such User Here", EnhancedStatus.parse("5.0.0")).enhancedStatus()).isEmpty();
        assertThat(SmtpReply.fromReport("retry time not reached for any host", EnhancedStatus.parse("5.0.0"))
                .enhancedStatus()).contains(EnhancedStatus.of(5, 0, 0));
        assertThat(SmtpReply.fromReport("Connection refused", java.util.Optional.empty()))
                .isEqualTo(SmtpReply.parse("Connection refused"));
    }

    @Test
    void withoutEnhancedCode() {
        SmtpReply r = SmtpReply.parse("554 RTR:GE");
        assertThat(r.code()).hasValue(554);
        assertThat(r.enhancedStatus()).isEmpty();
        assertThat(r.tokens()).containsExactly("RTR:GE");
    }

    @Test
    void multiLineRepliesJoinTheirLinesWithASpace() {
        SmtpReply r = SmtpReply.parse("421-4.7.28 [1.2.3.4] Our system has detected an unusual rate of\r\n"
                + "421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n"
                + "421 4.7.28 users from spam, mail sent from your IP address has been temporarily rate limited.");
        assertThat(r.code()).hasValue(421);
        assertThat(r.enhancedStatus()).contains(EnhancedStatus.of(4, 7, 28));
        assertThat(r.text()).isEqualTo("[1.2.3.4] Our system has detected an unusual rate of unsolicited mail "
                + "originating from your IP address. To protect our users from spam, mail sent from your IP address "
                + "has been temporarily rate limited.");
        assertThat(r.raw()).doesNotContain("\r").doesNotContain("\n");
    }

    @Test
    void multiLineReplyLoggedOnOneLineLosesItsRepeatedPrefixes() {
        SmtpReply r = SmtpReply.parse("550-5.1.1 The email account that you tried to reach does not exist. "
                + "Please try 550-5.1.1 double-checking the recipient's email address.");
        assertThat(r.text()).isEqualTo("The email account that you tried to reach does not exist. Please try "
                + "double-checking the recipient's email address.");
    }

    @Test
    void multiLineWithoutEnhancedCode() {
        SmtpReply r = SmtpReply.parse("421-mx.example.com busy\n421 try again later");
        assertThat(r.code()).hasValue(421);
        assertThat(r.text()).isEqualTo("mx.example.com busy try again later");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "SMTP error from remote mail server after RCPT TO:<x@aol.com>: 550 MAILBOX NOT FOUND | 550 | | MAILBOX NOT FOUND | RCPT",
        "host mx.aol.com[1.2.3.4] said: 421 4.7.1 : (DYN:T1) (in reply to end of DATA command) | 421 | 4.7.1 | (DYN:T1) (in reply to end of DATA command) | UNKNOWN",
        "5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND' | 550 | 5.1.0 | 'MAILBOX NOT FOUND' | UNKNOWN",
        "Could not connect to SMTP host: mx.aol.com, port: 25, response: 421 | 421 | | `` | CONNECT",
        "Could not connect to SMTP host: smtp.example.com, port: 465, response: 421 | 421 | | `` | CONNECT",
        "delivery temporarily suspended: host[] refused to talk to me: 421 Service unavailable - try again later | 421 | | Service unavailable - try again later | CONNECT",
        "Remote host said: 521 5.2.1 \"TempFail\" | 521 | 5.2.1 | \"TempFail\" | UNKNOWN",
        "SMTP error from remote mail server after end of data: host []: 521 5.2.1 :(CON:B1) | 521 | 5.2.1 | (CON:B1) | END_OF_DATA",
        "com.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <x@example.com>... User unknown | 550 | 5.1.1 | <x@example.com>... User unknown | UNKNOWN",
        "javax.mail.SendFailedException: Invalid Addresses; nested exception is: com.sun.mail.smtp.SMTPAddressFailedException: 452 4.2.2 Mailbox full | 452 | 4.2.2 | Mailbox full | UNKNOWN",
        "2012-10-15 13:46:10 SMTP service unavailable: \u201c421 4.2.1 \u201cService unavailable. Please try again later.\u201d\u201d received from ( while connected from ( | 421 | 4.2.1 | \u201cService unavailable. Please try again later.\u201d\u201d received from ( while connected from ( | CONNECT",
        "5.5.0 smtp;553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1) | 553 | 5.7.1 | sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1) | UNKNOWN",
        "SMTP Error 550 5.7.1 | 550 | 5.7.1 | `` | UNKNOWN",
        "Diagnostic-Code: smtp; 554 ESMTP not accepting connections | 554 | | ESMTP not accepting connections | UNKNOWN",
    })
    void wrappersAreStripped(String input, int code, String enhanced, String text, Stage stage) {
        SmtpReply r = SmtpReply.parse(input);
        assertThat(r.code()).hasValue(code);
        if (enhanced == null) {
            assertThat(r.enhancedStatus()).isEmpty();
        } else {
            assertThat(r.enhancedStatus().map(Object::toString)).contains(enhanced);
        }
        assertThat(r.text()).isEqualTo(text == null ? "" : text);
        assertThat(r.stage()).isEqualTo(stage);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Connection refused", "Read timed out", "Unknown host", "Connection reset",
        "java.net.ConnectException: Connection refused (Connection refused)",
        "Could not connect to SMTP host: mx.aol.com, port: 25; nested exception is: java.net.SocketTimeoutException: connect timed out",
        "Connection timed out after 300 seconds", "sent 250 messages in 120 ms"})
    void repliesWithoutACode(String input) {
        SmtpReply r = SmtpReply.parse(input);
        assertThat(r.code()).isEmpty();
        assertThat(r.text()).isEqualTo(input);
    }

    @Test
    void aolTokensInAllTheirForms() {
        assertThat(SmtpReply.parse("421 RLY:CH2").tokens()).containsExactly("RLY:CH2");
        assertThat(SmtpReply.parse("554 RLY:CS4 http://postmaster.info.aol.com/errors/554rlycs4.html").tokens())
                .containsExactly("RLY:CS4");
        assertThat(SmtpReply.parse("521 5.2.1 : (CON:B1) http://postmaster.info.aol.com/errors/554conb1.html").tokens())
                .containsExactly("CON:B1");
        assertThat(SmtpReply.parse("554 RTRU http://postmaster.info.aol.com/errors/554rtru.html").tokens())
                .containsExactly("RTRU");
        assertThat(SmtpReply.parse("421 DNS:NR").tokens()).containsExactly("DNS:NR");
        assertThat(SmtpReply.parse("554 HVU:B1 and again HVU:B1").tokens()).containsExactly("HVU:B1");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "220-rly-dd08.mx.aol.com ESMTP mail_relay_in-dd08.6; Mon, 12 Oct 2009 15:31:48 -0400",
        "421 connect from 2001:DB8:ABC:1::25 refused",
        "550 fe80::ABCD:EF12 not allowed",
        "550 RCPT TO:X1 rejected, MAIL FROM:AB bad",
        "550 see http://EXAMPLE.COM:ABC/x and user@HOST:AB"})
    void timesAddressesAndVerbsAreNotTokens(String input) {
        assertThat(SmtpReply.parse(input).tokens()).isEmpty();
    }

    @Test
    void numbersThatAreNotCodes() {
        assertThat(SmtpReply.parse("[205.188.1.250] said nothing").code()).isEmpty();
        assertThat(SmtpReply.parse("at 13:46:10 on 2012-10-15").code()).isEmpty();
        assertThat(SmtpReply.parse("mx550.example.com closed").code()).isEmpty();
        assertThat(SmtpReply.parse("waited 300 seconds").code()).isEmpty();
        assertThat(SmtpReply.parse("Connection refused, 111 Can't open SMTP stream").code()).isEmpty();
    }

    @Test
    void classDisagreementKeepsBothCodes() {
        SmtpReply r = SmtpReply.parse("550 4.1.1 odd but real");
        assertThat(r.code()).hasValue(550);
        assertThat(r.enhancedStatus()).contains(EnhancedStatus.of(4, 1, 1));
    }

    @Test
    void nullAndEmptyGiveAReplyWithoutCode() {
        for (String s : Arrays.asList(null, "", "   ", "\r\n")) {
            SmtpReply r = SmtpReply.parse(s);
            assertThat(r.code()).isEmpty();
            assertThat(r.tokens()).isEmpty();
            assertThat(r.raw()).doesNotContain("\n");
        }
        assertThat(SmtpReply.parse(null, null).stage()).isEqualTo(Stage.UNKNOWN);
    }

    @Test
    void crLfInjectionCannotSurviveIntoRaw() {
        SmtpReply r = SmtpReply.parse("550 no such user\r\nX-Injected: yes\r\n\r\nbody\u0000\u001b[31m\u0085\u2028end");
        assertThat(r.raw()).doesNotContain("\r", "\n", "\u0000", "\u001b", "\u0085", "\u2028");
        assertThat(r.text()).doesNotContain("\r", "\n", "\u0000", "\u001b");
        assertThat(r.raw()).contains("X-Injected: yes");
        assertThat(r.code()).hasValue(550);
    }

    @Test
    void hundredKilobyteLinesAreBounded() {
        StringBuilder sb = new StringBuilder("550 5.1.1 ");
        while (sb.length() < 100_000) {
            sb.append("user unknown ");
        }
        SmtpReply r = SmtpReply.parse(sb.toString());
        assertThat(r.code()).hasValue(550);
        assertThat(r.raw()).hasSizeLessThanOrEqualTo(ReplyParser.MAX_RAW).endsWith("...");
        assertThat(r.text()).hasSizeLessThanOrEqualTo(ReplyParser.MAX_TEXT);
    }

    @Test
    void binaryInputNeverThrows() {
        Random random = new Random(42);
        for (int i = 0; i < 2000; i++) {
            char[] chars = new char[random.nextInt(300)];
            for (int j = 0; j < chars.length; j++) {
                chars[j] = (char) random.nextInt(0x10000);
            }
            SmtpReply r = SmtpReply.parse(new String(chars), Stage.values()[i % Stage.values().length]);
            assertThat(r.raw()).doesNotContain("\r", "\n");
            for (char c : r.raw().toCharArray()) {
                assertThat(Character.isISOControl(c)).isFalse();
            }
        }
    }

    @Test
    void loneSurrogatesAreReplaced() {
        SmtpReply r = SmtpReply.parse("550 bad \ud800 text \udc00 and \ud83d\ude00");
        assertThat(r.raw()).isEqualTo("550 bad ? text ? and \ud83d\ude00");
    }

    @Test
    void theCallersStageIsKept() {
        assertThat(SmtpReply.parse("421 busy", Stage.CONNECT).stage()).isEqualTo(Stage.CONNECT);
        assertThat(SmtpReply.parse("SMTP error from remote mail server after RCPT TO:<a@b>: 550 x", Stage.DATA).stage())
                .isEqualTo(Stage.DATA);
        assertThat(SmtpReply.parse("421 busy").atStage(Stage.MAIL).stage()).isEqualTo(Stage.MAIL);
    }
}
