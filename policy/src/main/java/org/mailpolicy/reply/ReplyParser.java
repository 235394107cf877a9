package org.mailpolicy.reply;

/** Turns reply text into {@link SmtpReply}. TODO(helper: reply parsing) */
final class ReplyParser {
    private ReplyParser() {
    }

    static SmtpReply parse(String raw, Stage stage) {
        throw new UnsupportedOperationException("not yet written");
    }
}
