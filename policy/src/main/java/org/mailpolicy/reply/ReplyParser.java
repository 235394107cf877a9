package org.mailpolicy.reply;

import static org.mailpolicy.reply.ReplyScans.isDigit;
import static org.mailpolicy.reply.ReplyScans.isSpace;
import static org.mailpolicy.reply.ReplyScans.isWordChar;

import com.google.common.collect.ImmutableList;
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
 * <p>It reads by hand-written scans (here and in {@link ReplyScans}) that work on positions in the
 * reply and copy text only for what they return: the usual reply, one clean line, costs one
 * substring for its text and one per token.
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

    // The basic code, as a regex:
    //   (?<![\w.:/@\[=+#-])([2-5]\d\d)(?=$|[\s\-,;:'"“”)])
    // 2-5 then two digits (RFC 5321 4.2; 571 is out of range yet seen in the wild), standing alone: the
    // look-behind keeps out IPs (1.2.3.250), times (13:46:10), hosts (mx550.example), addresses and
    // "[421]"-less junk. codeAt reads it by hand; the regexes below run only where a quick look finds
    // they might match.
    private static final Pattern NOT_A_CODE_BEFORE = Pattern.compile(
            "(?i)\\b(?:port|pid|id|size|length|line|version|ttl)\\s*[:=#]?\\s*\\z");
    private static final Pattern NOT_A_CODE_AFTER = Pattern.compile(
            "(?i)\\A\\s*(?:s|secs?|seconds?|ms|milliseconds?|minutes?|mins?|hours?|bytes?|kb|mb|"
                    + "octets|messages|recipients|connections|attempts?|times|%)\\b");
    /** How far before and after a code NOT_A_CODE_BEFORE and NOT_A_CODE_AFTER look. */
    private static final int QUANTITY_WINDOW = 16;
    /** NOT_A_CODE_BEFORE's words. */
    private static final String[] QUANTITY_WORDS = {"port", "pid", "id", "size", "length", "line", "version", "ttl"};
    /** Every string NOT_A_CODE_AFTER's alternation matches. */
    private static final String[] UNITS = {"s", "sec", "secs", "second", "seconds", "ms", "millisecond",
        "milliseconds", "minute", "minutes", "min", "mins", "hour", "hours", "byte", "bytes", "kb", "mb", "octets",
        "messages", "recipients", "connections", "attempt", "attempts", "times", "%"};
    /** UNITS by their first character (ASCII, lower case); null where none starts with it. */
    private static final String[][] UNITS_BY_FIRST = new String[128][];
    // "#5.5.0 smtp;541 ...": the reporting MTA's generic protocol status, not the receiver's.
    private static final Pattern EXCHANGE_WRAPPER = Pattern.compile("(?i)\\d\\.\\d{1,3}\\.\\d{1,3}\\s*smtp;\\s*\\z");
    // "host [ip] did not like our RCPT TO:550 5.1.1 ...": a wrapper that glues the code to the command's
    // colon, where the look-behind of the code would refuse it. A space after the colon makes it a code.
    private static final Pattern WRAPPER_COLON = Pattern.compile(
            "(?i)(did not like our (?:RCPT TO|MAIL FROM|final DATA|DATA|EHLO|HELO)):(?=[2-5]\\d\\d(?!\\d))");
    /** Words a "did not like our" wrapper always holds; the regex runs only on text that has them. */
    private static final String WRAPPER_WORDS = "did not like our ";
    /** Horspool's shifts for WRAPPER_WORDS, by ASCII character folded to lower case. */
    private static final int[] WRAPPER_SHIFTS = new int[128];

    static {
        java.util.Arrays.fill(WRAPPER_SHIFTS, WRAPPER_WORDS.length());
        for (int k = 0; k < WRAPPER_WORDS.length() - 1; k++) {
            WRAPPER_SHIFTS[WRAPPER_WORDS.charAt(k)] = WRAPPER_WORDS.length() - 1 - k;
        }
    }

    /** The basic codes as strings, "200" to "599": their searches allocate nothing. */
    private static final int CODES_FROM = 200;
    private static final String[] CODES = new String[400];

    static {
        for (String unit : UNITS) {
            String[] with = UNITS_BY_FIRST[unit.charAt(0)];
            String[] grown = with == null ? new String[1] : java.util.Arrays.copyOf(with, with.length + 1);
            grown[grown.length - 1] = unit;
            UNITS_BY_FIRST[unit.charAt(0)] = grown;
        }
        for (int i = 0; i < CODES.length; i++) {
            CODES[i] = String.valueOf(CODES_FROM + i);
        }
    }

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
        String raw;
        String flat;
        if (ReplyText.isCleanLine(input, MAX_RAW)) {
            // The usual reply: sanitise and flatten would both keep it as it is.
            raw = input;
            flat = input;
        } else {
            raw = ReplyText.sanitise(input, MAX_RAW);
            flat = ReplyText.flatten(input.length() > MAX_SCAN ? input.substring(0, MAX_SCAN) : input);
        }
        if (holdsWrapperWords(flat)) {
            flat = WRAPPER_COLON.matcher(flat).replaceFirst("$1: ");
        }
        Stage effectiveStage = stage == Stage.UNKNOWN ? inferStage(flat) : stage;
        List<String> tokens = ReplyScans.tokens(flat);

        int codeStart = findCode(flat);
        if (codeStart < 0) {
            return new SmtpReply(raw, effectiveStage, 0, ReplyScans.enhancedAnywhere(flat, 0, flat.length()), tokens,
                    cleanText(flat, 0, false));
        }
        int basic = (flat.charAt(codeStart) - '0') * 100 + (flat.charAt(codeStart + 1) - '0') * 10
                + flat.charAt(codeStart + 2) - '0';
        int rest = codeStart + 3;
        EnhancedStatus enhanced;
        long after = ReplyScans.enhancedAfterCode(flat, rest);
        if (after != ReplyScans.NONE) {
            enhanced = ReplyScans.status(after);
            rest = ReplyScans.end(after);
        } else {
            // "5.1.0 - Unknown address error 550-'...'" and "5.5.0 smtp;553 ... (#5.7.1)": the enhanced
            // code stands before the basic code or at the end in qmail's (#x.y.z) form. Prefer one in
            // the reply itself over the wrapper's.
            enhanced = ReplyScans.enhancedAnywhere(flat, rest, flat.length());
            if (enhanced == null && !isExchangeWrapper(flat, codeStart)) {
                enhanced = ReplyScans.enhancedAnywhere(flat, 0, codeStart);
            }
        }
        String text = textWithoutRepeatedPrefixes(flat, rest, basic, enhanced);
        if (text == null) {
            text = cleanText(flat, rest, true);
        }
        return new SmtpReply(raw, effectiveStage, basic, enhanced, tokens, text);
    }

    /**
     * text(): s from {@code from}, without leading spaces, '-' and ':' when {@code stripPunctuation}
     * (as {@code \A[\s\-:]+} -> "" would), each run of two or more \s as one space, trimmed, bounded.
     */
    private static String cleanText(String s, int from, boolean stripPunctuation) {
        int start = from;
        int end = s.length();
        if (stripPunctuation) {
            while (start < end && (isSpace(s.charAt(start)) || s.charAt(start) == '-' || s.charAt(start) == ':')) {
                start++;
            }
        }
        if (hasSpaceRun(s, start, end)) {
            return ReplyText.bound(squeeze(s.substring(start, end)).trim(), MAX_TEXT);
        }
        // Nothing to squeeze: trim by position, as String.trim would, and copy once.
        while (start < end && s.charAt(start) <= ' ') {
            start++;
        }
        while (end > start && s.charAt(end - 1) <= ' ') {
            end--;
        }
        return ReplyText.bound(s.substring(start, end), MAX_TEXT);
    }

    /**
     * Whether s holds two \s in a row between from and to. The text read is flat (see
     * {@link ReplyText#flatten}: no control characters), so its only \s is ' ', and String.indexOf
     * finds a pair many characters at a time.
     */
    private static boolean hasSpaceRun(String s, int from, int to) {
        int pair = s.indexOf("  ", from);
        return pair >= 0 && pair + 2 <= to;
    }

    /** Where the first basic code starts, or -1. */
    private static int findCode(String flat) {
        for (int i = 0, n = flat.length() - 2; i < n; i++) {
            if (!codeAt(flat, i)) {
                continue;
            }
            int before = Math.max(0, i - QUANTITY_WINDOW);
            int afterEnd = Math.min(flat.length(), i + 3 + QUANTITY_WINDOW);
            if (mayEndWithQuantityWord(flat, before, i)
                    && NOT_A_CODE_BEFORE.matcher(flat.substring(before, i)).find()
                    || mayStartWithUnit(flat, i + 3, afterEnd)
                    && NOT_A_CODE_AFTER.matcher(flat.substring(i + 3, afterEnd)).find()) {
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
            if (isWordChar(b) || b == '.' || b == ':' || b == '/' || b == '@' || b == '[' || b == '=' || b == '+'
                    || b == '#' || b == '-') {
                return false;
            }
        }
        if (i + 3 == s.length()) {
            return true;
        }
        char a = s.charAt(i + 3);
        return isSpace(a) || a == '-' || a == ',' || a == ';' || a == ':' || a == '\'' || a == '"' || a == '\u201c'
                || a == '\u201d' || a == ')';
    }

    /**
     * False when NOT_A_CODE_BEFORE cannot match s between from and to: it needs one of its words at the
     * end, before spaces and at most one of ':', '=', '#', and a word boundary before the word. A
     * boundary is certain to be missing only between two ASCII word characters (\b counts more
     * characters as word characters on some Java versions); the regex decides the rest.
     */
    private static boolean mayEndWithQuantityWord(String s, int from, int to) {
        int i = skipSpacesBack(s, from, to);
        if (i > from && (s.charAt(i - 1) == ':' || s.charAt(i - 1) == '=' || s.charAt(i - 1) == '#')) {
            i = skipSpacesBack(s, from, i - 1);
        }
        for (String word : QUANTITY_WORDS) {
            int start = i - word.length();
            if (start >= from && regionMatchesAsciiCase(s, start, word)
                    && (start == from || !isWordChar(s.charAt(start - 1)))) {
                return true;
            }
        }
        return false;
    }

    private static int skipSpacesBack(String s, int from, int end) {
        int i = end;
        while (i > from && isSpace(s.charAt(i - 1))) {
            i--;
        }
        return i;
    }

    /**
     * False when NOT_A_CODE_AFTER cannot match s between from and to: after spaces, one of its units
     * and a word boundary; as above, the boundary is ruled out only by ASCII characters.
     */
    private static boolean mayStartWithUnit(String s, int from, int to) {
        int i = from;
        while (i < to && isSpace(s.charAt(i))) {
            i++;
        }
        if (i == to) {
            return false;
        }
        char first = s.charAt(i);
        String[] units = first < 128 ? UNITS_BY_FIRST[first >= 'A' && first <= 'Z' ? first + 32 : first] : null;
        if (units == null) {
            return false; // no unit starts with this character
        }
        for (String unit : units) {
            int end = i + unit.length();
            if (end <= to && regionMatchesAsciiCase(s, i, unit) && mayBeBoundaryAfter(s, unit, end, to)) {
                return true;
            }
        }
        return false;
    }

    private static boolean mayBeBoundaryAfter(String s, String unit, int end, int to) {
        boolean unitEndsInWord = isWordChar(unit.charAt(unit.length() - 1));
        if (end == to) {
            return unitEndsInWord;
        }
        char next = s.charAt(end);
        if (next >= 128) {
            return true;
        }
        return isWordChar(next) != unitEndsInWord;
    }

    /** s holds {@code lowerWord} at i, ASCII case folded as (?i) compares. */
    private static boolean regionMatchesAsciiCase(String s, int i, String lowerWord) {
        for (int k = 0; k < lowerWord.length(); k++) {
            char c = s.charAt(i + k);
            if ((c >= 'A' && c <= 'Z' ? (char) (c + 32) : c) != lowerWord.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** EXCHANGE_WRAPPER on the text before the code, run only when that text ends in "smtp;" and spaces. */
    private static boolean isExchangeWrapper(String flat, int codeStart) {
        int end = codeStart;
        while (end > 0 && isSpace(flat.charAt(end - 1))) {
            end--;
        }
        return end >= 5 && flat.regionMatches(true, end - 5, "smtp;", 0, 5)
                && EXCHANGE_WRAPPER.matcher(flat.substring(0, codeStart)).find();
    }

    /**
     * Whether s holds WRAPPER_WORDS, ASCII case folded as (?i) compares: Horspool's search, which
     * reads about one character in ten of a text without them.
     */
    private static boolean holdsWrapperWords(String s) {
        int m = WRAPPER_WORDS.length();
        for (int i = 0, last = s.length() - m; i <= last; ) {
            char c = s.charAt(i + m - 1);
            if (regionMatchesAsciiCase(s, i, WRAPPER_WORDS)) {
                return true;
            }
            i += c < 128 ? WRAPPER_SHIFTS[c >= 'A' && c <= 'Z' ? c + 32 : c] : m;
        }
        return false;
    }

    /**
     * Removes the "421-4.7.28 " prefixes of continuation lines, which survive when a multi-line reply
     * was logged on one line, so text() reads as one sentence: s from {@code from} with each prefix
     * replaced by a space, as {@code (?<![\w.:/@-])CODE[\s-](?:\s*ENHANCED(?!\d|\.\d)[\s-]?)?} would
     * on that part of s, then cleaned as {@link #cleanText} cleans (in the same array: one copy of
     * the text instead of five); null when there is no prefix (the usual single-line reply).
     */
    private static String textWithoutRepeatedPrefixes(String s, int from, int basic, EnhancedStatus enhanced) {
        String code = CODES[basic - CODES_FROM];
        int n = s.length();
        String status = null;
        char[] out = null;
        int length = 0;
        int copied = from;
        for (int i = s.indexOf(code, from); i >= 0 && i + 3 < n; i = s.indexOf(code, i + 1)) {
            if (i < copied) {
                continue;
            }
            char next = s.charAt(i + 3);
            if (!isSpace(next) && next != '-') {
                continue;
            }
            if (i > from) {
                char b = s.charAt(i - 1);
                if (isWordChar(b) || b == '.' || b == ':' || b == '/' || b == '@' || b == '-') {
                    continue;
                }
            }
            int end = i + 4;
            if (enhanced != null) {
                if (status == null) {
                    status = enhanced.toString();
                }
                int j = end;
                while (j < n && isSpace(s.charAt(j))) {
                    j++;
                }
                int after = j + status.length();
                if (s.startsWith(status, j) && !(after < n && isDigit(s.charAt(after)))
                        && !(after + 1 < n && s.charAt(after) == '.' && isDigit(s.charAt(after + 1)))) {
                    end = after < n && (isSpace(s.charAt(after)) || s.charAt(after) == '-') ? after + 1 : after;
                }
            }
            if (out == null) {
                out = new char[n - from]; // each prefix, at least 4 characters, becomes one
            }
            s.getChars(copied, i, out, length);
            length += i - copied;
            out[length++] = ' ';
            copied = end;
            i = end - 1;
        }
        if (out == null) {
            return null;
        }
        s.getChars(copied, n, out, length);
        return cleanText(out, length + n - copied);
    }

    /**
     * {@link #cleanText}{@code (new String(chars, 0, length), 0, true)}, working in chars: leading
     * spaces, '-' and ':' skipped, each run of two or more \s made one space, then trimmed as
     * String.trim would, bounded; one String made.
     */
    private static String cleanText(char[] chars, int length) {
        int start = 0;
        while (start < length && (isSpace(chars[start]) || chars[start] == '-' || chars[start] == ':')) {
            start++;
        }
        int w = start;
        for (int r = start; r < length; r++) {
            char c = chars[r];
            if (c > ' ' || !isSpace(c)) { // every \s is at most ' ': one test for nearly every character
                chars[w++] = c;
                continue;
            }
            int end = r + 1;
            while (end < length && isSpace(chars[end])) {
                end++;
            }
            chars[w++] = end - r >= 2 ? ' ' : c;
            r = end - 1;
        }
        int end = w;
        while (start < end && chars[start] <= ' ') {
            start++;
        }
        while (end > start && chars[end - 1] <= ' ') {
            end--;
        }
        return ReplyText.bound(new String(chars, start, end - start), MAX_TEXT);
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
        char[] out = null;
        int length = 0;
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
                    out = new char[n];
                }
                s.getChars(copied, i, out, length);
                length += i - copied;
                out[length++] = ' ';
                copied = end;
            }
            i = end - 1;
        }
        if (out == null) {
            return s;
        }
        s.getChars(copied, n, out, length);
        return new String(out, 0, length + n - copied);
    }
}
