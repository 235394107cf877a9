package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One connection the fake accepted or refused, and how many mail transactions (MAIL FROM, through RCPT and DATA) a
 * client sent over it: the measure of connection reuse.
 *
 * @param connection   its number, as in {@link Transaction#connection()}
 * @param client       the client's IP address
 * @param openedAt     when it arrived
 * @param transactions the MAIL FROM commands it carried, whatever their outcome
 * @param open         whether it is still open
 */
public record ConnectionSummary(int connection, String client, Instant openedAt, int transactions, boolean open) {

    public ConnectionSummary {
        requireNonNull(client, "client");
        requireNonNull(openedAt, "openedAt");
    }

    /** One summary per connection of {@code transactions}, in order; {@code openConnections} are those still open. */
    static List<ConnectionSummary> of(List<Transaction> transactions, Set<Integer> openConnections) {
        Map<Integer, ConnectionSummary> byConnection = new LinkedHashMap<>();
        for (Transaction t : transactions) {
            ConnectionSummary before = byConnection.get(t.connection());
            int mails = (before == null ? 0 : before.transactions()) + (t.mailFrom().isPresent() ? 1 : 0);
            byConnection.put(t.connection(), new ConnectionSummary(t.connection(), t.client(),
                    before == null ? t.time() : before.openedAt(), mails, openConnections.contains(t.connection())));
        }
        return List.copyOf(new ArrayList<>(byConnection.values()));
    }
}
