package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import com.sun.mail.smtp.SMTPMessage;
import com.sun.mail.smtp.SMTPTransport;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import javax.mail.BodyPart;
import javax.mail.MessagingException;
import javax.mail.Multipart;
import javax.mail.SendFailedException;
import javax.mail.Session;
import javax.mail.internet.AddressException;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.MimePart;
import javax.net.ssl.SSLContext;
import org.apache.james.core.MailAddress;
import org.apache.james.transport.mailets.remote.delivery.RemoteDeliveryConfiguration;
import org.apache.mailet.HostAddress;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.apache.mailet.base.Converter7Bit;
import org.mailpolicy.destination.TlsSettings;
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
 *
 * <p><b>Connection reuse.</b> An attempt first takes an idle connection to the host from the
 * {@link SmtpConnectionCache}, probes it with {@code RSET} when it sat idle for the destination's {@code
 * rsetAfterIdle} or its last mail did not end accepted (JavaMail sends no RSET between two messages that went
 * well), and sends on it; a connection that turns out dead there (the RSET fails, or the
 * connection is lost without a reply before DATA was sent, so nothing can have been delivered) is closed
 * and the mail goes once more on a fresh connection, within the same attempt. After the mail the
 * connection goes back to the cache, which keeps it only if it is healthy: never after a 421, a lost
 * connection or a timeout (JavaMail closes the connection on any I/O error).
 */
public final class AttemptRunner implements DeliveryAttempt {
    private static final Logger LOGGER = LoggerFactory.getLogger(AttemptRunner.class);
    private static final String BIT_MIME_8 = "8BITMIME";

    /**
     * One JavaMail session per protocol, built once: building one reads JavaMail's resource files through
     * the class loader, which walks every jar of James's class path. A session is only configuration, safe
     * to share between threads; the envelope sender goes on each message ({@link EnvelopeMessage}).
     */
    private final Session smtpSession;
    /** STARTTLS when offered, through {@link StartTlsSocketFactory}: opportunistic. */
    private final Session startTlsSession;
    /** STARTTLS or no mail, through {@link StartTlsSocketFactory}: required and verified. */
    private final Session requiredTlsSession;
    private final Session smtpsSession;
    private final Optional<String> authUser;
    private final Optional<String> authPassword;
    private final boolean connectByHostname;
    private final Optional<MailetContext> contextFor7BitConversion;
    private final SmtpConnectionCache connections;
    private final String heloName;
    private final PlaintextFallbacks plaintextFallbacks;
    private final TrustStores trustStores = new TrustStores();

    private AttemptRunner(Properties smtpProperties, Properties smtpsProperties, Optional<String> authUser,
                          Optional<String> authPassword, boolean connectByHostname,
                          Optional<MailetContext> contextFor7BitConversion, SmtpConnectionCache connections,
                          PlaintextFallbacks plaintextFallbacks) {
        Properties smtp = withSendPartial(smtpProperties, "smtp");
        StartTlsSocketFactory startTls = new StartTlsSocketFactory();
        this.smtpSession = Session.getInstance(withStartTls(smtp, false, false, startTls));
        this.startTlsSession = Session.getInstance(withStartTls(smtp, true, false, startTls));
        this.requiredTlsSession = Session.getInstance(withStartTls(smtp, true, true, startTls));
        this.plaintextFallbacks = Preconditions.checkNotNull(plaintextFallbacks, "plaintextFallbacks");
        this.smtpsSession = Session.getInstance(withSendPartial(smtpsProperties, "smtps"));
        this.authUser = authUser;
        this.authPassword = authPassword;
        this.connectByHostname = connectByHostname;
        this.contextFor7BitConversion = contextFor7BitConversion;
        this.connections = Preconditions.checkNotNull(connections, "connections");
        this.heloName = smtpProperties.getProperty("mail.smtp.localhost", "default");
    }

