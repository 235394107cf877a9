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
