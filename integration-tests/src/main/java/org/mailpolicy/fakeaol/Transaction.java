package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What happened on one connection, or in one mail transaction of it: a connection that sends several mails yields one
 * transaction per MAIL FROM (each with the connection's greeting), a connection rejected at the greeting or closed before
 * MAIL FROM yields one with only {@link #connectReply()}. Stages that did not happen are empty.
 *
 * @param connection    the connection's number at the fake, from 1 in the order they arrived; a connection's
 *                      transactions share it
 * @param time          when the connection (first transaction) or the MAIL FROM (later ones) arrived
 * @param client        the client's IP address
 * @param connectReply  the greeting as sent, lines joined with {@code \n}
 * @param mailFrom      the reverse path; an empty string for the null sender {@code <>}
 * @param mailFromReply the reply to MAIL FROM
 * @param recipients    every RCPT TO with its reply, accepted or not, in order
 * @param dataReply     the reply at the end of DATA; empty also when the fake hung up during DATA
 */
public record Transaction(int connection, Instant time, String client, String connectReply, Optional<String> mailFrom,
        Optional<String> mailFromReply, List<RecipientReply> recipients, Optional<String> dataReply) {

    public Transaction {
        requireNonNull(time, "time");
        requireNonNull(client, "client");
        requireNonNull(connectReply, "connectReply");
        requireNonNull(mailFrom, "mailFrom");
        requireNonNull(mailFromReply, "mailFromReply");
        recipients = List.copyOf(recipients);
        requireNonNull(dataReply, "dataReply");
    }

    /** Whether any reply of the transaction (greeting, MAIL, RCPT, end of data) carries {@code token}. */
    public boolean mentions(String token) {
        return connectReply.contains(token) || mailFromReply.map(r -> r.contains(token)).orElse(false)
                || recipients.stream().anyMatch(r -> r.reply().contains(token))
                || dataReply.map(r -> r.contains(token)).orElse(false);
    }
}
