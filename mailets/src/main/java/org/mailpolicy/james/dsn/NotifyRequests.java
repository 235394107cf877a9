package org.mailpolicy.james.dsn;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.DsnParameters.Notify;
import org.apache.mailet.DsnParameters.RecipientDsnParameters;
import org.apache.mailet.Mail;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;

/**
 * What the sender asked for with RFC 3461's parameters, as James recorded them from {@code MAIL FROM} (RET, ENVID) and
 * {@code RCPT TO} (NOTIFY, ORCPT): the one reader of {@link Mail#dsnParameters()}, so that delivery, the reports and
 * the DSN writer find the same request for the same recipient. Without a NOTIFY the RFC 3461 default applies: failures
 * and delays are reported, successes are not.
 */
public final class NotifyRequests {
    private static final Set<Notify> DEFAULT = Sets.immutableEnumSet(Notify.FAILURE, Notify.DELAY);

    private final Optional<DsnParameters> parameters;

    private NotifyRequests(Optional<DsnParameters> parameters) {
        this.parameters = parameters;
    }

    public static NotifyRequests of(Mail mail) {
        Preconditions.checkNotNull(mail, "mail");
        return of(mail.dsnParameters());
    }

    static NotifyRequests of(Optional<DsnParameters> parameters) {
        return new NotifyRequests(parameters == null ? Optional.empty() : parameters);
    }

    /** The recipients whose outcome the sender wants reported, in the report's order. */
    List<RecipientReport> wanted(List<RecipientReport> recipients) {
        ImmutableList.Builder<RecipientReport> out = ImmutableList.builder();
        for (RecipientReport r : recipients) {
            if (wants(r.finalRecipient(), r.action())) {
                out.add(r);
            }
        }
        return out.build();
    }

    /** Whether the recipient's NOTIFY (or the RFC 3461 default, when it gave none) asks to hear of {@code action}. */
    public boolean wants(String recipient, DsnAction action) {
        Set<Notify> notify = notify(recipient).<Set<Notify>>map(n -> n).orElse(DEFAULT);
        if (notify.contains(Notify.NEVER)) {
            return false;
        }
        return notify.contains(requiredFor(action));
    }

    /** The NOTIFY the client gave for this recipient; empty when it gave none. */
    public Optional<EnumSet<Notify>> notify(String recipient) {
        return forRecipient(recipient).flatMap(RecipientDsnParameters::getNotifyParameter).map(EnumSet::copyOf);
    }

    /** The ORCPT the client gave for this recipient, as {@code rfc822;address}. */
    public Optional<String> originalRecipient(String recipient) {
        return forRecipient(recipient)
                .flatMap(RecipientDsnParameters::getOrcptParameter)
                .map(a -> DsnParameters.RFC_822_PREFIX + a.asString());
    }

    public Optional<String> envelopeId() {
        return parameters.flatMap(DsnParameters::getEnvIdParameter).map(DsnParameters.EnvId::asString);
    }

    public Optional<DsnParameters.Ret> ret() {
        return parameters.flatMap(DsnParameters::getRetParameter);
    }

    private static Notify requiredFor(DsnAction action) {
        switch (action) {
            case FAILED:
                return Notify.FAILURE;
            case DELAYED:
                return Notify.DELAY;
            default:
                // delivered, relayed, expanded: RFC 3461 section 4.1 ties all three to SUCCESS.
                return Notify.SUCCESS;
        }
    }

    private Optional<RecipientDsnParameters> forRecipient(String recipient) {
        if (!parameters.isPresent()) {
            return Optional.empty();
        }
        // James keys the map by the address as given in RCPT TO; the recipient may be spelt otherwise by now.
        for (Map.Entry<MailAddress, RecipientDsnParameters> e : parameters.get().getRcptParameters().entrySet()) {
            if (sameAddress(e.getKey().asString(), recipient)) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    /**
     * Case-insensitive as a whole: local parts are case-sensitive in theory, but the suppression list
     * and some reports carry them lower-cased, and missing a NOTIFY=NEVER would be worse.
     */
    private static boolean sameAddress(String known, String reported) {
        String r = reported.trim();
        if (r.startsWith("<") && r.endsWith(">")) {
            r = r.substring(1, r.length() - 1).trim();
        }
        return known.equalsIgnoreCase(r);
    }
}
