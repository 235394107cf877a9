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
import org.mailpolicy.state.DestinationKey;

/**
 * Carries a mail's place in its destination's line through the queue ({@code v1|key|instant}): the
 * admission that refused it gave it that place, and honours it when the mail comes back then. A
 * plain string, like {@link HistoryAttribute}, so that any James queue keeps it. A place for
 * another destination (the mail was split or rerouted) or one that cannot be read counts as none:
 * the mail just queues again.
 */
final class ReservationAttribute {
    static final AttributeName NAME = AttributeName.of("org.mailpolicy.reservation");
    private static final String VERSION = "v1";
    private static final char SEPARATOR = '|';

    private ReservationAttribute() {
    }

    static Attribute of(DestinationKey key, Instant place) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(place, "place");
        return new Attribute(NAME, AttributeValue.of(VERSION + SEPARATOR + key.asString()
                + SEPARATOR + place));
    }

    /** The mail's place in {@code key}'s line, if it holds one. */
    static Optional<Instant> read(Mail mail, DestinationKey key) {
        Optional<Attribute> attribute = mail.getAttribute(NAME);
        if (!attribute.isPresent() || !(attribute.get().getValue().value() instanceof String)) {
            return Optional.empty();
        }
        List<String> parts = Splitter.on(SEPARATOR).splitToList((String) attribute.get().getValue().value());
        if (parts.size() != 3 || !parts.get(0).equals(VERSION) || !parts.get(1).equals(key.asString())) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(parts.get(2)));
        } catch (DateTimeException e) {
            return Optional.empty();
        }
    }
}
