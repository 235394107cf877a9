package org.mailpolicy.reply;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reply parser as it was before it scanned by hand: every step a regex. Kept as the reference
 * that {@code RulesIndexEquivalenceTest} compares {@link ReplyParser} with, reply by reply.
 */
public final class ReferenceReplyParser {
    /** Longest raw() kept, so a reply is safe to log and to quote in a header. */
    static final int MAX_RAW = 1000;
    /** Longest text() kept; rules match against it, so it also bounds regex work. */
    static final int MAX_TEXT = 1000;
    /** Only this much of the input is examined: codes and tokens sit at the start of a reply. */
    private static final int MAX_SCAN = 8192;
    /**
     * Distinct tokens kept. A real reply carries one or two; 8 KB of made-up ones (ReplyFuzzTest)
     * would otherwise make each new token a scan of all before it, a JSON array of a thousand, and a
     * thousand lookups in the token tier.
     */
    static final int MAX_TOKENS = 16;

    // A basic code: 2-5 then two digits (RFC 5321 4.2; 571 is out of range yet seen in the wild), standing alone. The look-behind keeps
    // out IPs (1.2.3.250), times (13:46:10), hosts (mx550.example), addresses and "[421]"-less junk.
    private static final Pattern CODE = Pattern.compile(
            "(?<![\\w.:/@\\[=+#-])([2-5]\\d\\d)(?=$|[\\s\\-,;:'\"\u201c\u201d)])");
    private static final Pattern ENHANCED_AFTER_CODE = Pattern.compile(
            "\\A[\\s-]*[#(]?([245])\\.(\\d{1,3})\\.(\\d{1,3})(?!\\d|\\.\\d)\\)?");
    private static final Pattern ENHANCED_ANYWHERE = Pattern.compile(
            "(?<![\\w.])#?([245])\\.(\\d{1,3})\\.(\\d{1,3})(?![\\w]|\\.\\d)");
    private static final Pattern NOT_A_CODE_BEFORE = Pattern.compile(
            "(?i)\\b(?:port|pid|id|size|length|line|version|ttl)\\s*[:=#]?\\s*\\z");
    private static final Pattern NOT_A_CODE_AFTER = Pattern.compile(
            "(?i)\\A\\s*(?:s|secs?|seconds?|ms|milliseconds?|minutes?|mins?|hours?|bytes?|kb|mb|"
                    + "octets|messages|recipients|connections|attempts?|times|%)\\b");
    // Provider tokens: 2-4 capitals, a colon, 1-3 capitals or digits (DYN:T1, RLY:CH2), or AOL's bare
    // RTRU. Neighbours must not continue the word, so IPv6 (2001:DB8::1) and times never match.
    private static final Pattern TOKEN = Pattern.compile(
            "(?<![A-Za-z0-9:.@/-])(?:([A-Z]{2,4}:[A-Z0-9]{1,3})|(RTRU))(?![A-Za-z0-9:@/-]|\\.[A-Za-z0-9])");
    // "#5.5.0 smtp;541 ...": the reporting MTA's generic protocol status, not the receiver's.
    private static final Pattern EXCHANGE_WRAPPER = Pattern.compile("(?i)\\d\\.\\d{1,3}\\.\\d{1,3}\\s*smtp;\\s*\\z");
    // "host [ip] did not like our RCPT TO:550 5.1.1 ...": a wrapper that glues the code to the command's
    // colon, where the look-behind of CODE would refuse it. A space after the colon makes it a code.
    private static final Pattern WRAPPER_COLON = Pattern.compile(
            "(?i)(did not like our (?:RCPT TO|MAIL FROM|final DATA|DATA|EHLO|HELO)):(?=[2-5]\\d\\d(?!\\d))");
    private static final Pattern LINE_BREAK = Pattern.compile("\\r\\n|\\r|\\n");
    private static final Pattern LEADING_PUNCTUATION = Pattern.compile("\\A[\\s\\-:]+");
    private static final Pattern SPACES = Pattern.compile("\\s{2,}");

    private ReferenceReplyParser() {
    }

