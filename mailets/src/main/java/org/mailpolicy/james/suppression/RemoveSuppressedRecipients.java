package org.mailpolicy.james.suppression;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.mail.MessagingException;
import org.apache.james.core.MailAddress;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Attribute;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.dsn.ReportAttribute;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.RecipientReport;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes suppressed recipients off a mail before delivery, so that no connection is ever made for
 * them, and sends a report mail for them to the bounce processor, where
 * {@link org.mailpolicy.james.dsn.PolicyDsnBounce} tells the sender when and why each address was
 * suppressed. A mail left without recipients is GHOSTed.
 *
 * <p>Place it in the relay path before the delivery mailet. Parameters: {@code policy} (the policy
 * file, whose suppression store is used; required), {@code bounceProcessor} (default
 * {@code bounces}), {@code reportingMta} (the name in the DSN's Reporting-MTA; default this host's
 * name).
 */
public class RemoveSuppressedRecipients extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(RemoveSuppressedRecipients.class);
    static final String DEFAULT_BOUNCE_PROCESSOR = "bounces";
    private static final Set<String> PARAMETERS = ImmutableSet.of("policy", "bounceProcessor", "reportingMta");

    private PolicyRuntime runtime;
    private String bounceProcessor;
    private String reportingMta;

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        String policy = getInitParameter("policy");
        if (policy == null || policy.trim().isEmpty()) {
            throw new MessagingException(getMailetName() + ": parameter policy (the delivery policy file) is required");
        }
        runtime = PolicyRuntime.forPolicyFile(policy);
        bounceProcessor = getInitParameter("bounceProcessor", DEFAULT_BOUNCE_PROCESSOR).trim();
        if (bounceProcessor.isEmpty()) {
            throw new MessagingException(getMailetName() + ": parameter bounceProcessor must not be empty");
        }
        String mta = getInitParameter("reportingMta");
        reportingMta = mta != null && !mta.trim().isEmpty() ? mta.trim() : localHostName();
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        SuppressionList list = runtime.suppressions();
        Map<MailAddress, SuppressionEntry> suppressed = SuppressedRecipients.among(list, mail.getRecipients());
        if (suppressed.isEmpty()) {
            return;
        }
        // The report is on its way before a recipient leaves the mail: if sending it fails, the
        // exception leaves the mail whole for James's error handling, and nobody is forgotten.
        sendReport(mail, suppressed);
        ImmutableList<MailAddress> remaining = mail.getRecipients().stream()
                .filter(r -> !suppressed.containsKey(r))
                .collect(ImmutableList.toImmutableList());
        LOGGER.info("Mail {}: not sending to suppressed {}; {} recipient(s) remain", mail.getName(),
                suppressed.keySet(), remaining.size());
        if (remaining.isEmpty()) {
            mail.setState(Mail.GHOST);
        } else {
            mail.setRecipients(remaining);
        }
    }

    private void sendReport(Mail mail, Map<MailAddress, SuppressionEntry> suppressed) throws MessagingException {
        ImmutableList.Builder<RecipientReport> recipients = ImmutableList.builder();
        for (Map.Entry<MailAddress, SuppressionEntry> e : suppressed.entrySet()) {
            recipients.add(SuppressionNotice.forEntry(e.getKey().asString(), e.getValue()));
        }
        Instant arrival = mail.getLastUpdated() == null ? runtime.clock().instant() : mail.getLastUpdated().toInstant();
        DeliveryReport report = DeliveryReport.of(reportingMta, Optional.of(arrival), Optional.empty(),
                Optional.ofNullable(mail.getMessage().getMessageID()), recipients.build());
        MailImpl reportMail = MailImpl.builder()
                .name(MailImpl.getId())
                .sender(mail.getMaybeSender())
                .addRecipients(ImmutableList.copyOf(suppressed.keySet()))
                .mimeMessage(mail.getMessage())
                // The DSN parameters (NOTIFY, ORCPT, RET, ENVID) travel with the mail's attributes.
                .addAttributes(mail.attributes().map(Attribute::duplicate).collect(ImmutableList.toImmutableList()))
                .addAttribute(ReportAttribute.of(report))
                .remoteHost(mail.getRemoteHost())
                .remoteAddr(mail.getRemoteAddr())
                .build();
        try {
            getMailetContext().sendMail(reportMail, bounceProcessor);
        } finally {
            reportMail.dispose();
        }
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    @Override
    public String getMailetInfo() {
        return "Delivery policy: removes suppressed recipients and reports them";
    }
}
