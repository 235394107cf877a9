package org.mailpolicy.reply;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Turns reply text, as operators meet it in logs, exceptions and bounces, into {@link SmtpReply}.
 *
 * <p>The parser looks for the first plausible basic code anywhere in the text, so wrappers such as
 * "SMTP error from remote mail server after RCPT TO:&lt;x&gt;: 550 ...", "host mx[1.2.3.4] said: 421 ..."
 * or "Could not connect to SMTP host: mx, port: 25, response: 421" need no rule of their own. A
 * number only counts as a code when it stands alone: not part of an IP address, a time, a date, a
 * port ("port: 465") or a quantity ("300 seconds").
 *
 * <p>Never throws: all input is untrusted and may be binary, huge or hostile.
 */
final class ReplyParser {
    /** Longest raw() kept, so a reply is safe to log and to quote in a header. */
    static final int MAX_RAW = 1000;
    /** Longest text() kept; rules match against it, so it also bounds regex work. */
    static final int MAX_TEXT = 1000;
    /** Only this much of the input is examined: codes and tokens sit at the start of a reply. */
    static final int MAX_SCAN = 8192;
    /**
     * Distinct tokens kept. A real reply carries one or two; 8 KB of made-up ones (ReplyFuzzTest)
     * would otherwise make each new token a scan of all before it, a JSON array of a thousand, and a
     * thousand lookups in the token tier.
     */
    static final int MAX_TOKENS = 16;

    // The basic code, the enhanced codes and the provider tokens are found by hand-written scans
    // (codeAt, enhancedAt, tokenAt), each a fixed look at a few characters per position: no
    // backtracking, and a tenth of what the regexes they replace cost. Their rules, as regexes:
    //   basic code      (?<![\w.:/@\[=+#-])([2-5]\d\d)(?=$|[\s\-,;:'"“”)])
    //                   2-5 then two digits (RFC 5321 4.2; 571 is out of range yet seen in the wild), standing
    //                   alone: the look-behind keeps out IPs (1.2.3.250), times (13:46:10), hosts (mx550.example),
    //                   addresses and "[421]"-less junk.
    //   enhanced, right after the code   \A[\s-]*[#(]?([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)\)?
    //   enhanced, anywhere               (?<![\w.])#?([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)
    //   provider token  (?<![A-Za-z0-9:.@/-])(?:([A-Z]{2,4}:[A-Z0-9]{1,3})|(RTRU))(?![A-Za-z0-9:@/-]|\.[A-Za-z0-9])
    //                   2-4 capitals, a colon, 1-3 capitals or digits (DYN:T1, RLY:CH2), or AOL's bare RTRU;
    //                   neighbours must not continue the word, so IPv6 (2001:DB8::1) and times never match.
    private static final Pattern NOT_A_CODE_BEFORE = Pattern.compile(
            "(?i)\\b(?:port|pid|id|size|length|line|version|ttl)\\s*[:=#]?\\s*\\z");
    private static final Pattern NOT_A_CODE_AFTER = Pattern.compile(
            "(?i)\\A\\s*(?:s|secs?|seconds?|ms|milliseconds?|minutes?|mins?|hours?|bytes?|kb|mb|"
                    + "octets|messages|recipients|connections|attempts?|times|%)\\b");
    // "#5.5.0 smtp;541 ...": the reporting MTA's generic protocol status, not the receiver's.
    private static final Pattern EXCHANGE_WRAPPER = Pattern.compile("(?i)\\d\\.\\d{1,3}\\.\\d{1,3}\\s*smtp;\\s*\\z");
    // "host [ip] did not like our RCPT TO:550 5.1.1 ...": a wrapper that glues the code to the command's
    // colon, where the look-behind of CODE would refuse it. A space after the colon makes it a code.
    private static final Pattern WRAPPER_COLON = Pattern.compile(
            "(?i)(did not like our (?:RCPT TO|MAIL FROM|final DATA|DATA|EHLO|HELO)):(?=[2-5]\\d\\d(?!\\d))");
    /** Words a "did not like our" wrapper always holds; the regex runs only on text that has them. */
    private static final String WRAPPER_WORDS = "did not like our ";
    /** SMTP verbs and header-ish words that look like tokens in wrappers ("RCPT TO:X1", "MAIL FROM:A"). */
    private static final String[] NOT_TOKENS = {"TO", "FROM", "RCPT", "MAIL", "DATA", "HELO", "EHLO", "SMTP", "ESMTP",
        "HOST", "PORT"};

