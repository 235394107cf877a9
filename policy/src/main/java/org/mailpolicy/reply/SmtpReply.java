package org.mailpolicy.reply;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One reply from a remote server (or the description of a failure that produced none, such as
 * "Connection refused"), as parsed from the text an operator meets in a log, an exception or a
 * bounce. Remote text is untrusted: {@link #text()} holds no control characters and is bounded.
 */
public final class SmtpReply {
    private final String raw;
    private final Stage stage;
    private final int code;
    private final EnhancedStatus enhancedStatus;
    private final ImmutableList<String> tokens;
    private final String text;

    SmtpReply(String raw, Stage stage, int code, EnhancedStatus enhancedStatus, List<String> tokens, String text) {
        this.raw = Preconditions.checkNotNull(raw);
        this.stage = Preconditions.checkNotNull(stage);
        Preconditions.checkArgument(code == 0 || (code >= 200 && code <= 599), "bad code %s", code);
        this.code = code;
        this.enhancedStatus = enhancedStatus;
        this.tokens = ImmutableList.copyOf(tokens);
        this.text = Preconditions.checkNotNull(text);
    }

    /** Parses any text; never throws. A null or empty input gives a reply with no code. */
    public static SmtpReply parse(String raw) {
        return parse(raw, Stage.UNKNOWN);
    }

    /** Parses any text received at a known stage; never throws. */
    public static SmtpReply parse(String raw, Stage stage) {
        return ReplyParser.parse(raw, stage == null ? Stage.UNKNOWN : stage);
    }

    /**
     * The reply a bounce reports for one recipient, rebuilt from its fields (RFC 3464): the
     * diagnostic text, which is either the remote server's reply ({@code smtp;}) or the reporting
     * MTA's own prose ({@code X-Postfix;}, {@code X-Unix;}, {@code X-Local;}), and the recipient's
     * {@code Status:} code. The parser reads both kinds of diagnostic alike; the Status is the
     * reporting MTA's enhanced code for this recipient, evidence as strong as a reply's own, so it
     * becomes the enhanced code when the diagnostic has none. It never adds a basic code: the rules
     * for MTA prose are written for text without one, and their anchors need the text as written.
     * Never throws.
     *
     * @param diagnostic the diagnostic without its type, or the status itself when there was none
     * @param status     the Status field's code, if the report had a valid one
     */
    public static SmtpReply fromReport(String diagnostic, Optional<EnhancedStatus> status) {
        SmtpReply parsed = parse(diagnostic);
        if (status == null || status.isEmpty() || parsed.enhancedStatus != null) {
            return parsed;
        }
        EnhancedStatus reported = status.get();
        if (parsed.code != 0 && reported.subject() == 0 && reported.detail() == 0) {
            // "550 ..." reported as 5.0.0 is the MTA restating the basic code's class; as an
            // enhanced code it would outrank the rules written for that basic code.
            return parsed;
        }
        return new SmtpReply(parsed.raw, parsed.stage, parsed.code, reported, parsed.tokens, parsed.text);
    }

    /** The same reply, attributed to another stage. */
    public SmtpReply atStage(Stage newStage) {
        return new SmtpReply(raw, newStage, code, enhancedStatus, tokens, text);
    }

    /** The input, with control characters replaced and length bounded; safe to log. */
    public String raw() {
        return raw;
    }

    public Stage stage() {
        return stage;
    }

    /** The three-digit basic code, if the text holds one. */
    public OptionalInt code() {
        return code == 0 ? OptionalInt.empty() : OptionalInt.of(code);
    }

    public Optional<EnhancedStatus> enhancedStatus() {
        return Optional.ofNullable(enhancedStatus);
    }

    /**
     * {@link #code()} as a plain int, 0 when the text holds none: for the classifier, which reads it
     * for every rule it tries, and where the JIT did not remove the OptionalInt each call allocated
     * (the allocation profile of {@code bin/bench classify}).
     */
    public int codeOrZero() {
        return code;
    }

    /** {@link #enhancedStatus()} or null, for the same reason as {@link #codeOrZero()}. */
    public EnhancedStatus enhancedStatusOrNull() {
        return enhancedStatus;
    }

    /** Provider tokens such as {@code DYN:T1}, {@code RTR:BB}, {@code RTRU}, in order of appearance. */
    public List<String> tokens() {
        return tokens;
    }

    /** The human part of the reply, lines joined by a space, without code, enhanced code or wrapper. */
    public String text() {
        return text;
    }

    public boolean isPositive() {
        return code >= 200 && code < 400;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SmtpReply)) {
            return false;
        }
        SmtpReply that = (SmtpReply) o;
        return code == that.code && raw.equals(that.raw) && stage == that.stage
                && Objects.equals(enhancedStatus, that.enhancedStatus) && tokens.equals(that.tokens)
                && text.equals(that.text);
    }

    @Override
    public int hashCode() {
        return Objects.hash(raw, stage, code, enhancedStatus, tokens, text);
    }

    @Override
    public String toString() {
        return raw;
    }
}
