package org.mailpolicy.reply;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;

/**
 * The fixed-width scans {@link ReplyParser} reads enhanced codes and provider tokens with, and the
 * character tests they share. Each looks at a few characters where a code or token may start: no
 * backtracking, no substring, nothing allocated for a position that holds nothing. Their rules, as
 * the regexes they replace (ReferenceReplyParser in the tests keeps those):
 * <pre>
 *   enhanced, right after the code   \A[\s-]*[#(]?([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)\)?
 *   enhanced, anywhere               (?&lt;![\w.])#?([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)
 *   provider token  (?&lt;![A-Za-z0-9:.@/-])(?:([A-Z]{2,4}:[A-Z0-9]{1,3})|(RTRU))(?![A-Za-z0-9:@/-]|\.[A-Za-z0-9])
 * </pre>
 * A token is 2-4 capitals, a colon, 1-3 capitals or digits (DYN:T1, RLY:CH2), or AOL's bare RTRU;
 * neighbours must not continue the word, so IPv6 (2001:DB8::1) and times never match.
 *
 * <p>A scan over {@code [from, to)} of a longer text reads it as the regex reads that part cut out:
 * nothing before {@code from} is looked behind at, nothing from {@code to} on is looked ahead at.
 */
final class ReplyScans {
    /**
     * Distinct tokens kept. A real reply carries one or two; 8 KB of made-up ones (ReplyFuzzTest)
     * would otherwise make each new token a scan of all before it, a JSON array of a thousand, and a
     * thousand lookups in the token tier.
     */
    static final int MAX_TOKENS = 16;
    /** SMTP verbs and header-ish words that look like tokens in wrappers ("RCPT TO:X1", "MAIL FROM:A"). */
    private static final String[] NOT_TOKENS = {"TO", "FROM", "RCPT", "MAIL", "DATA", "HELO", "EHLO", "SMTP", "ESMTP",
        "HOST", "PORT"};
    /** {@link #enhancedAt} packs class, subject, detail and end into a long; -1 is "none". */
    private static final int SUBJECT_SHIFT = 4;
    private static final int DETAIL_SHIFT = 14;
    private static final int END_SHIFT = 24;
    static final long NONE = -1;

    private ReplyScans() {
    }

    /**
     * The enhanced code at the start of {@code s} from {@code from} (the text after the basic code),
     * packed ({@link #status}, {@link #end}: where the text after it starts), or {@link #NONE}.
     */
    static long enhancedAfterCode(String s, int from) {
        int i = from;
        int n = s.length();
        while (i < n && (isSpace(s.charAt(i)) || s.charAt(i) == '-')) {
            i++;
        }
        if (i < n && (s.charAt(i) == '#' || s.charAt(i) == '(')) {
            i++;
        }
        long status = enhancedAt(s, i, n);
        if (status == NONE) {
            return NONE;
        }
        int end = end(status);
        return end < n && s.charAt(end) == ')' ? withEnd(status, end + 1) : status;
    }

    /**
     * The first enhanced code standing alone in {@code s} between from and to, or null. Every one
     * has a '.' right after its class digit, so the scan goes from dot to dot (String.indexOf).
     */
    static EnhancedStatus enhancedAnywhere(String s, int from, int to) {
        for (int dot = s.indexOf('.', from + 1); dot >= 0 && dot < to; dot = s.indexOf('.', dot + 1)) {
            int i = dot - 1;
            char c = s.charAt(i);
            if (c != '2' && c != '4' && c != '5') {
                continue;
            }
            if (i > from && (isWordChar(s.charAt(i - 1)) || s.charAt(i - 1) == '.')) {
                continue;
            }
            long status = enhancedAt(s, i, to);
            if (status != NONE && (end(status) == to || !isWordChar(s.charAt(end(status))))) {
                return status(status);
            }
        }
        return null;
    }

    /**
     * {@code [245].\d{1,3}.\d{1,3}} at i, not followed by a digit or by '.' and a digit, reading no
     * further than {@code to}: packed, or {@link #NONE}. The digit runs must be whole: a longer run
     * cannot be cut short, as the regexes' look-aheads forbid a digit next.
     */
    static long enhancedAt(String s, int i, int to) {
        if (i + 4 >= to) {
            return NONE;
        }
        char c = s.charAt(i);
        if ((c != '2' && c != '4' && c != '5') || s.charAt(i + 1) != '.') {
            return NONE;
        }
        int subjectEnd = digitsEnd(s, i + 2, to);
        if (subjectEnd == i + 2 || subjectEnd - (i + 2) > 3 || subjectEnd >= to || s.charAt(subjectEnd) != '.') {
            return NONE;
        }
        int detailEnd = digitsEnd(s, subjectEnd + 1, to);
        if (detailEnd == subjectEnd + 1 || detailEnd - (subjectEnd + 1) > 3) {
            return NONE;
        }
        if (detailEnd + 1 < to && s.charAt(detailEnd) == '.' && isDigit(s.charAt(detailEnd + 1))) {
            return NONE;
        }
        long subject = number(s, i + 2, subjectEnd);
        long detail = number(s, subjectEnd + 1, detailEnd);
        return (c - '0') | subject << SUBJECT_SHIFT | detail << DETAIL_SHIFT | (long) detailEnd << END_SHIFT;
    }