    private ReplyParser() {
    }

    static SmtpReply parse(String input, Stage stage) {
        try {
            return parseUnchecked(input == null ? "" : input, stage);
        } catch (RuntimeException | StackOverflowError e) {
            // Defence in depth: the contract is "never throws". Keep what we safely can.
            String raw = ReplyText.sanitise(input == null ? "" : input, MAX_RAW);
            return new SmtpReply(raw, stage, 0, null, ImmutableList.of(), raw);
        }
    }

    private static SmtpReply parseUnchecked(String input, Stage stage) {
        String raw = ReplyText.sanitise(input, MAX_RAW);
        String scanned = input.length() > MAX_SCAN ? input.substring(0, MAX_SCAN) : input;
        String flat = ReplyText.flatten(scanned);
        if (indexOfIgnoringAsciiCase(flat, WRAPPER_WORDS) >= 0) {
            flat = WRAPPER_COLON.matcher(flat).replaceFirst("$1: ");
        }
        Stage effectiveStage = stage == Stage.UNKNOWN ? inferStage(flat) : stage;
        List<String> tokens = tokens(flat);

        int codeStart = findCode(flat);
        if (codeStart < 0) {
            return new SmtpReply(raw, effectiveStage, 0, enhancedAnywhere(flat), tokens,
                    ReplyText.bound(squeeze(flat).trim(), MAX_TEXT));
        }
        int basic = (flat.charAt(codeStart) - '0') * 100 + (flat.charAt(codeStart + 1) - '0') * 10
                + flat.charAt(codeStart + 2) - '0';
        String rest = flat.substring(codeStart + 3);
        EnhancedStatus enhanced;
        int[] after = enhancedAfterCode(rest);
        if (after != null) {
            enhanced = EnhancedStatus.of(after[0], after[1], after[2]);
            rest = rest.substring(after[3]);
        } else {
            // "5.1.0 - Unknown address error 550-'...'" and "5.5.0 smtp;553 ... (#5.7.1)": the enhanced
            // code stands before the basic code or at the end in qmail's (#x.y.z) form. Prefer one in
            // the reply itself over the wrapper's.
            enhanced = enhancedAnywhere(rest);
            if (enhanced == null) {
                String before = flat.substring(0, codeStart);
                if (!isExchangeWrapper(before)) {
                    enhanced = enhancedAnywhere(before);
                }
            }
        }
        String text = stripRepeatedPrefixes(rest, basic, enhanced);
        text = stripLeadingPunctuation(text);
        return new SmtpReply(raw, effectiveStage, basic, enhanced, tokens, ReplyText.bound(squeeze(text).trim(), MAX_TEXT));
    }

    /** Where the first basic code starts, or -1. */
    private static int findCode(String flat) {
        for (int i = 0, n = flat.length() - 2; i < n; i++) {
            if (!codeAt(flat, i)) {
                continue;
            }
            String before = flat.substring(Math.max(0, i - 16), i);
            String after = flat.substring(i + 3, Math.min(flat.length(), i + 3 + 16));
            if (mayEndWithQuantityWord(before) && NOT_A_CODE_BEFORE.matcher(before).find()
                    || mayStartWithUnit(after) && NOT_A_CODE_AFTER.matcher(after).find()) {
                continue;
            }
            return i;
        }
        return -1;
    }

