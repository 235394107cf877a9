package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import com.google.common.base.Splitter;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.mailpolicy.schedule.AttemptHistory;

/**
 * Carries a mail's {@link AttemptHistory} through the queue as a mail attribute. A plain string
 * ({@code v1|firstQueued|failedAttempts|lastAttempt|warned|messageKey}) so it survives any queue
 * James uses (memory, file, JMS, RabbitMQ) without a serializer of ours on James's class path.
 */
final class HistoryAttribute {
    static final AttributeName NAME = AttributeName.of("org.mailpolicy.history");
    private static final String VERSION = "v1";
    private static final char SEPARATOR = '|';

    private HistoryAttribute() {
    }

    static Attribute of(AttemptHistory history) {
        Preconditions.checkNotNull(history, "history");
        String text = VERSION + SEPARATOR + history.firstQueued() + SEPARATOR + history.failedAttempts() + SEPARATOR
                + history.lastAttempt().map(Instant::toString).orElse("") + SEPARATOR + history.delayWarningSent()
                + SEPARATOR + history.messageKey();
        return new Attribute(NAME, AttributeValue.of(text));
    }

    /**
     * The mail's history; a mail without one (queued before this mailet, or by another) starts now.
     *
     * @throws IllegalArgumentException naming the attribute and the problem when it is unreadable
     */
    static AttemptHistory read(Mail mail, Instant now) {
        Optional<Attribute> attribute = mail.getAttribute(NAME);
        if (!attribute.isPresent()) {
            return AttemptHistory.start(mail.getName(), now);
        }
        Object value = attribute.get().getValue().value();
        if (!(value instanceof String)) {
            throw new IllegalArgumentException("attribute " + NAME.asString() + " of mail " + mail.getName()
                    + " must be a String, got " + (value == null ? "null" : value.getClass().getName()));
        }
        return parse((String) value, mail.getName());
    }

    static AttemptHistory parse(String text, String mailName) {
        // The message key is last and may itself hold the separator.
        List<String> parts = Splitter.on(SEPARATOR).limit(6).splitToList(text);
        if (parts.size() != 6 || !parts.get(0).equals(VERSION)) {
            throw new IllegalArgumentException("attribute " + NAME.asString() + " of mail " + mailName
                    + " is not a delivery history: '" + text + "'");
        }
        try {
            Instant firstQueued = Instant.parse(parts.get(1));
            int failed = Integer.parseInt(parts.get(2));
            Optional<Instant> last = parts.get(3).isEmpty() ? Optional.empty() : Optional.of(Instant.parse(parts.get(3)));
            boolean warned = Boolean.parseBoolean(parts.get(4));
            return AttemptHistory.of(parts.get(5), firstQueued, failed, last, warned);
        } catch (DateTimeException | IllegalArgumentException e) {
            throw new IllegalArgumentException("attribute " + NAME.asString() + " of mail " + mailName
                    + " is not a delivery history: '" + text + "': " + e.getMessage(), e);
        }
    }
}