    static EnhancedStatus status(long packed) {
        return EnhancedStatus.of((int) (packed & 0xF), (int) (packed >>> SUBJECT_SHIFT & 0x3FF),
                (int) (packed >>> DETAIL_SHIFT & 0x3FF));
    }

    /** Where the text after a packed enhanced code starts. */
    static int end(long packed) {
        return (int) (packed >>> END_SHIFT);
    }

    private static long withEnd(long packed, int end) {
        return packed & ((1L << END_SHIFT) - 1) | (long) end << END_SHIFT;
    }

    /** The value of a run of at most three ASCII digits. */
    private static int number(String s, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            v = v * 10 + s.charAt(i) - '0';
        }
        return v;
    }

    private static int digitsEnd(String s, int from, int to) {
        int i = from;
        while (i < to && isDigit(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /**
     * The distinct provider tokens of s, in order of appearance, at most {@link #MAX_TOKENS}. Every
     * token has a colon or is RTRU, so the scan goes from colon to colon and from RTRU to RTRU (found
     * by String.indexOf, which reads many characters at a time), not character by character: a
     * colon form starts where the run of capitals before its colon starts (a capital before the
     * start would refuse it). As with Matcher.find, a token found, kept or not, is skipped whole.
     */
    static List<String> tokens(String s) {
        long colonToken = nextColonToken(s, s.indexOf(':'));
        int rtru = s.indexOf("RTRU");
        String first = null;
        List<String> out = null;
        int from = 0;
        while (colonToken != NONE || rtru >= 0) {
            int start;
            int end;
            int colonStart = colonToken == NONE ? Integer.MAX_VALUE : (int) (colonToken >>> 32);
            if (colonStart <= (rtru < 0 ? Integer.MAX_VALUE : rtru)) {
                start = colonStart;
                end = (int) colonToken;
                colonToken = nextColonToken(s, s.indexOf(':', end)); // the tail after a colon has none
            } else {
                start = rtru;
                end = rtruEnd(s, rtru);
                rtru = s.indexOf("RTRU", rtru + 1);
            }
            if (start < from || end < 0) {
                continue; // inside the last token, or not a token
            }
            String t = s.substring(start, end);
            if (!isSmtpWord(t)) {
                // Most replies with a token have one: it needs no list of its own.
                if (first == null) {
                    first = t;
                } else if (!first.equals(t)) {
                    if (out == null) {
                        out = new ArrayList<>(4);
                        out.add(first);
                    }
                    if (!out.contains(t)) {
                        out.add(t);
                        if (out.size() == MAX_TOKENS) {
                            break;
                        }
                    }
                }
            }
            from = end;
        }
        return out != null ? ImmutableList.copyOf(out) : first != null ? ImmutableList.of(first) : ImmutableList.of();
    }

    /**
     * The colon-form token around the first colon from {@code colon} on that makes one, as start
     * {@code << 32 | end}; {@link #NONE} when no colon does.
     */
    private static long nextColonToken(String s, int colon) {
        for (int c = colon; c >= 0; c = s.indexOf(':', c + 1)) {
            int start = c;
            while (start > 0 && start > c - 5 && isUpper(s.charAt(start - 1))) {
                start--;
            }
            int run = c - start;
            if (run < 2 || run > 4 || start > 0 && isUpper(s.charAt(start - 1)) || !mayStartTokenAfter(s, start)) {
                continue;
            }
            int end = c + 1;
            while (end < s.length() && end - c - 1 < 4 && isUpperOrDigit(s.charAt(end))) {
                end++;
            }
            int tail = end - c - 1;
            if (tail >= 1 && tail <= 3 && standsAloneAt(s, end)) {
                return (long) start << 32 | end;
            }
        }
        return NONE;
    }

    /** Where the RTRU at i ends when it is a token, or -1. */
    private static int rtruEnd(String s, int i) {
        return mayStartTokenAfter(s, i) && standsAloneAt(s, i + 4) ? i + 4 : -1;
    }

    /** The token's look-behind: the character before i does not carry a word on into it. */
    private static boolean mayStartTokenAfter(String s, int i) {
        if (i == 0) {
            return true;
        }
        char b = s.charAt(i - 1);
        return !(isAsciiLetterOrDigit(b) || b == ':' || b == '.' || b == '@' || b == '/' || b == '-');
    }

    private static boolean isUpper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    /** The token's look-ahead: the word does not go on at end. */
    private static boolean standsAloneAt(String s, int end) {
        if (end >= s.length()) {
            return true;
        }
        char a = s.charAt(end);
        if (isAsciiLetterOrDigit(a) || a == ':' || a == '@' || a == '/' || a == '-') {
            return false;
        }
        return !(a == '.' && end + 1 < s.length() && isAsciiLetterOrDigit(s.charAt(end + 1)));
    }

    private static boolean isSmtpWord(String token) {
        int colon = token.indexOf(':');
        if (colon < 0) {
            return false;
        }
        for (String word : NOT_TOKENS) {
            if (word.length() == colon && token.startsWith(word)) {
                return true;
            }
        }
        return false;
    }

    /** Regex \d: ASCII digits only. */
    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Regex \w: ASCII letters, digits and '_'. */
    static boolean isWordChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }

    /** Regex \s: space, tab, line feed, vertical tab, form feed, carriage return. */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000b' || c == '\f' || c == '\r';
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }

    private static boolean isUpperOrDigit(char c) {
        return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }
}