    public static SmtpReply parse(String input, Stage stage) {
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
        String flat = WRAPPER_COLON.matcher(flatten(scanned)).replaceFirst("$1: ");
        Stage effectiveStage = stage == Stage.UNKNOWN ? ReplyParser.inferStage(flat) : stage;
        List<String> tokens = tokens(flat);

        Matcher code = findCode(flat);
        if (code == null) {
            return new SmtpReply(raw, effectiveStage, 0, enhancedAnywhere(flat, 0), tokens,
                    ReplyText.bound(squeeze(flat).trim(), MAX_TEXT));
        }
        int basic = Integer.parseInt(code.group(1));
        String rest = flat.substring(code.end());
        EnhancedStatus enhanced = null;
        Matcher after = ENHANCED_AFTER_CODE.matcher(rest);
        if (after.find()) {
            enhanced = status(after);
            rest = rest.substring(after.end());
        } else {
            // "5.1.0 - Unknown address error 550-'...'" and "5.5.0 smtp;553 ... (#5.7.1)": the enhanced
            // code stands before the basic code or at the end in qmail's (#x.y.z) form. Prefer one in
            // the reply itself over the wrapper's.
            enhanced = enhancedAnywhere(rest, 0);
            if (enhanced == null && !EXCHANGE_WRAPPER.matcher(flat.substring(0, code.start())).find()) {
                enhanced = enhancedAnywhere(flat.substring(0, code.start()), 0);
            }
        }
        String text = stripRepeatedPrefixes(rest, basic, enhanced);
        text = LEADING_PUNCTUATION.matcher(text).replaceFirst("");
        return new SmtpReply(raw, effectiveStage, basic, enhanced, tokens, ReplyText.bound(squeeze(text).trim(), MAX_TEXT));
    }

    /**
     * Joins the lines of a multi-line reply with a space; other control characters and the Unicode
     * line and paragraph separators become spaces, and a lone surrogate (binary input, or a pair cut
     * at {@link #MAX_SCAN}) becomes '?', so text() is one line of well-formed UTF-16 that any encoder
     * writes as is (ReplyFuzzTest found both kinds reaching text() and the classify JSON).
     */
    private static String flatten(String s) {
        String[] lines = LINE_BREAK.split(s, -1);
        StringBuilder sb = new StringBuilder(s.length());
        for (String line : lines) {
            String l = line.trim();
            if (l.isEmpty()) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(' ');
            }
            for (int i = 0; i < l.length(); i++) {
                char c = l.charAt(i);
                if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                    sb.append(' ');
                } else if (Character.isSurrogate(c) && !ReplyText.validSurrogateAt(l, i)) {
                    sb.append('?');
                } else {
                    sb.append(c);
                }
            }
        }
        return sb.toString();
    }

    private static Matcher findCode(String flat) {
        Matcher m = CODE.matcher(flat);
        while (m.find()) {
            String before = flat.substring(Math.max(0, m.start() - 16), m.start());
            String after = flat.substring(m.end(), Math.min(flat.length(), m.end() + 16));
            if (NOT_A_CODE_BEFORE.matcher(before).find() || NOT_A_CODE_AFTER.matcher(after).find()) {
                continue;
            }
            return m;
        }
        return null;
    }

    private static EnhancedStatus enhancedAnywhere(String s, int from) {
        Matcher m = ENHANCED_ANYWHERE.matcher(s);
        return m.find(from) ? status(m) : null;
    }

    private static EnhancedStatus status(Matcher m) {
        return EnhancedStatus.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)));
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
        String codeRe = "(?<![\\w.:/@-])" + basic + "[\\s-]";
        String re = enhanced == null ? codeRe
                : codeRe + "(?:\\s*" + Pattern.quote(enhanced.toString()) + "(?!\\d|\\.\\d)[\\s-]?)?";
        return rest.replaceAll(re, " ");
    }

    private static List<String> tokens(String flat) {
        Matcher m = TOKEN.matcher(flat);
        List<String> out = new ArrayList<>(2);
        while (out.size() < MAX_TOKENS && m.find()) {
            String t = m.group(1) != null ? m.group(1) : m.group(2);
            if (!out.contains(t) && !NOT_TOKENS.matcher(t).matches()) {
                out.add(t);
            }
        }
        return out;
    }

    // SMTP verbs and header-ish words that look like tokens in wrappers ("RCPT TO:X1", "MAIL FROM:A").
    private static final Pattern NOT_TOKENS = Pattern.compile("(?:TO|FROM|RCPT|MAIL|DATA|HELO|EHLO|SMTP|ESMTP|HOST|PORT):.*");

    private static String squeeze(String s) {
        return SPACES.matcher(s).replaceAll(" ");
    }
}
