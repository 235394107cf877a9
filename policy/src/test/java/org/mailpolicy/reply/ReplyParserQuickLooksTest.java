package org.mailpolicy.reply;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The quick looks with which {@link ReplyParser} avoids its regexes and its character-by-character
 * scans (the quantity words before a code, the units after it, the "did not like our" wrapper, the
 * clean single line, tokens found from colon to colon) never change a reading: on every combination
 * of those words with neighbours that make or break a word boundary (ASCII, non-ASCII letters, a
 * combining mark, '_', digits), cases and separators, the parser reads as the regex parser
 * ({@link ReferenceReplyParser}) does.
 */
class ReplyParserQuickLooksTest {
    private static final String[] BEFORE_WORDS = {"port", "PID", "Id", "size", "length", "line", "version", "ttl",
        "sport", "rapid", "lid", "resize", "airline", "subversion", "response", "ttls", "portx", "ports"};
    private static final String[] UNITS = {"s", "sec", "Secs", "second", "SECONDS", "ms", "millisecond",
        "milliseconds", "minute", "minutes", "min", "mins", "hour", "hours", "byte", "bytes", "kb", "MB", "octets",
        "messages", "recipients", "connections", "attempt", "attempts", "times", "%", "Sorry", "secure", "mailbox",
        "hourly", "bytesx", "recipient", "%d", "% ", "Rejected"};
    private static final String[] NEIGHBOURS = {"", " ", "x", "_", "7", ".", "-", ":", "\u00e9", "\u212a",
        "\u0301", "\u00e9\u0301", "\u4e00", "\ud83d\ude00"};
    private static final String[] SEPARATORS = {"", " ", ": ", " = ", "#", "  :  ", "::", ": :"};

    @Test
    void tokensOfEveryShapeAreFoundAsTheRegexFindsThem() {
        String[] before = {"", "x", "X", ":", ".", " ", "@", "-", "/", "9", "(", "\u00e9"};
        String[] after = {"", " ", ":", ".", ".a", ". ", "a", "-", "@", "/", ")", "RTRU", ":B", "RLY:NW", " RTRU"};
        List<String> shapes = new ArrayList<>();
        for (int capitals = 1; capitals <= 6; capitals++) {
            for (int tail = 0; tail <= 5; tail++) {
                shapes.add("ABCDEF".substring(0, capitals) + ":" + "X1Y2Z".substring(0, tail));
            }
            shapes.add("ABCDEF".substring(0, capitals));
        }
        shapes.addAll(List.of("RTRU", "RTRU:X1", "XRTRU", "RTRUX", "RTRU.", "RTRU:", "TO:X1", "MAIL FROM:A", "A:B:C",
            "AB:CD:EF", "DYN:T1DYN:T1", "2001:DB8::1", "13:46:10"));
        List<String> inputs = new ArrayList<>();
        for (String shape : shapes) {
            for (String b : before) {
                for (String a : after) {
                    inputs.add("421 " + b + shape + a);
                    inputs.add(b + shape + a + " " + shape);
                }
            }
        }
        assertThat(differences(inputs)).isEmpty();
    }

    @Test
    void quantityWordsAndUnitsAroundACodeAreReadAsTheRegexesRead() {
        List<String> inputs = new ArrayList<>();
        for (String word : BEFORE_WORDS) {
            for (String neighbour : NEIGHBOURS) {
                for (String separator : SEPARATORS) {
                    inputs.add(neighbour + word + separator + "421 4.7.0 busy");
                    inputs.add("mx said" + neighbour + word + separator + "550 no");
                    inputs.add("Connection to host" + neighbour + " " + word + separator + "465 closed");
                }
            }
        }
        for (String unit : UNITS) {
            for (String neighbour : NEIGHBOURS) {
                for (String space : new String[] {"", " ", "  ", "\t"}) {
                    inputs.add("waited 300" + space + unit + neighbour + " then 421 try later");
                    inputs.add("550" + space + unit + neighbour);
                    inputs.add("451" + space + unit + neighbour + " 4.3.0 temporary");
                    inputs.add("said: 452" + space + unit);
                }
            }
        }
        for (String neighbour : NEIGHBOURS) {
            for (String wrapper : new String[] {"did not like our RCPT TO:", "DID NOT LIKE OUR MAIL FROM:",
                "Did Not Like Our final DATA:", "did not like our", "did not lik\u212a our RCPT TO:", "did  not like our DATA:",
                "host mx.example.com[192.0.2.1] did not like our EHLO:", "xdid not like our HELO:"}) {
                inputs.add("host mx[192.0.2.1]" + neighbour + wrapper + "550 5.1.1 unknown user");
                inputs.add(wrapper + neighbour + "421 later");
                inputs.add(wrapper);
            }
        }
        for (String neighbour : NEIGHBOURS) {
            inputs.add(neighbour + "550 5.1.1 user unknown" + neighbour);
            inputs.add(" 550 x" + neighbour);
            inputs.add("550 x" + neighbour + " ");
            inputs.add("550\u00a05.1.1\u00a0" + neighbour);
            inputs.add("550 \ufeff" + neighbour);
        }
        assertThat(inputs).hasSizeGreaterThan(5000);
        assertThat(differences(inputs)).isEmpty();
    }

    private static List<String> differences(List<String> inputs) {
        List<String> differences = new ArrayList<>();
        for (String input : inputs) {
            for (Stage stage : new Stage[] {Stage.UNKNOWN, Stage.RCPT}) {
                SmtpReply scanned = SmtpReply.parse(input, stage);
                SmtpReply expected = ReferenceReplyParser.parse(input, stage);
                if (!scanned.equals(expected) && differences.size() < 20) {
                    differences.add("'" + input + "': code " + scanned.code() + " tokens " + scanned.tokens() + " text '"
                            + scanned.text() + "' instead of code " + expected.code() + " tokens " + expected.tokens()
                            + " text '" + expected.text() + "'");
                }
            }
        }
        return differences;
    }
}
