package org.mailpolicy.reply;

/**
 * What {@link ReplyParser} does to a reply's text before and after reading its codes: control
 * characters and lone surrogates out, lines joined, length bounded. Remote text ends up in logs,
 * WebAdmin and DSN headers, so nothing a server sends may break a line or a header there.
 */
final class ReplyText {
    private static final String ELLIPSIS = "...";

    private ReplyText() {
    }

    /** Replaces control characters, joins lines with a space and bounds the length. */
    static String sanitise(String s, int max) {
        if (s.length() <= max && !needsSanitising(s)) {
            return s; // the common case: one clean line, kept as it is without a copy
        }
        int limit = Math.min(s.length(), max + 1);
        // A char array rather than a StringBuilder: a third of the cost for the few replies that need it.
        char[] out = new char[limit];
        int length = 0;
        for (int i = 0; i < limit; i++) {
            // Printable ASCII, most of any reply, is kept as it is: a run of it is copied at once.
            int run = printableRunEnd(s, i, limit);
            if (run > i) {
                s.getChars(i, run, out, length);
                length += run - i;
                i = run;
                if (i == limit) {
                    break;
                }
            }
            char c = s.charAt(i);
            if (c == '\r' || c == '\n' || c == '\t') {
                if (length > 0 && out[length - 1] != ' ') {
                    out[length++] = ' ';
                }
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || c == '\uFEFF'
                    || Character.isSurrogate(c) && !validSurrogateAt(s, i)) {
                out[length++] = '?';
            } else {
                out[length++] = c;
            }
        }
        return bound(new String(out, 0, length), max);
    }

    /**
     * At most {@code max} characters on one trimmed line, with nothing {@link #sanitise} or
     * {@link #flatten} would change: both keep s as it is. One pass instead of their two.
     */
    static boolean isCleanLine(String s, int max) {
        int n = s.length();
        if (n > max || n > 0 && (s.charAt(0) <= ' ' || s.charAt(n - 1) <= ' ')) {
            return false;
        }
        return !needsSanitising(s); // flatten's test (isFlat) is this one without '\uFEFF'
    }

    static boolean needsSanitising(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < ' ' || c >= '\u007f' && (Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                    || c == '\uFEFF' || Character.isSurrogate(c))) {
                return true;
            }
        }
        return false;
    }

    static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    static String bound(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        int cut = max - ELLIPSIS.length();
        if (Character.isHighSurrogate(s.charAt(cut - 1))) {
            cut--;
        }
        return s.substring(0, cut) + ELLIPSIS;
    }

    /**
     * Joins the lines of a multi-line reply with a space; other control characters and the Unicode
     * line and paragraph separators become spaces, and a lone surrogate (binary input, or a pair cut
     * at {@link ReplyParser#MAX_SCAN}) becomes '?', so text() is one line of well-formed UTF-16 that any encoder
     * writes as is (ReplyFuzzTest found both kinds reaching text() and the classify JSON).
     */
    static String flatten(String s) {
        if (isFlat(s)) {
            return s;
        }
        int n = s.length();
        char[] out = new char[n]; // lines lose at least a line break for each space that joins them
        int length = 0;
        int lineStart = 0;
        while (lineStart <= n) {
            // A line ends at \r\n, \r or \n; each is trimmed as String.trim() would (chars <= ' ').
            int lineEnd = lineStart;
            while (lineEnd < n && s.charAt(lineEnd) != '\r' && s.charAt(lineEnd) != '\n') {
                lineEnd++;
            }
            int from = lineStart;
            int to = lineEnd;
            while (from < to && s.charAt(from) <= ' ') {
                from++;
            }
            while (to > from && s.charAt(to - 1) <= ' ') {
                to--;
            }
            if (from < to) {
                if (length > 0) {
                    out[length++] = ' ';
                }
                for (int i = from; i < to; i++) {
                    int run = printableRunEnd(s, i, to); // kept as it is, copied at once
                    if (run > i) {
                        s.getChars(i, run, out, length);
                        length += run - i;
                        i = run;
                        if (i == to) {
                            break;
                        }
                    }
                    char c = s.charAt(i);
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                        out[length++] = ' ';
                    } else if (Character.isSurrogate(c) && !validSurrogateInLine(s, i, from, to)) {
                        out[length++] = '?';
                    } else {
                        out[length++] = c;
                    }
                }
            }
            if (lineEnd >= n) {
                break;
            }
            lineStart = lineEnd + (s.charAt(lineEnd) == '\r' && lineEnd + 1 < n && s.charAt(lineEnd + 1) == '\n' ? 2 : 1);
        }
        return new String(out, 0, length);
    }

    /** Where the run of printable ASCII characters (' ' to '~') starting at i ends, at most at to. */
    private static int printableRunEnd(String s, int i, int to) {
        int k = i;
        while (k < to) {
            char c = s.charAt(k);
            if (c < ' ' || c >= '\u007f') {
                break;
            }
            k++;
        }
        return k;
    }

    /** One line, trimmed, without control characters, separators or surrogates: flatten keeps it as it is. */
    static boolean isFlat(String s) {
        int n = s.length();
        if (n > 0 && (s.charAt(0) <= ' ' || s.charAt(n - 1) <= ' ')) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < ' ' || c >= '\u007f' && (Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                    || Character.isSurrogate(c))) {
                return false;
            }
        }
        return true;
    }

    /** Whether the surrogate at i has its partner within the trimmed line [from, to). */
    static boolean validSurrogateInLine(String s, int i, int from, int to) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > from && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
