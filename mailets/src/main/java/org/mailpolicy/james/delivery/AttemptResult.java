package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.mailpolicy.reply.SmtpReply;

/**
 * What one SMTP attempt produced, before any interpretation: which recipients the remote server
 * accepted the message for, each failed recipient's reply (its own RCPT refusal, or the MAIL, DATA
 * or end-of-data reply or lost connection that ended its transaction), and, when the attempt
 * failed before any transaction (greeting, EHLO, refused connection, DNS), that one reply for all.
 *
 * <p>Invariant: every recipient of the attempt is delivered, has its own reply, or (only then) is
 * covered by {@link #transactionFailure()}; none is in two places.
 */
public final class AttemptResult {
    private final ImmutableList<MailAddress> recipients;
    private final ImmutableSet<MailAddress> delivered;
    private final ImmutableMap<MailAddress, SmtpReply> recipientReplies;
    private final SmtpReply transactionFailure;
    private final String remoteHost;
    private final boolean nextHopSupportsDsn;
    private final ImmutableMap<MailAddress, String> acceptedReplies;
    private final TlsUsed tls;

    private AttemptResult(List<MailAddress> recipients, Set<MailAddress> delivered,
                          Map<MailAddress, SmtpReply> recipientReplies, SmtpReply transactionFailure, String remoteHost,
                          boolean nextHopSupportsDsn, Map<MailAddress, String> acceptedReplies, TlsUsed tls) {
        this.recipients = ImmutableList.copyOf(recipients);
        this.delivered = ImmutableSet.copyOf(delivered);
        this.recipientReplies = ImmutableMap.copyOf(recipientReplies);
        this.transactionFailure = transactionFailure;
        this.remoteHost = remoteHost;
        this.nextHopSupportsDsn = nextHopSupportsDsn;
        this.acceptedReplies = ImmutableMap.copyOf(acceptedReplies);
        this.tls = tls;
    }

    /**
     * @param recipients         every recipient of the attempt
     * @param delivered          those the server accepted the message for
     * @param recipientReplies   failed recipients, each with the reply that concerns it
     * @param transactionFailure the reply that ended the attempt for the rest; required when some recipient is in neither
     * @param remoteHost         the server that answered last, if any did
     */
    public static AttemptResult of(Collection<MailAddress> recipients, Collection<MailAddress> delivered,
                                   Map<MailAddress, SmtpReply> recipientReplies, Optional<SmtpReply> transactionFailure,
                                   Optional<String> remoteHost) {
        Preconditions.checkArgument(recipients != null && !recipients.isEmpty(), "an attempt has at least one recipient");
        Set<MailAddress> all = new HashSet<>(recipients);
        Preconditions.checkArgument(all.size() == recipients.size(), "recipients repeat: %s", recipients);
        Preconditions.checkArgument(all.containsAll(delivered), "delivered %s not among recipients %s", delivered, recipients);
        Preconditions.checkArgument(all.containsAll(recipientReplies.keySet()), "replies for %s not among recipients %s",
                recipientReplies.keySet(), recipients);
        for (MailAddress d : delivered) {
            Preconditions.checkArgument(!recipientReplies.containsKey(d), "%s both delivered and refused", d);
        }
        boolean someUncovered = recipients.size() > delivered.size() + recipientReplies.size();
        Preconditions.checkArgument(!someUncovered || transactionFailure.isPresent(),
                "recipients neither delivered nor refused need the reply that ended the attempt");
        return new AttemptResult(ImmutableList.copyOf(recipients), ImmutableSet.copyOf(delivered), recipientReplies,
                someUncovered ? transactionFailure.get() : null, remoteHost.orElse(null), false, ImmutableMap.of(), null);
    }

    /**
     * This result, with what is known of the server that accepted the delivered recipients: whether it
     * advertised the DSN extension (so their NOTIFY was passed on, RFC 3461) and the reply with which it
     * accepted each (the end-of-data reply, normally a 250), where it was read.
     */
    public AttemptResult withNextHop(boolean supportsDsn, Map<MailAddress, String> acceptedReplies) {
        Preconditions.checkArgument(delivered.containsAll(acceptedReplies.keySet()),
                "accepted replies for %s, not all delivered (%s)", acceptedReplies.keySet(), delivered);
        return new AttemptResult(recipients, delivered, recipientReplies, transactionFailure, remoteHost, supportsDsn,
                acceptedReplies, tls);
    }

    /** This result, with the TLS of the connection the mail went over. */
    public AttemptResult withTls(TlsUsed used) {
        return new AttemptResult(recipients, delivered, recipientReplies, transactionFailure, remoteHost,
                nextHopSupportsDsn, acceptedReplies, Preconditions.checkNotNull(used, "used"));
    }

    /** The TLS of the connection the mail went over; empty when no connection carried it (refused, DNS). */
    public Optional<TlsUsed> tls() {
        return Optional.ofNullable(tls);
    }

    /** The whole attempt failed before any recipient got its own answer. */
    public static AttemptResult failed(Collection<MailAddress> recipients, SmtpReply failure, Optional<String> remoteHost) {
        return of(recipients, ImmutableSet.of(), ImmutableMap.of(), Optional.of(failure), remoteHost);
    }

    public List<MailAddress> recipients() {
        return recipients;
    }

    public Set<MailAddress> delivered() {
        return delivered;
    }

    /** Failed recipients with the reply that concerns each (not those covered by {@link #transactionFailure()}). */
    public Map<MailAddress, SmtpReply> recipientReplies() {
        return recipientReplies;
    }

    /** The reply that ended the attempt for recipients neither delivered nor refused on their own. */
    public Optional<SmtpReply> transactionFailure() {
        return Optional.ofNullable(transactionFailure);
    }

    /** The reply that concerns {@code recipient}; empty when it was delivered. */
    public Optional<SmtpReply> replyFor(MailAddress recipient) {
        Preconditions.checkArgument(recipients.contains(recipient), "%s was not a recipient of this attempt", recipient);
        if (delivered.contains(recipient)) {
            return Optional.empty();
        }
        SmtpReply own = recipientReplies.get(recipient);
        return Optional.of(own != null ? own : transactionFailure);
    }

    public Optional<String> remoteHost() {
        return Optional.ofNullable(remoteHost);
    }

    /**
     * Whether the server that accepted the delivered recipients advertised DSN, so that their NOTIFY
     * went on with the message. False when unknown (results built without {@link #withNextHop}): a
     * relaying MTA may claim the next hop reports only when it saw the extension.
     */
    public boolean nextHopSupportsDsn() {
        return nextHopSupportsDsn;
    }

    /** The reply with which the server accepted a delivered recipient, when it was read. */
    public Optional<String> acceptedReply(MailAddress recipient) {
        return Optional.ofNullable(acceptedReplies.get(recipient));
    }

    @Override
    public String toString() {
        return "AttemptResult{delivered " + delivered + ", refused " + recipientReplies
                + (transactionFailure == null ? "" : ", failure '" + transactionFailure.raw() + "'")
                + (remoteHost == null ? "" : ", host " + remoteHost)
                + (nextHopSupportsDsn ? ", next hop supports DSN" : "") + (tls == null ? "" : ", tls " + tls) + "}";
    }
}