    /**
     * Timeouts, TLS, HELO name, bind address, auth and {@code mail.*} pass-through from RemoteDelivery's
     * parameters; idle connections are kept in {@code connections}.
     */
    static AttemptRunner fromConfiguration(RemoteDeliveryConfiguration configuration, MailetContext context,
                                           SmtpConnectionCache connections, PlaintextFallbacks plaintextFallbacks) {
        Preconditions.checkNotNull(configuration, "configuration");
        return new AttemptRunner(configuration.createFinalJavaxProperties(),
                configuration.createFinalJavaxPropertiesWithSSL(), Optional.ofNullable(configuration.getAuthUser()),
                Optional.ofNullable(configuration.getAuthPass()), connectsByHostname(configuration), Optional.of(context),
                connections, plaintextFallbacks);
    }

    /**
     * By host name only for implicit TLS (smtps) with verifyServerIdentity, where JavaMail checks the certificate
     * against the name it connected to. RemoteDelivery also connects by name for startTLS; here STARTTLS certificates
     * are judged by {@link StartTlsSocketFactory} for the MX name, so the connection goes to the address James's DNS
     * service resolved (connecting by name would have JavaMail resolve it again, past James's DNS).
     */
    private static boolean connectsByHostname(RemoteDeliveryConfiguration configuration) {
        return configuration.isSSLEnable() && configuration.isVerifyServerIdentity();
    }

    /** Plain JavaMail properties ({@code mail.smtp.*}) and a cache without a reaper; for tests and tools. */
    public static AttemptRunner withProperties(Properties smtpProperties) {
        return withProperties(smtpProperties, new SmtpConnectionCache(System::nanoTime, Optional.empty()));
    }

    static AttemptRunner withProperties(Properties smtpProperties, SmtpConnectionCache connections) {
        return withProperties(smtpProperties, Optional.empty(), connections);
    }

    /** As {@link #withProperties(Properties)}, converting to 7 bit for servers without 8BITMIME as in James. */
    static AttemptRunner withProperties(Properties smtpProperties, MailetContext contextFor7BitConversion) {
        return withProperties(smtpProperties, Optional.of(contextFor7BitConversion),
                new SmtpConnectionCache(System::nanoTime, Optional.empty()));
    }

    private static AttemptRunner withProperties(Properties smtpProperties, Optional<MailetContext> contextFor7BitConversion,
                                                SmtpConnectionCache connections) {
        return new AttemptRunner(smtpProperties, smtpProperties, Optional.empty(), Optional.empty(), false,
                contextFor7BitConversion, connections, new PlaintextFallbacks(java.time.Clock.systemUTC()));
    }

    /**
     * The policy's TLS level decides STARTTLS, not RemoteDelivery's {@code startTLS}: {@code enable} says whether
     * STARTTLS is sent when offered, {@code required} whether a server that offers none gets no mail. JavaMail's own
     * certificate settings ({@code ssl.trust}, {@code ssl.checkserveridentity}) are dropped: {@link
     * StartTlsSocketFactory} judges the certificate for the MX host name, which JavaMail does not know.
     */
    private static Properties withStartTls(Properties p, boolean enable, boolean required, StartTlsSocketFactory factory) {
        Properties copy = new Properties();
        copy.putAll(p);
        copy.put("mail.smtp.starttls.enable", String.valueOf(enable));
        copy.put("mail.smtp.starttls.required", String.valueOf(required));
        copy.remove("mail.smtp.ssl.trust");
        copy.remove("mail.smtp.ssl.checkserveridentity");
        copy.remove("mail.smtp.ssl.socketFactory.class");
        copy.put("mail.smtp.ssl.socketFactory", factory);
        return copy;
    }

    private static Properties withSendPartial(Properties p, String protocol) {
        Properties copy = new Properties();
        copy.putAll(Preconditions.checkNotNull(p, "properties"));
        // Without it JavaMail stops at the first refused recipient and the others' replies are never read.
        copy.put("mail." + protocol + ".sendpartial", "true");
        return copy;
    }

    /** One connection per attempt, closed after it. */
    @Override
    public AttemptResult attempt(Mail mail, List<MailAddress> recipients, Iterator<HostAddress> hosts) {
        return attempt(mail, recipients, hosts, ConnectionTerms.singleUse());
    }

