package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * An asynchronous bounce as AOL's mailer-daemon sends it after accepting a message it cannot deliver (seed 000,
 * "Mailer-Daemon Errors"), and where to send it.
 *
 * @param to                the bounce's recipient, the original sender
 * @param finalRecipient    the AOL address that does not exist
 * @param smtpHost          the SMTP server that receives the bounce
 * @param smtpPort          its port
 * @param originalMessageId the Message-ID of the message being returned, if known; its headers are returned when the
 *                          fake still holds that message
 * @param envelopeFrom      the bounce's reverse path; empty (the usual null sender of a bounce) by default
 */
public record AolBounce(String to, String finalRecipient, String smtpHost, int smtpPort,
        Optional<String> originalMessageId, String envelopeFrom) {

    public AolBounce {
        requireNonBlank(to, "to");
        requireNonBlank(finalRecipient, "finalRecipient");
        requireNonBlank(smtpHost, "smtpHost");
        if (smtpPort < 1 || smtpPort > 65535) {
            throw new IllegalArgumentException("smtpPort must be between 1 and 65535, was " + smtpPort);
        }
        requireNonNull(originalMessageId, "originalMessageId");
        requireNonNull(envelopeFrom, "envelopeFrom");
        for (String value : new String[] {to, finalRecipient, smtpHost, envelopeFrom, originalMessageId.orElse("")}) {
            if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("line breaks are not allowed in bounce fields: " + value.strip());
            }
        }
    }

    /** A bounce with the null sender and no original message. */
    public static AolBounce of(String to, String finalRecipient, String smtpHost, int smtpPort) {
        return new AolBounce(to, finalRecipient, smtpHost, smtpPort, Optional.empty(), "");
    }

    public AolBounce withOriginalMessageId(String messageId) {
        return new AolBounce(to, finalRecipient, smtpHost, smtpPort, Optional.of(messageId), envelopeFrom);
    }

    public AolBounce withEnvelopeFrom(String reversePath) {
        return new AolBounce(to, finalRecipient, smtpHost, smtpPort, originalMessageId, reversePath);
    }

    private static void requireNonBlank(String value, String name) {
        requireNonNull(value, name);
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
    }
}
