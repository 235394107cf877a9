package org.mailpolicy.james.dsn;

import com.google.common.annotations.VisibleForTesting;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSet;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.inject.Inject;
import javax.mail.MessagingException;
import javax.mail.internet.AddressException;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.RecipientReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes RFC 3464 delivery status notifications for report mails: a mail in the bounce processor
 * that carries the original message, its sender, the recipients reported on, and a
 * {@link ReportAttribute} with what happened to each.
 *
 * <p>What it does with each mail, in order:
 * <ul>
 *   <li>Null sender (a DSN or MDN that itself failed): no DSN, ever (it would loop). The mail is
 *       stored in {@code errorRepository} and logged, so that nothing vanishes.</li>
 *   <li>A report attribute that cannot be read: stored in {@code errorRepository} too; a report we
 *       cannot read could be a delay, and telling the sender "failed" would be a lie.</li>
 *   <li>No report attribute (a bounce from James's own RemoteDelivery routed here): a DSN built
 *       from James's {@code delivery-error} attributes, every recipient failed.</li>
 *   <li>Otherwise: the recipients whose NOTIFY asks for their action (RFC 3461 default: failures and
 *       delays) get one DSN, sent from the null sender to the original sender through the root
 *       processor. NOTIFY=NEVER recipients are left out; if none remain, nothing is sent.</li>
 * </ul>
 * The report mail is then GHOSTed.
 *
 * <p>Parameters: {@code sender} (default {@code MAILER-DAEMON@} the postmaster's domain),
 * {@code errorRepository} (default {@code file://var/mail/error/}), {@code maxReturnSize} in bytes
 * (default 1048576: larger messages come back as headers only), {@code reportingMta} (for James's
 * own bounces only; default this host's name; policy reports name their own).
 */
public class PolicyDsnBounce extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyDsnBounce.class);
    static final String DEFAULT_ERROR_REPOSITORY = "file://var/mail/error/";
    static final long DEFAULT_MAX_RETURN_SIZE = 1024 * 1024;
    private static final Set<String> PARAMETERS =
            ImmutableSet.of("sender", "errorRepository", "maxReturnSize", "reportingMta");

    private final MailRepositoryStore repositories;
    private final Clock clock;

    /** The configured sender; empty means MAILER-DAEMON at the postmaster's domain, known only once James runs. */
    private Optional<InternetAddress> configuredFrom;
    private MailRepositoryUrl errorRepositoryUrl;
    private MailRepository errorRepository;
    private long maxReturnSize;
    private String reportingMta;

    @Inject
    public PolicyDsnBounce(MailRepositoryStore repositories) {
        this(repositories, Clock.systemUTC());
    }

    @VisibleForTesting
    PolicyDsnBounce(MailRepositoryStore repositories, Clock clock) {
        this.repositories = Preconditions.checkNotNull(repositories, "repositories");
        this.clock = Preconditions.checkNotNull(clock, "clock");
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        configuredFrom = configuredSender();
        maxReturnSize = maxReturnSize();
        String mta = getInitParameter("reportingMta");
        reportingMta = mta != null && !mta.trim().isEmpty() ? mta.trim() : localHostName();
        String url = getInitParameter("errorRepository", DEFAULT_ERROR_REPOSITORY).trim();
        try {
            errorRepositoryUrl = MailRepositoryUrl.from(url);
            errorRepository = repositories.select(errorRepositoryUrl);
        } catch (Exception e) {
            throw new MessagingException(getMailetName() + ": parameter errorRepository: cannot open '" + url + "': "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        if (!mail.hasSender()) {
            keep(mail, "it has a null sender (a DSN or MDN that failed); no DSN is sent for it");
            return;
        }
        Optional<DeliveryReport> attached;
        try {
            attached = ReportAttribute.read(mail);
        } catch (IllegalArgumentException e) {
            keep(mail, "its report cannot be read: " + e.getMessage());
            return;
        }
        DeliveryReport report;
        if (attached.isPresent()) {
            report = attached.get();
        } else {
            LOGGER.info("Mail {} has no {} attribute: writing a DSN from James's delivery-error attributes",
                    mail.getName(), ReportAttribute.NAME.asString());
            report = StockBounceReport.from(mail, reportingMta, clock.instant());
        }

        NotifyRequests notify = NotifyRequests.of(mail);
        List<RecipientReport> wanted = notify.wanted(report.recipients());
        if (wanted.isEmpty()) {
            LOGGER.info("Mail {}: no DSN, the sender asked not to be told about {} (NOTIFY)", mail.getName(),
                    report.recipients());
            mail.setState(Mail.GHOST);
            return;
        }
        MailAddress originalSender = mail.getMaybeSender().get();
        DsnMessage.Content content = new DsnMessage.Content(report, wanted,
                report.envelopeId().isPresent() ? report.envelopeId() : notify.envelopeId(),
                r -> r.originalRecipient().isPresent() ? r.originalRecipient()
                        : notify.originalRecipient(r.finalRecipient()),
                mail.getMessage(), ReturnContent.choose(notify.ret(), mail.getMessageSize(), maxReturnSize),
                from(), originalSender.toInternetAddress().orElseThrow(() ->
                        new MessagingException("sender " + originalSender.asString() + " is not an Internet address")),
                clock.instant());
        MimeMessage dsn = DsnMessage.compose(content);
        MailImpl dsnMail = MailImpl.builder()
                .name(MailImpl.getId())
                .sender(MaybeSender.nullSender())
                .addRecipient(originalSender)
                .mimeMessage(dsn)
                .state(Mail.DEFAULT)
                .build();
        try {
            getMailetContext().sendMail(dsnMail);
        } finally {
            dsnMail.dispose();
        }
        LOGGER.info("Mail {}: DSN {} sent to {} for {}", mail.getName(), dsn.getMessageID(), originalSender.asString(),
                wanted);
        mail.setState(Mail.GHOST);
    }

    /** Stores the mail for an operator instead of answering it; a failure to store is thrown, never swallowed. */
    private void keep(Mail mail, String why) throws MessagingException {
        errorRepository.store(mail);
        LOGGER.warn("Mail {} (recipients {}) stored in {}: {}", mail.getName(), mail.getRecipients(),
                errorRepositoryUrl.asString(), why);
        mail.setState(Mail.GHOST);
    }

    private Optional<InternetAddress> configuredSender() throws MessagingException {
        String configured = getInitParameter("sender");
        if (configured == null || configured.trim().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(named(configured.trim(), "parameter sender"));
    }

    /**
     * James sets the postmaster only after the mailets are initialised (it is null in init), so the
     * default sender is worked out when the first DSN is written.
     */
    private InternetAddress from() throws MessagingException {
        if (configuredFrom.isPresent()) {
            return configuredFrom.get();
        }
        MailAddress postmaster = getMailetContext().getPostmaster();
        String domain = postmaster == null ? "localhost" : postmaster.getDomain().asString();
        return named("MAILER-DAEMON@" + domain, "the postmaster's domain");
    }

    private InternetAddress named(String address, String source) throws MessagingException {
        try {
            InternetAddress parsed = new InternetAddress(address, true);
            return new InternetAddress(parsed.getAddress(), "Mail Delivery System", "UTF-8");
        } catch (AddressException | java.io.UnsupportedEncodingException e) {
            throw new MessagingException(getMailetName() + ": " + source + ": not a mail address: '" + address + "'", e);
        }
    }

    private long maxReturnSize() throws MessagingException {
        String value = getInitParameter("maxReturnSize");
        if (value == null || value.trim().isEmpty()) {
            return DEFAULT_MAX_RETURN_SIZE;
        }
        try {
            long parsed = Long.parseLong(value.trim());
            if (parsed < 0) {
                throw new NumberFormatException("negative");
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new MessagingException(getMailetName() + ": parameter maxReturnSize: expected a number of bytes >= 0, got '"
                    + value + "'");
        }
    }

    private static String localHostName() {
        try {
            // No reverse DNS lookup: the name the host gives itself.
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    @Override
    public String getMailetInfo() {
        return "Delivery policy: RFC 3464 DSN writer";
    }
}