    @Override
    public AttemptResult attempt(Mail mail, List<MailAddress> recipients, Iterator<HostAddress> hosts,
                                 ConnectionTerms terms) {
        Preconditions.checkArgument(!recipients.isEmpty(), "no recipients");
        AttemptResult last = null;
        while (hosts.hasNext()) {
            HostAddress host = hosts.next();
            HostOutcome outcome = attemptHost(mail, recipients, host, terms);
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

    /** What sending one mail on a connection gave, and what it says about the connection. */
    private static final class Sent {
        final AttemptResult result;
        /** Why the connection must not carry another mail; null when it may. */
        final String notReusableBecause;
        /** Lost without a reply before DATA on a connection that carried mail before: nothing was delivered, send again. */
        final boolean deadBeforeData;

        Sent(AttemptResult result, String notReusableBecause, boolean deadBeforeData) {
            this.result = result;
            this.notReusableBecause = notReusableBecause;
            this.deadBeforeData = deadBeforeData;
        }
    }

    private HostOutcome attemptHost(Mail mail, List<MailAddress> recipients, HostAddress host, ConnectionTerms terms) {
        String peerName = hostName(host);
        TlsSettings tls = terms.tls();
        boolean fallback = tls.level() == TlsSettings.Level.OPPORTUNISTIC && plaintextFallbacks.inFallback(peerName);
        TlsSettings.Level level = fallback ? TlsSettings.Level.NONE : tls.level();
        ConnectionKey key = ConnectionKey.of(terms.destinationKey(), host, level);
        Optional<String> hostName = Optional.of(host.getHostName());
        Optional<SmtpConnection> idle = terms.settings().reuses() ? connections.take(key, terms.maxOpen())
                : Optional.empty();
        if (idle.isPresent()) {
            Optional<AttemptResult> onIdle = sendOnReused(mail, recipients, idle.get(), hostName, terms);
            if (onIdle.isPresent()) {
                return new HostOutcome(onIdle.get(), false);
            }
            // The idle connection was dead: the mail goes on a fresh one, as part of this same attempt.
        }
        boolean smtps = "smtps".equalsIgnoreCase(host.getProtocol());
        Optional<SSLContext> verifying = Optional.empty();
        if (level == TlsSettings.Level.VERIFIED && !smtps) {
            try {
                verifying = Optional.of(trustStores.verifying(tls));
            } catch (IOException | GeneralSecurityException e) {
                return new HostOutcome(AttemptResult.failed(recipients, policyUnmet(level, peerName,
                        "its trust store could not be used: " + SendFailureReader.describe(e)), hostName), false);
            }
        }
        // Built directly, not through Session.getTransport: another "smtp" provider on the class path
        // cannot take its place, and the subclass keeps the replies JavaMail would drop.
        ReplyRecordingTransport transport = new ReplyRecordingTransport(smtps ? smtpsSession : sessionFor(level), host,
                smtps);
        SmtpConnection fresh = connections.reserve(key, terms.metricsName(), terms.maxOpen(), transport);
        try (StartTlsSocketFactory.Handshake handshake = StartTlsSocketFactory.begin(peerName, verifying)) {
            try {
                connect(transport, host);
            } catch (MessagingException e) {
                connections.discard(fresh, "connect failed: " + e.getMessage());
                return tlsFailure(recipients, level, terms, peerName, handshake, e, hostName)
                        .orElseGet(() -> connectFailure(recipients, transport, e, hostName));
            }
            fresh.tls(smtps ? TlsUsed.IMPLICIT : handshake.used().orElse(TlsUsed.NONE));
        }
        connections.opened(fresh);
        Sent sent = send(mail, recipients, fresh, hostName);
        giveBack(fresh, sent, terms);
        return new HostOutcome(sent.result, false);
    }

    private Session sessionFor(TlsSettings.Level level) {
        switch (level) {
            case NONE:
                return smtpSession;
            case OPPORTUNISTIC:
                return startTlsSession;
            default:
                return requiredTlsSession;
        }
    }

    /**
     * A connect that failed for TLS: the handshake failed, or (required, verified) the server offered no STARTTLS.
     * Under {@code opportunistic} the host goes into plaintext fallback and the failure is an ordinary TLS failure
     * (retried); under {@code required} and {@code verified} it is the policy's own failure, X.7.10, which holds the
     * destination and expires as 5.7.10. Another MX host may still do better: nothing was sent.
     */
    private Optional<HostOutcome> tlsFailure(List<MailAddress> recipients, TlsSettings.Level level, ConnectionTerms terms,
                                             String peerName, StartTlsSocketFactory.Handshake handshake,
                                             MessagingException e, Optional<String> hostName) {
        boolean noStartTls = !handshake.started() && String.valueOf(e.getMessage()).contains("STARTTLS is required");
        if (!handshake.failure().isPresent() && !noStartTls) {
            return Optional.empty();
        }
        String what = noStartTls ? "the server offers no STARTTLS"
                : "the TLS handshake failed: " + handshake.failure().get();
        if (level == TlsSettings.Level.OPPORTUNISTIC) {
            TlsSettings tls = terms.tls();
            plaintextFallbacks.handshakeFailed(terms.destinationKey(), peerName, tls.plaintextFallback());
            LOGGER.info("TLS handshake with {} failed; plaintext to it for {}: {}", peerName,
                    tls.plaintextFallback(), handshake.failure().get());
            SmtpReply reply = SmtpReply.parse("TLS with " + peerName + ": " + what
                    + "; the next attempt goes without TLS", Stage.CONNECT);
            return Optional.of(new HostOutcome(AttemptResult.failed(recipients, reply, hostName), true));
        }
        return Optional.of(new HostOutcome(AttemptResult.failed(recipients, policyUnmet(level, peerName, what),
                hostName), true));
    }

    /**
     * The reply standing for a TLS the policy requires and did not get: no server said it, so it carries no basic
     * code, only the enhanced code RFC 5248 gives it (4.7.10, encryption needed). The code is in the text, so that a
     * destination hold quoting this reply (the "held" reason a later mail expires with) carries it too.
     */
    static SmtpReply policyUnmet(TlsSettings.Level level, String peerName, String what) {
        return SmtpReply.parse("TLS " + level.id() + " by the delivery policy for " + peerName
                + " (4.7.10 encryption needed), but " + what + "; nothing was sent", Stage.CONNECT);
    }

    /** The mail on a connection that carried mail before; empty when the connection was dead before anything was delivered. */
    private Optional<AttemptResult> sendOnReused(Mail mail, List<MailAddress> recipients, SmtpConnection connection,
                                                 Optional<String> hostName, ConnectionTerms terms) {
        if (connection.needsRset(terms.settings().rsetAfterIdle())) {
            try {
                connection.transport().issueCommand("RSET", 250);
            } catch (MessagingException | RuntimeException e) {
                connections.discard(connection, "dead when reused: RSET failed: " + e.getMessage());
                return Optional.empty();
            }
        }
        Sent sent = send(mail, recipients, connection, hostName);
        if (sent.deadBeforeData) {
            connections.discard(connection, "dead when reused: " + sent.notReusableBecause);
            return Optional.empty();
        }
        giveBack(connection, sent, terms);
        return Optional.of(sent.result);
    }

    private void giveBack(SmtpConnection connection, Sent sent, ConnectionTerms terms) {
        connections.giveBack(connection, sent.notReusableBecause == null, sent.notReusableBecause, terms.settings(),
                terms.maxOpen());
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
     * recipient), as James's own RemoteDelivery does; almost always a single transaction. Each counts
     * against the connection's message limit; a mail's groups are not split over connections.
     */
    private Sent send(Mail mail, List<MailAddress> recipients, SmtpConnection connection, Optional<String> hostName) {
        ReplyRecordingTransport transport = connection.transport();
        transport.startMail();
        boolean reused = connection.transactions() > 0;
        List<MailAddress> delivered = new ArrayList<>();
        Map<MailAddress, SmtpReply> failed = new LinkedHashMap<>();
        Map<MailAddress, String> accepted = new HashMap<>();
        // Read after connect: whether this server takes the NOTIFY we pass on (RFC 3461 6.2.2 otherwise).
        boolean supportsDsn = transport.supportsExtension("DSN");
        String lost = null;
        try {
            SMTPMessage message = EnvelopeMessage.of(mail, adaptTo(transport, mail), transport);
            for (Map.Entry<Optional<Integer>, List<MailAddress>> group : EnvelopeMessage.notifyGroups(mail, recipients).entrySet()) {
                List<MailAddress> part = group.getValue();
                connection.transactionStarted();
                try {
                    transport.sendMessage(EnvelopeMessage.forNotify(message, group.getKey()), toInternetAddresses(part));
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
            lost = SendFailureReader.describe(e);
            SmtpReply reply = afterConnectFailure(transport, e);
            for (MailAddress m : recipients) {
                if (!delivered.contains(m) && !failed.containsKey(m)) {
                    failed.put(m, reply);
                }
            }
        }
        String notReusableBecause = !transport.isOpen() ? "connection lost" + (lost == null ? "" : ": " + lost)
                : transport.saidClosing() ? "the server said 421"
                : lost != null ? "failed: " + lost
                : null;
        // Lost without a word to this mail: a server that answered (a 421 DYN:T1 to MAIL FROM) has spoken, and its
        // answer decides; connecting again at once would hammer a throttling receiver. An unreadable message would
        // fail on a fresh connection too.
        boolean silentlyLost = !transport.isOpen() && !transport.lastReply().isPresent();
        boolean deadBeforeData = reused && silentlyLost && delivered.isEmpty() && !transport.dataStarted();
        connection.mailEnded(lost == null && acceptedReply(transport).isPresent());
        AttemptResult result = AttemptResult.of(recipients, delivered, failed, Optional.empty(), hostName)
                .withNextHop(supportsDsn, accepted).withTls(connection.tls());
        return new Sent(result, notReusableBecause, deadBeforeData);
    }

    /** The positive reply that ended a successful transaction (the end-of-data 250), if that is what was read last. */
    private static Optional<String> acceptedReply(ReplyRecordingTransport transport) {
        return transport.lastReply().map(String::trim).filter(r -> r.startsWith("2"));
    }

    /**
     * The mail's message as this server can take it: converted to 7 bit, as James's RemoteDelivery does, when the
     * server offers no 8BITMIME (AOL's EHLO offers none) and a part is sent as 8bit. A message with no 8bit part
     * goes as it is: James's {@link Converter7Bit} saves the message even when it changed nothing, which parses it
     * again and rewrites headers nobody changed (MIME-Version, a missing Date or Message-ID added), in the mail's
     * own stored message, for every mail to such a server.
     */
    private MimeMessage adaptTo(SMTPTransport transport, Mail mail) throws MessagingException {
        MimeMessage original = mail.getMessage();
        if (contextFor7BitConversion.isPresent() && !transport.supportsExtension(BIT_MIME_8)) {
            try {
                if (hasEightBitPart(original)) {
                    new Converter7Bit(contextFor7BitConversion.get()).convertTo7Bit(original);
                }
            } catch (IOException e) {
                LOGGER.warn("Could not convert mail {} to 7 bit; sending as is", mail.getName(), e);
            }
        }
        return original;
    }

    /** Whether {@link Converter7Bit} would convert a part: one whose Content-Transfer-Encoding is 8bit, at any depth. */
    static boolean hasEightBitPart(MimePart part) throws MessagingException, IOException {
        if ("8bit".equalsIgnoreCase(part.getEncoding())) {
            return true;
        }
        if (part.isMimeType("multipart/*")) {
            Object content = part.getContent();
            if (content instanceof Multipart) {
                Multipart parts = (Multipart) content;
                for (int i = 0; i < parts.getCount(); i++) {
                    BodyPart child = parts.getBodyPart(i);
                    if (child instanceof MimePart && hasEightBitPart((MimePart) child)) {
                        return true;
                    }
                }
            }
        }
        return false;
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

    @Override
    public String toString() {
        return "AttemptRunner{helo " + heloName + "}";
    }
}
