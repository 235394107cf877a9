package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One mail on a James mail queue as the queue reports it (after a restart: as read back from its store).
 *
 * @param name         the mail's name
 * @param recipients   its recipients, in order
 * @param nextDelivery when it is due, if the queue says
 * @param attributes   its mail attributes by name, each as its value's text
 */
public record QueuedMail(String name, List<String> recipients, Optional<Instant> nextDelivery,
        Map<String, String> attributes) {
    public QueuedMail {
        requireNonNull(name, "name");
        recipients = List.copyOf(recipients);
        requireNonNull(nextDelivery, "nextDelivery");
        attributes = Map.copyOf(attributes);
    }
}
