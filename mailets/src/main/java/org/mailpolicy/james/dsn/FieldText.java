package org.mailpolicy.james.dsn;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Makes untrusted text (a remote reply, a remote host name, an original subject) safe to place in a
 * header or a delivery-status field. Everything that could end a field or start a new one (CR, LF,
 * any other control character) becomes a space, Unicode direction marks go, whitespace collapses,
 * and the result is bounded. Folding is left to the writer, which folds at spaces only.
 */
final class FieldText {
    /** RFC 3464 fields are US-ASCII; anything else is shown as '?' (the text part keeps the original). */
    private static final CharMatcher PRINTABLE_ASCII = CharMatcher.inRange(' ', '~');
    private static final CharMatcher UNSAFE = CharMatcher.javaIsoControl()
            .or(CharMatcher.anyOf("\u2028\u2029\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"));
    /** A msg-id we are willing to echo: one bracketed token without spaces or nested brackets. */
    private static final Pattern MESSAGE_ID = Pattern.compile("<[^<>\\s\"\\\\]{1,250}>");

    private FieldText() {
    }

    /** One line of printable US-ASCII, at most {@code max} characters (then cut and marked with "..."). */
    static String ascii(String untrusted, int max) {
        return bounded(PRINTABLE_ASCII.negate().replaceFrom(oneLine(untrusted), '?'), max);
    }

    /** One line of Unicode text (for a Subject, which JavaMail encodes), at most {@code max} characters. */
    static String unicode(String untrusted, int max) {
        return bounded(oneLine(untrusted), max);
    }

    /** The Message-ID if it has the plain {@code <id@host>} form; anything odd is dropped, not repaired. */
    static Optional<String> messageId(String untrusted) {
        if (untrusted == null) {
            return Optional.empty();
        }
        String t = untrusted.trim();
        return MESSAGE_ID.matcher(t).matches() ? Optional.of(t) : Optional.empty();
    }

    private static String oneLine(String text) {
        Preconditions.checkNotNull(text, "text");
        return CharMatcher.whitespace().trimAndCollapseFrom(UNSAFE.replaceFrom(text, ' '), ' ');
    }

    private static String bounded(String text, int max) {
        Preconditions.checkArgument(max > 3, "max too small: %s", max);
        return text.length() > max ? text.substring(0, max - 3) + "..." : text;
    }
}
