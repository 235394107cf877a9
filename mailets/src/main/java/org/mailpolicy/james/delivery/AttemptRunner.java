package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import com.google.common.cache.CacheBuilder;
import com.google.common.cache.CacheLoader;
import com.google.common.cache.LoadingCache;
import com.sun.mail.smtp.SMTPMessage;
import com.sun.mail.smtp.SMTPTransport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import javax.mail.MessagingException;
import javax.mail.SendFailedException;
import javax.mail.Session;
import javax.mail.internet.AddressException;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;
import org.apache.james.core.MailAddress;
import org.apache.james.transport.mailets.remote.delivery.RemoteDeliveryConfiguration;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.HostAddress;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.apache.mailet.base.Converter7Bit;
import org.mailpolicy.james.dsn.NotifyRequests;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP attempt with JavaMail's {@link SMTPTransport}, as James's own {@code MailDelivrerToHost}
 * does, but keeping every reply: with {@code mail.smtp.sendpartial=true} each refused recipient's
 * RCPT reply and the reply that ended the transaction arrive in JavaMail's exceptions
 * ({@link SendFailureReader} reads them), and a rejected greeting's text (which JavaMail leaves
 * out of its exception) is read back with {@link SMTPTransport#getLastServerResponse()}.
 *
 * <p>Hosts are tried in order only while no server answers (refused connection, timeout): once a
 * server has replied, its reply decides, so a throttling destination is not hammered on every MX.
 */
public final class AttemptRunner implements DeliveryAttempt {
    private static final Logger LOGGER = LoggerFactory.getLogger(AttemptRunner.class);
    private static final String BIT_MIME_8 = "8BITMIME";
    /** Envelope senders whose JavaMail sessions are kept; an MTA relays for a bounded set of senders at a time. */
    private static final int SESSION_CACHE_SIZE = 1000;

    private final Properties smtpProperties;
    private final Properties smtpsProperties;
    private final Optional<String> authUser;
    private final Optional<String> authPassword;
    private final boolean connectByHostname;
    private final Optional<MailetContext> contextFor7BitConversion;
    /**
     * JavaMail sessions by protocol and envelope sender ({@code mail.smtp.from} is a session property).
     * Building a Session reads JavaMail's resource files through the class loader, which walks every
     * jar of James's class path: the plugin's largest cost per message after its databases before these
     * were kept (docs/benchmarks.md). A session is only configuration, safe to share between threads.
     */
    private final LoadingCache<String, Session> sessions = CacheBuilder.newBuilder().maximumSize(SESSION_CACHE_SIZE)
            .build(CacheLoader.from(this::newSession));

    private AttemptRunner(Properties smtpProperties, Properties smtpsProperties, Optional<String> authUser,
                          Optional<String> authPassword, boolean connectByHostname,
                          Optional<MailetContext> contextFor7BitConversion) {
        this.smtpProperties = withSendPartial(smtpProperties, "smtp");
        this.smtpsProperties = withSendPartial(smtpsProperties, "smtps");
        this.authUser = authUser;
        this.authPassword = authPassword;
        this.connectByHostname = connectByHostname;
        this.contextFor7BitConversion = contextFor7BitConversion;
    }

    /** Timeouts, TLS, HELO name, bind address, auth and {@code mail.*} pass-through from RemoteDelivery's parameters. */
    public static AttemptRunner fromConfiguration(RemoteDeliveryConfiguration configuration, MailetContext context) {
        Preconditions.checkNotNull(configuration, "configuration");
        return new AttemptRunner(configuration.createFinalJavaxProperties(),
                configuration.createFinalJavaxPropertiesWithSSL(), Optional.ofNullable(configuration.getAuthUser()),
                Optional.ofNullable(configuration.getAuthPass()), configuration.isConnectByHostname(), Optional.of(context));
    }

    /** Plain JavaMail properties ({@code mail.smtp.*}); for tests and tools. */
    public static AttemptRunner withProperties(Properties smtpProperties) {
        return new AttemptRunner(smtpProperties, smtpProperties, Optional.empty(), Optional.empty(), false, Optional.empty());
    }

    private static Properties withSendPartial(Properties p, String protocol) {
        Properties copy = new Properties();
        copy.putAll(Preconditions.checkNotNull(p, "properties"));
        // Without it JavaMail stops at the first refused recipient and the others' replies are never read.
        copy.put("mail." + protocol + ".sendpartial", "true");
        return copy;
    }

    @Override
    public AttemptResult attempt(Mail mail, List<MailAddress> recipients, Iterator<HostAddress> hosts) {
        Preconditions.checkArgument(!recipients.isEmpty(), "no recipients");
        AttemptResult last = null;
        while (hosts.hasNext()) {
            HostAddress host = hosts.next();
            HostOutcome outcome = attemptHost(mail, recipients, host);
            last = outcome.result;
            if (!outcome.tryNextHost) {
                return last;
            }
        }
        if (last != null) {
            return last;
        }
        return AttemptResult.failed(recipients,
                SmtpReply.parse("No mail server found for " + recipients.get(0).getDomain().asString(), Stage.CONNECT),
                Optional.empty());
    }

    private static final class HostOutcome {
        final AttemptResult result;
        final boolean tryNextHost;

        HostOutcome(AttemptResult result, boolean tryNextHost) {
            this.result = result;
            this.tryNextHost = tryNextHost;
        }
    }

    private HostOutcome attemptHost(Mail mail, List<MailAddress> recipients, HostAddress host) {
        Optional<String> hostName = Optional.of(host.getHostName());
        boolean smtps = "smtps".equalsIgnoreCase(host.getProtocol());
        // "<>" for the null sender: JavaMail replaces an empty envelope sender with the message's From header.
        Session session = sessionFor(smtps, mail.getMaybeSender().asOptional().map(MailAddress::asString).orElse("<>"));
        // Built directly, not through Session.getTransport: another "smtp" provider on the class path
        // cannot take its place, and the subclass keeps the replies JavaMail would drop.
        ReplyRecordingTransport transport = new ReplyRecordingTransport(session, host, smtps);
        try {
            try {
                connect(transport, host);
            } catch (MessagingException e) {
                return connectFailure(recipients, transport, e, hostName);
            }
            return new HostOutcome(send(mail, recipients, transport, hostName), false);
        } finally {
            closeQuietly(transport, mail, host);
        }
    }

    /** The session for this protocol and envelope sender, built once (see {@link #sessions}). */
    Session sessionFor(boolean smtps, String envelopeFrom) {
        return sessions.getUnchecked((smtps ? "smtps" : "smtp") + "\n" + envelopeFrom);
    }

    private Session newSession(String protocolAndFrom) {
        int newline = protocolAndFrom.indexOf('\n');
        String protocol = protocolAndFrom.substring(0, newline);
        Properties props = new Properties();
        props.putAll(protocol.equals("smtps") ? smtpsProperties : smtpProperties);
        props.put("mail." + protocol + ".from", protocolAndFrom.substring(newline + 1));
        return Session.getInstance(props);
    }

    /**
     * As James's MailDelivrerToHost: by the MX host's name when authenticating or when asked to (so
     * TLS can check the server's name), else by the address James resolved; the port is kept.
     */
    private void connect(SMTPTransport transport, HostAddress host) throws MessagingException {
        if (authUser.isPresent()) {
            transport.connect(hostName(host), host.getPort(), authUser.get(), authPassword.orElse(null));
        } else if (connectByHostname) {
            transport.connect(hostName(host), host.getPort(), null, null);
        } else {
            transport.connect();
        }
    }

    private static String hostName(HostAddress host) {
        String name = host.getHostName();
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /**
     * A failure after the server greeted us that JavaMail did not turn into a send failure: a
     * connection dropped after a refusal (a 421 to RCPT, then the server hangs up) keeps the refusal
     * as the last server response; otherwise (timeout, reset) the exception's text is all there is.
     */
    private static SmtpReply afterConnectFailure(ReplyRecordingTransport transport, Exception e) {
        return SendFailureReader.orLastRefusal(SmtpReply.parse(SendFailureReader.describe(e), Stage.UNKNOWN),
                lastRefusal(transport));
    }

    private static HostOutcome connectFailure(List<MailAddress> recipients, ReplyRecordingTransport transport,
                                              MessagingException e, Optional<String> hostName) {
        String serverSaid = transport.lastReply().orElse(transport.getLastServerResponse());
        if (serverSaid != null && !serverSaid.trim().isEmpty()) {
            // JavaMail says only "Could not connect to SMTP host: h, port: p, response: 421"; the text is here.
            boolean greeting = e.getMessage() != null && e.getMessage().contains("response:");
            SmtpReply reply = SmtpReply.parse(serverSaid, greeting ? Stage.CONNECT : Stage.HELO);
            // A positive last reply (220 before a failed STARTTLS) is not what failed.
            if (reply.code().isPresent() && !reply.isPositive()) {
                return new HostOutcome(AttemptResult.failed(recipients, reply, hostName), false);
            }
        }
        // No server reply at all: connection refused, timeout, unknown host. Another MX may answer.
        return new HostOutcome(AttemptResult.failed(recipients, SmtpReply.parse(SendFailureReader.describe(e), Stage.CONNECT), hostName), true);
    }

    /**
     * One transaction per distinct NOTIFY request (JavaMail sets NOTIFY per message, RFC 3461 per
     * recipient), as James's own RemoteDelivery does; almost always a single transaction.
     */
    private AttemptResult send(Mail mail, List<MailAddress> recipients, ReplyRecordingTransport transport,
                               Optional<String> hostName) {
        List<MailAddress> delivered = new ArrayList<>();
        Map<MailAddress, SmtpReply> failed = new LinkedHashMap<>();
        Map<MailAddress, String> accepted = new HashMap<>();
        // Read after connect: whether this server takes the NOTIFY we pass on (RFC 3461 6.2.2 otherwise).
        boolean supportsDsn = transport.supportsExtension("DSN");
        try {
            MimeMessage message = adaptTo(transport, mail);
            for (Map.Entry<Optional<Integer>, List<MailAddress>> group : notifyGroups(mail, recipients).entrySet()) {
                List<MailAddress> part = group.getValue();
                try {
                    transport.sendMessage(withDsnParameters(mail, message, transport, group.getKey()),
                            toInternetAddresses(part));
                    delivered.addAll(part);
                    acceptedReply(transport).ifPresent(reply -> part.forEach(m -> accepted.put(m, reply)));
                } catch (SendFailedException e) {
                    AttemptResult r = SendFailureReader.read(part, e, lastRefusal(transport), hostName);
                    delivered.addAll(r.delivered());
                    for (MailAddress m : part) {
                        r.replyFor(m).ifPresent(reply -> failed.put(m, reply));
                    }
                }
            }
        } catch (MessagingException | RuntimeException e) {
            // The connection is lost (or the message unreadable): this transaction and any later one end here.
            SmtpReply lost = afterConnectFailure(transport, e);
            for (MailAddress m : recipients) {
                if (!delivered.contains(m) && !failed.containsKey(m)) {
                    failed.put(m, lost);
                }
            }
        }
        return AttemptResult.of(recipients, delivered, failed, Optional.empty(), hostName)
                .withNextHop(supportsDsn, accepted);
    }

    /** The positive reply that ended a successful transaction (the end-of-data 250), if that is what was read last. */
    private static Optional<String> acceptedReply(ReplyRecordingTransport transport) {
        return transport.lastReply().map(String::trim).filter(r -> r.startsWith("2"));
    }

    private MimeMessage adaptTo(SMTPTransport transport, Mail mail) throws MessagingException {
        MimeMessage original = mail.getMessage();
        if (contextFor7BitConversion.isPresent() && !transport.supportsExtension(BIT_MIME_8)) {
            try {
                new Converter7Bit(contextFor7BitConversion.get()).convertTo7Bit(original);
            } catch (IOException e) {
                LOGGER.warn("Could not convert mail {} to 7 bit; sending as is", mail.getName(), e);
            }
        }
        return original;
    }

    private static MimeMessage withDsnParameters(Mail mail, MimeMessage original, SMTPTransport transport,
                                                 Optional<Integer> notify) throws MessagingException {
        if (!mail.dsnParameters().isPresent()) {
            return original;
        }
        NotifyRequests requests = NotifyRequests.of(mail);
        SMTPMessage message = new SMTPMessage(original);
        requests.ret().ifPresent(ret ->
                message.setReturnOption(ret == DsnParameters.Ret.HDRS ? SMTPMessage.RETURN_HDRS : SMTPMessage.RETURN_FULL));
        if (transport.supportsExtension("DSN")) {
            requests.envelopeId().ifPresent(envId -> message.setMailExtension("ENVID=" + envId));
        }
        notify.ifPresent(message::setNotifyOptions);
        return message;
    }

    /** Recipients by the NOTIFY option they asked for (empty: none), in recipient order. */
    static Map<Optional<Integer>, List<MailAddress>> notifyGroups(Mail mail, List<MailAddress> recipients) {
        NotifyRequests requests = NotifyRequests.of(mail);
        Map<Optional<Integer>, List<MailAddress>> groups = new LinkedHashMap<>();
        for (MailAddress r : recipients) {
            Optional<Integer> notify = requests.notify(r.asString()).map(AttemptRunner::toJavaxNotify);
            groups.computeIfAbsent(notify, k -> new ArrayList<>()).add(r);
        }
        return groups;
    }

    private static int toJavaxNotify(EnumSet<DsnParameters.Notify> notify) {
        int n = 0;
        for (DsnParameters.Notify each : notify) {
            switch (each) {
                case NEVER:
                    n |= SMTPMessage.NOTIFY_NEVER;
                    break;
                case SUCCESS:
                    n |= SMTPMessage.NOTIFY_SUCCESS;
                    break;
                case FAILURE:
                    n |= SMTPMessage.NOTIFY_FAILURE;
                    break;
                case DELAY:
                    n |= SMTPMessage.NOTIFY_DELAY;
                    break;
                default:
                    break;
            }
        }
        return n;
    }

    private static Optional<SmtpReply> lastRefusal(ReplyRecordingTransport transport) {
        return transport.lastReply().map(r -> SmtpReply.parse(r, Stage.UNKNOWN)).filter(r -> r.code().isPresent() && !r.isPositive());
    }

    private static InternetAddress[] toInternetAddresses(List<MailAddress> recipients) throws AddressException {
        InternetAddress[] out = new InternetAddress[recipients.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new InternetAddress(recipients.get(i).asString());
        }
        return out;
    }

    private static void closeQuietly(SMTPTransport transport, Mail mail, HostAddress host) {
        try {
            transport.close();
        } catch (MessagingException e) {
            // James-899: QUIT failing after the transaction does not undo what the server accepted.
            LOGGER.debug("Closing the SMTP connection to {} after mail {} failed: {}", host.getHostName(), mail.getName(),
                    e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "AttemptRunner{helo " + smtpProperties.getProperty("mail.smtp.localhost", "default") + "}";
    }
}
