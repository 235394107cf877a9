package org.mailpolicy.james.suppression;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.mailpolicy.jdbc.StoreException;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which recipients of a mail are on the suppression list, with their entries. Shared by the mailet
 * and the matcher so that both answer the same.
 *
 * <p>The list is a guard, not the authority: if the store cannot be read, no recipient counts as
 * suppressed and the mail goes on to the remote server, which will refuse an unknown recipient
 * itself. Holding or failing every mail because a local database is unwell would be worse.
 */
final class SuppressedRecipients {
    private static final Logger LOGGER = LoggerFactory.getLogger(SuppressedRecipients.class);

    private SuppressedRecipients() {
    }

    /** The suppressed recipients among {@code recipients}, in their order, each with its entry. */
    static Map<MailAddress, SuppressionEntry> among(SuppressionList list, Collection<MailAddress> recipients) {
        Preconditions.checkNotNull(list, "list");
        ImmutableMap.Builder<MailAddress, SuppressionEntry> found = ImmutableMap.builder();
        for (MailAddress recipient : recipients) {
            Optional<SuppressionEntry> entry;
            try {
                entry = list.find(recipient.asString());
            } catch (IllegalArgumentException e) {
                // An address the list cannot hold (a quoted local part with spaces) is never in it.
                continue;
            } catch (StoreException e) {
                LOGGER.error("Suppression list {} unreadable; delivering to {} without the check: {}", list,
                        recipient.asString(), e.getMessage());
                continue;
            }
            entry.ifPresent(e -> found.put(recipient, e));
        }
        return found.buildKeepingLast();
    }
}
