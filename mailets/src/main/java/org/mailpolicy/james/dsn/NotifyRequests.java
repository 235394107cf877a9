package org.mailpolicy.james.dsn;

import com.google.common.collect.ImmutableList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.DsnParameters.Notify;
import org.apache.mailet.DsnParameters.RecipientDsnParameters;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;

/**
 * What the sender asked to hear about (RFC 3461 NOTIFY), per recipient, as James recorded it from
 * {@code RCPT TO}. Without a NOTIFY the RFC 3461 default applies: failures and delays are
 * reported, successes are not.
 */
final class NotifyRequests {
    private static final EnumSet<Notify> DEFAULT = EnumSet.of(Notify.FAILURE, Notify.DELAY);

    private final Optional<DsnParameters> parameters;

    private NotifyRequests(Optional<DsnParameters> parameters) {
        this.parameters = parameters;
    }

    static NotifyRequests of(Optional<DsnParameters> parameters) {
        return new NotifyRequests(parameters == null ? Optional.empty() : parameters);
    }

    /** The recipients whose outcome the sender wants reported, in the report's order. */
    List<RecipientReport> wanted(List<RecipientReport> recipients) {
        ImmutableList.Builder<RecipientReport> out = ImmutableList.builder();
        for (RecipientReport r : recipients) {
            if (wants(r)) {
                out.add(r);
            }
        }
        return out.build();
    }

    boolean wants(RecipientReport r) {
        EnumSet<Notify> notify = forRecipient(r.finalRecipient())
                .flatMap(RecipientDsnParameters::getNotifyParameter)
                .orElse(DEFAULT);
        if (notify.contains(Notify.NEVER)) {
            return false;
        }
        return notify.contains(requiredFor(r.action()));
    }

    /** The ORCPT the client gave for this recipient, as {@code rfc822;address}. */
    Optional<String> originalRecipient(String finalRecipient) {
        return forRecipient(finalRecipient)
                .flatMap(RecipientDsnParameters::getOrcptParameter)
                .map(a -> DsnParameters.RFC_822_PREFIX + a.asString());
    }

    Optional<String> envelopeId() {
        return parameters.flatMap(DsnParameters::getEnvIdParameter).map(DsnParameters.EnvId::asString);
    }

    Optional<DsnParameters.Ret> ret() {
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

    private Optional<RecipientDsnParameters> forRecipient(String finalRecipient) {
        if (!parameters.isPresent()) {
            return Optional.empty();
        }
        // James keys the map by MailAddress; the report names recipients as text.
        for (Map.Entry<MailAddress, RecipientDsnParameters> e : parameters.get().getRcptParameters().entrySet()) {
            if (sameAddress(e.getKey().asString(), finalRecipient)) {
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
