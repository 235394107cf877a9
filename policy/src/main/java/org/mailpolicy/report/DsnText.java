package org.mailpolicy.report;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The text/plain part of a DSN, written for the person who sent the message: per recipient what
 * happened, why, what to do, and whether the server keeps trying and until when. Remote text (the
 * reply, the remote host, the subject) is untrusted: control characters are removed and it is
 * bounded and quoted, so it cannot fake lines of its own.
 */
public final class DsnText {
    static final int WIDTH = 76;
    static final int MAX_REMOTE_CHARS = 500;
    private static final DateTimeFormatter WHEN =
            DateTimeFormatter.ofPattern("EEE d MMM yyyy HH:mm 'UTC'", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    private static final CharMatcher UNSAFE = CharMatcher.javaIsoControl()
            .or(CharMatcher.anyOf("\u2028\u2029\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"));

    private DsnText() {
    }

    /** What happened to each recipient, why, what to do, and whether delivery goes on and until when. */
    public static String render(DeliveryReport report, String originalSubject) {
        Preconditions.checkNotNull(report, "report");
        StringBuilder out = new StringBuilder();
        String subject = originalSubject == null ? "" : clean(originalSubject, 200);
        String message = subject.isEmpty() ? "your message" : "your message \"" + subject + "\"";
        String sent = report.arrivalDate().map(a -> ", sent " + WHEN.format(a) + ",").orElse("");

        paragraph(out, "", "This is the mail system at " + clean(report.reportingMta(), 255) + ".");
        paragraph(out, "", headline(report.recipients(), capitalise(message) + sent));

        for (RecipientReport r : report.recipients()) {
            out.append(clean(r.finalRecipient(), 320)).append('\n');
            paragraph(out, "    ", whatHappened(r));
            if (!r.explanation().trim().isEmpty()) {
                paragraph(out, "    ", "Why: " + clean(r.explanation(), 2000));
            }
            if (!r.remedy().trim().isEmpty()) {
                paragraph(out, "    ", "What to do: " + clean(r.remedy(), 2000));
            }
            if (r.diagnostic().isPresent() && !r.diagnostic().get().trim().isEmpty()) {
                String server = r.remoteMta().map(h -> "The receiving server " + clean(h, 255) + " said")
                        .orElse("The receiving server said");
                paragraph(out, "    ", server + ": \"" + clean(r.diagnostic().get(), MAX_REMOTE_CHARS) + "\"");
            }
            if (r.lastAttempt().isPresent()) {
                paragraph(out, "    ", "Last attempt: " + WHEN.format(r.lastAttempt().get()) + ".");
            }
            paragraph(out, "    ", future(r));
            out.append('\n');
        }
        paragraph(out, "", "Technical details for the postmaster follow in the delivery status part of this "
                + "report (RFC 3464).");
        return out.toString().replaceAll("\n{3,}", "\n\n");
    }

    private static String headline(List<RecipientReport> recipients, String message) {
        Set<DsnAction> actions = EnumSet.noneOf(DsnAction.class);
        for (RecipientReport r : recipients) {
            actions.add(r.action());
        }
        boolean one = recipients.size() == 1;
        if (actions.equals(EnumSet.of(DsnAction.FAILED))) {
            return message + " could not be delivered to " + (one ? "the recipient below" : "the recipients below")
                    + ". Delivery has stopped.";
        }
        if (actions.equals(EnumSet.of(DsnAction.DELAYED))) {
            return message + " has not been delivered to " + (one ? "the recipient below" : "the recipients below")
                    + " yet. Nothing is lost: delivery is still being tried and you do not need to send it again.";
        }
        if (!actions.contains(DsnAction.FAILED) && !actions.contains(DsnAction.DELAYED)) {
            return message + " was delivered as shown below.";
        }
        return message + " reached some recipients but not all. Here is what happened to each one.";
    }

    private static String whatHappened(RecipientReport r) {
        String status = " (status " + r.status() + (r.reason().isEmpty() ? "" : ", " + clean(r.reason(), 64)) + ")";
        switch (r.action()) {
            case FAILED:
                return "Not delivered: the delivery failed for good" + status + ".";
            case DELAYED:
                return "Not delivered yet: the delivery has been delayed" + status + ".";
            case DELIVERED:
                return "Delivered to the recipient's mailbox" + status + ".";
            case RELAYED:
                return "Delivered: relayed to a mail server that accepted it but does not send delivery reports,"
                        + " so no further news will come" + status + ".";
            case EXPANDED:
                return "Delivered to a list or alias, which passed it on to its members" + status + ".";
            default:
                throw new AssertionError(r.action());
        }
    }

    private static String future(RecipientReport r) {
        switch (r.action()) {
            case DELAYED:
                return r.willRetryUntil()
                        .map(u -> "The server will keep trying until " + WHEN.format(u)
                                + "; if it still fails by then, you will get another report.")
                        .orElse("The server will keep trying; if it gives up, you will get another report.");
            case FAILED:
                return "The server will not try again.";
            default:
                return "Nothing more to do.";
        }
    }

    /** Untrusted text as one safe line: no control or bidi characters, spaces collapsed, bounded. */
    static String clean(String text, int max) {
        String t = CharMatcher.whitespace().trimAndCollapseFrom(UNSAFE.replaceFrom(text, ' '), ' ');
        return t.length() > max ? t.substring(0, max) + "..." : t;
    }

    private static String capitalise(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /** Words longer than a line (a URL, a token run) are cut so that no line exceeds the width. */
    private static List<String> splitLongWords(String[] words, int max) {
        List<String> out = new ArrayList<>();
        for (String w : words) {
            String rest = w;
            while (rest.length() > max) {
                out.add(rest.substring(0, max));
                rest = rest.substring(max);
            }
            out.add(rest);
        }
        return out;
    }

    /** Appends {@code text} word-wrapped at {@link #WIDTH}, each line indented, then a blank line if unindented. */
    private static void paragraph(StringBuilder out, String indent, String text) {
        int lineStart = out.length();
        out.append(indent);
        int column = indent.length();
        boolean lineHasWord = false;
        String hanging = indent.isEmpty() ? "" : indent + "  ";
        for (String word : splitLongWords(text.split(" "), WIDTH - hanging.length())) {
            if (word.isEmpty()) {
                continue;
            }
            if (lineHasWord && column + 1 + word.length() > WIDTH) {
                // Continuation lines of a recipient's item hang under it; top-level text stays flush.
                out.append('\n').append(hanging);
                column = hanging.length();
                lineHasWord = false;
            }
            if (lineHasWord) {
                out.append(' ');
                column++;
            }
            out.append(word);
            column += word.length();
            lineHasWord = true;
        }
        out.append('\n');
        if (indent.isEmpty()) {
            out.append('\n');
        }
        if (out.length() == lineStart) {
            out.setLength(lineStart);
        }
    }
}
