package org.mailpolicy.james.delivery;

import java.util.Iterator;
import java.util.List;
import org.apache.james.core.MailAddress;
import org.apache.mailet.HostAddress;
import org.apache.mailet.Mail;

/** One delivery attempt of a mail to some of its recipients, over the given hosts in order. */
@FunctionalInterface
public interface DeliveryAttempt {
    /** Never throws for anything the remote side does: every failure is described in the result. */
    AttemptResult attempt(Mail mail, List<MailAddress> recipients, Iterator<HostAddress> hosts);

    /**
     * The attempt, on connections as {@code terms} allow (reused from earlier attempts to the same
     * destination, within its open-connection bound). Without connections to share, the plain attempt.
     */
    default AttemptResult attempt(Mail mail, List<MailAddress> recipients, Iterator<HostAddress> hosts,
                                  ConnectionTerms terms) {
        return attempt(mail, recipients, hosts);
    }
}