    /** A basic code standing alone at i (see the regex above). */
    private static boolean codeAt(String s, int i) {
        char c = s.charAt(i);
        if (c < '2' || c > '5' || !isDigit(s.charAt(i + 1)) || !isDigit(s.charAt(i + 2))) {
            return false;
        }
        if (i > 0) {
            char b = s.charAt(i - 1);
            if (isWordChar(b) || ".:/@[=+#-".indexOf(b) >= 0) {
                return false;
            }
        }
        if (i + 3 == s.length()) {
            return true;
        }
        char a = s.charAt(i + 3);
        return isSpace(a) || "-,;:'\"\u201c\u201d)".indexOf(a) >= 0;
    }

    /**
     * False when NOT_A_CODE_BEFORE cannot match: it needs one of its words (port, pid, id, size,
     * length, line, version, ttl) at the end, before spaces and at most one of ':', '=', '#'.
     */
    private static boolean mayEndWithQuantityWord(String before) {
        int i = before.length() - 1;
        while (i >= 0 && isSpace(before.charAt(i))) {
            i--;
        }
        if (i >= 0 && ":=#".indexOf(before.charAt(i)) >= 0) {
            i--;
            while (i >= 0 && isSpace(before.charAt(i))) {
                i--;
            }
        }
        return i >= 0 && "tdehnlTDEHNL".indexOf(before.charAt(i)) >= 0;
    }

    /** False when NOT_A_CODE_AFTER cannot match: its units start with these characters, after spaces. */
    private static boolean mayStartWithUnit(String after) {
        int i = 0;
        while (i < after.length() && isSpace(after.charAt(i))) {
            i++;
        }
        return i < after.length() && "smhbkocrat%SMHBKOCRAT".indexOf(after.charAt(i)) >= 0;
    }

    /** EXCHANGE_WRAPPER, which ends in "smtp;" and spaces, run only on text that does. */
    private static boolean isExchangeWrapper(String before) {
        int end = before.length();
        while (end > 0 && isSpace(before.charAt(end - 1))) {
            end--;
        }
        return end >= 5 && before.regionMatches(true, end - 5, "smtp;", 0, 5)
                && EXCHANGE_WRAPPER.matcher(before).find();
    }

    /**
     * The enhanced code at the start of the text after the basic code: {class, subject, detail, end}
     * (end: where the text after it starts), or null.
     */
    private static int[] enhancedAfterCode(String rest) {
        int i = 0;
        int n = rest.length();
        while (i < n && (isSpace(rest.charAt(i)) || rest.charAt(i) == '-')) {
            i++;
        }
        if (i < n && (rest.charAt(i) == '#' || rest.charAt(i) == '(')) {
            i++;
        }
        int[] status = enhancedAt(rest, i);
        if (status == null) {
            return null;
        }
        int end = status[3];
        if (end < n && rest.charAt(end) == ')') {
            status[3] = end + 1;
        }
        return status;
    }

    /** The first enhanced code standing alone anywhere in s (see the regex above), or null. */
    private static EnhancedStatus enhancedAnywhere(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c != '2' && c != '4' && c != '5') {
                continue;
            }
            if (i > 0 && (isWordChar(s.charAt(i - 1)) || s.charAt(i - 1) == '.')) {
                continue;
            }
            int[] status = enhancedAt(s, i);
            if (status != null && (status[3] == n || !isWordChar(s.charAt(status[3])))) {
                return EnhancedStatus.of(status[0], status[1], status[2]);
            }
        }
        return null;
    }

    /**
     * {@code [245].\d{1,3}.\d{1,3}} at i, not followed by a digit or by '.' and a digit:
     * {class, subject, detail, end}, or null. The digit runs must be whole: a longer run cannot be
     * cut short, as the regexes' look-aheads forbid a digit next.
     */
    private static int[] enhancedAt(String s, int i) {
        int n = s.length();
        if (i + 4 >= n) {
            return null;
        }
        char c = s.charAt(i);
        if ((c != '2' && c != '4' && c != '5') || s.charAt(i + 1) != '.') {
            return null;
        }
        int subjectEnd = digitsEnd(s, i + 2);
        if (subjectEnd == i + 2 || subjectEnd - (i + 2) > 3 || subjectEnd >= n || s.charAt(subjectEnd) != '.') {
            return null;
        }
        int detailEnd = digitsEnd(s, subjectEnd + 1);
        if (detailEnd == subjectEnd + 1 || detailEnd - (subjectEnd + 1) > 3) {
            return null;
        }
        if (detailEnd + 1 < n && s.charAt(detailEnd) == '.' && isDigit(s.charAt(detailEnd + 1))) {
            return null;
        }
        return new int[] {c - '0', Integer.parseInt(s.substring(i + 2, subjectEnd)),
            Integer.parseInt(s.substring(subjectEnd + 1, detailEnd)), detailEnd};
    }

    private static int digitsEnd(String s, int from) {
        int i = from;
        while (i < s.length() && isDigit(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Regex \d: ASCII digits only. */
    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Regex \w: ASCII letters, digits and '_'. */
    private static boolean isWordChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }

    /** Regex \s: space, tab, line feed, vertical tab, form feed, carriage return. */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000b' || c == '\f' || c == '\r';
    }

    /** Where {@code lowerNeedle} occurs in s with ASCII case folded, as (?i) compares; -1 if nowhere. */
    private static int indexOfIgnoringAsciiCase(String s, String lowerNeedle) {
        int last = s.length() - lowerNeedle.length();
        outer:
        for (int i = 0; i <= last; i++) {
            for (int k = 0; k < lowerNeedle.length(); k++) {
                char c = s.charAt(i + k);
                if ((c >= 'A' && c <= 'Z' ? (char) (c + 32) : c) != lowerNeedle.charAt(k)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * Removes the "421-4.7.28 " prefixes of continuation lines, which survive when a multi-line reply
     * was logged on one line, so text() reads as one sentence.
     */
    private static String stripRepeatedPrefixes(String rest, int basic, EnhancedStatus enhanced) {
        String code = String.valueOf(basic);
        if (!rest.contains(code)) {
            return rest; // the common case: a single-line reply; no regex to build
        }
        // Replaces, as (?<![\w.:/@-])CODE[\s-](?:\s*ENHANCED(?!\d|\.\d)[\s-]?)? would, each prefix by a space.
        String status = enhanced == null ? null : enhanced.toString();
        StringBuilder out = null;
        int copied = 0;
        int n = rest.length();
        for (int i = rest.indexOf(code); i >= 0 && i + 3 < n; i = rest.indexOf(code, i + 1)) {
            if (i < copied) {
                continue;
            }
            char next = rest.charAt(i + 3);
            if (!isSpace(next) && next != '-') {
                continue;
            }
            if (i > 0) {
                char b = rest.charAt(i - 1);
                if (isWordChar(b) || ".:/@-".indexOf(b) >= 0) {
                    continue;
                }
            }
            int end = i + 4;
            if (status != null) {
                int j = end;
                while (j < n && isSpace(rest.charAt(j))) {
                    j++;
                }
                int after = j + status.length();
                if (rest.startsWith(status, j) && !(after < n && isDigit(rest.charAt(after)))
                        && !(after + 1 < n && rest.charAt(after) == '.' && isDigit(rest.charAt(after + 1)))) {
                    end = after < n && (isSpace(rest.charAt(after)) || rest.charAt(after) == '-') ? after + 1 : after;
                }
            }
            if (out == null) {
                out = new StringBuilder(n);
            }
            out.append(rest, copied, i).append(' ');
            copied = end;
            i = end - 1;
        }
        return out == null ? rest : out.append(rest, copied, n).toString();
    }

    private static List<String> tokens(String flat) {
        List<String> out = new ArrayList<>(2);
        int n = flat.length();
        for (int i = 0; i < n && out.size() < MAX_TOKENS; i++) {
            int end = tokenAt(flat, i);
            if (end < 0) {
                continue;
            }
            String t = flat.substring(i, end);
            if (!out.contains(t) && !isSmtpWord(t)) {
                out.add(t);
            }
            i = end - 1; // the next search starts after this token, as Matcher.find does
        }
        return out;
    }

    /** Where a provider token starting at i ends (see the regex above), or -1. */
    private static int tokenAt(String s, int i) {
        char first = s.charAt(i);
        if (first < 'A' || first > 'Z') {
            return -1; // both forms start with a capital
        }
        if (i > 0) {
            char b = s.charAt(i - 1);
            if (isAsciiLetterOrDigit(b) || ":.@/-".indexOf(b) >= 0) {
                return -1;
            }
        }
        int n = s.length();
        int letters = i;
        while (letters < n && letters - i < 5 && s.charAt(letters) >= 'A' && s.charAt(letters) <= 'Z') {
            letters++;
        }
        int run = letters - i;
        if (run >= 2 && run <= 4 && letters < n && s.charAt(letters) == ':') {
            int end = letters + 1;
            while (end < n && end - letters - 1 < 4 && isUpperOrDigit(s.charAt(end))) {
                end++;
            }
            int tail = end - letters - 1;
            if (tail >= 1 && tail <= 3 && standsAloneAt(s, end)) {
                return end;
            }
        }
        if (s.startsWith("RTRU", i) && standsAloneAt(s, i + 4)) {
            return i + 4;
        }
        return -1;
    }

    /** The token's look-ahead: the word does not go on at end. */
    private static boolean standsAloneAt(String s, int end) {
        if (end >= s.length()) {
            return true;
        }
        char a = s.charAt(end);
        if (isAsciiLetterOrDigit(a) || ":@/-".indexOf(a) >= 0) {
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

    private static boolean isAsciiLetterOrDigit(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }

    private static boolean isUpperOrDigit(char c) {
        return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }

    /** Wrappers often say where the conversation failed; used only when the caller did not know. */
    static Stage inferStage(String flat) {
        String s = flat.length() > 300 ? flat.substring(0, 300) : flat;
        s = s.toLowerCase(Locale.ROOT);
        if (s.contains("after rcpt to") || s.contains("rcpt to invalid") || s.contains("does not like recipient")
                || s.contains("did not like our rcpt to")) {
            return Stage.RCPT;
        }
        if (s.contains("after mail from") || s.contains("did not like our mail from")
                || s.contains("but sender was rejected")) {
            return Stage.MAIL;
        }
        if (s.contains("after end of data") || s.contains("after data end") || s.contains("after i sent the message")
                || s.contains("did not like our final data")) {
            return Stage.END_OF_DATA;
        }
        if (s.contains("after data") || s.contains("did not like our data")) {
            return Stage.DATA;
        }
        if (s.contains("after helo") || s.contains("after ehlo") || s.contains("but my name was rejected")) {
            return Stage.HELO;
        }
        if (s.contains("after initial connection") || s.contains("refused to talk to me")
                || s.contains("could not connect to smtp host") || s.contains("while connected from")) {
            return Stage.CONNECT;
        }
        return Stage.UNKNOWN;
    }

    /** Replaces each run of two or more \\s characters by one space, as {@code \\s{2,}} -> " " would. */
    private static String squeeze(String s) {
        StringBuilder out = null;
        int n = s.length();
        int copied = 0;
        for (int i = 0; i < n; i++) {
            if (!isSpace(s.charAt(i))) {
                continue;
            }
            int end = i + 1;
            while (end < n && isSpace(s.charAt(end))) {
                end++;
            }
            if (end - i >= 2) {
                if (out == null) {
                    out = new StringBuilder(n);
                }
                out.append(s, copied, i).append(' ');
                copied = end;
            }
            i = end - 1;
        }
        return out == null ? s : out.append(s, copied, n).toString();
    }

    /** Removes leading spaces, '-' and ':', as {@code \\A[\\s\\-:]+} -> "" would. */
    private static String stripLeadingPunctuation(String s) {
        int i = 0;
        while (i < s.length() && (isSpace(s.charAt(i)) || s.charAt(i) == '-' || s.charAt(i) == ':')) {
            i++;
        }
        return s.substring(i);
    }
}
