package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.function.Consumer;

import javax.net.ssl.SSLContext;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.auth.EasyAuthenticationHandlerFactory;
import org.subethamail.smtp.auth.LoginFailedException;
import org.subethamail.smtp.internal.io.DotTerminatedInputStream;
import org.subethamail.smtp.internal.io.DotUnstuffingInputStream;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;
import org.subethamail.smtp.server.SessionHandler;

/**
 * Carries {@link AolRelay}'s decisions onto SubEtha SMTP (com.github.davidmoten:subethasmtp 7.x, the maintained fork of
 * org.subethamail, which has had no release since 2012).
 *
 * <p>SubEtha's hooks used here: the {@link SessionHandler} answers the greeting (connect-time rejections, the delay of
 * SLOW, and the first lines of AOL's multi-line banner), and the server's command table gets AOL versions of EHLO,
 * MAIL, RCPT, DATA, RSET and NOOP, so that every reply is AOL's wording and is recorded exactly as sent. SubEtha writes
 * the last greeting line itself ({@code 220 <host> ESMTP <software>}); the banner therefore ends with the relay's name
 * instead of AOL's last notice line, which becomes a {@code 220-} line.
 */
final class AolSmtpServer implements AutoCloseable {
    /** Read buffer for a message's data; allocated for each message, so no larger than a typical message needs. */
    private static final int DATA_BUFFER_BYTES = 8 * 1024;

    private final AolRelay relay;
    private final TransactionLog log;
    private final Consumer<ReceivedMessage> acceptedMessages;
    private final long maxMessageBytes;
    private final Map<Session, Connection> connections = new ConcurrentHashMap<>();
    /** Numbers connections from 1 in the order they arrive, refused ones included. */
    private final AtomicInteger connectionNumbers = new AtomicInteger();
    /** Released on close so that a greeting held back by SLOW does not hold up the shutdown. */
    private final CountDownLatch closing = new CountDownLatch(1);
    private final SMTPServer server;
    /** Whether EHLO offers DSN (RFC 3461); AOL's does not, so off unless a test asks. */
    private volatile boolean advertiseDsn;
    private final boolean offersStartTls;
    /** MAIL FROM commands on a connection where STARTTLS had succeeded. */
    private final AtomicInteger mailsOverTls = new AtomicInteger();
    private final boolean requiresLogin;
    /** Successful AUTH commands: with connection reuse, one per connection, not one per mail. */
    private final AtomicInteger logins = new AtomicInteger();
    /** MAIL FROM commands refused with 530 because the connection had not logged in. */
    private final AtomicInteger mailsWithoutLogin = new AtomicInteger();

    private AolSmtpServer(int port, AolRelay relay, TransactionLog log, Consumer<ReceivedMessage> acceptedMessages,
            long maxMessageBytes, Optional<SSLContext> startTls, Optional<FakeAolSettings.Login> requiredLogin) {
        this.relay = requireNonNull(relay, "relay");
        this.log = requireNonNull(log, "log");
        this.acceptedMessages = requireNonNull(acceptedMessages, "acceptedMessages");
        this.maxMessageBytes = maxMessageBytes;
        this.offersStartTls = startTls.isPresent();
        SMTPServer.Builder builder = SMTPServer.port(port);
        // SubEtha's own STARTTLS command does the handshake; the EHLO below offers it.
        startTls.ifPresent(context -> builder.enableTLS().startTlsSocketFactory(context));
        this.requiresLogin = requiredLogin.isPresent();
        // SubEtha's AUTH command checks the login; the EHLO and MAIL commands below offer and require it.
        requiredLogin.ifPresent(login -> builder.authenticationHandlerFactory(new EasyAuthenticationHandlerFactory(
                (user, password, context) -> {
                    if (!login.user().equals(user) || !login.password().equals(password)) {
                        throw new LoginFailedException("535 5.7.8 Authentication credentials invalid");
                    }
                    logins.incrementAndGet();
                })));
        this.server = builder
                .bindAddress(InetAddress.getLoopbackAddress())
                .hostName(AolReplies.RELAY_HOST)
                .softwareName(AolReplies.RELAY_SOFTWARE)
                .sessionHandler(new Greeter())
                .messageHandlerFactory(this::currentTransaction)
                .serverThreadName("fake-aol-smtp")
                .build();
        server.getCommandHandler().addCommand(new EhloCommand());
        server.getCommandHandler().addCommand(new MailCommand());
        server.getCommandHandler().addCommand(new RcptCommand());
        server.getCommandHandler().addCommand(new DataCommand());
        server.getCommandHandler().addCommand(new ResetCommand());
        server.getCommandHandler().addCommand(new OkCommand("NOOP"));
        // AOL does not offer CHUNKING; SubEtha's BDAT would bypass the DATA rules.
        server.getCommandHandler().addCommand(new UnrecognizedCommand("BDAT"));
    }

    static AolSmtpServer start(int port, AolRelay relay, TransactionLog log, Consumer<ReceivedMessage> acceptedMessages,
            long maxMessageBytes, Optional<SSLContext> startTls, Optional<FakeAolSettings.Login> requiredLogin) {
        AolSmtpServer smtp = new AolSmtpServer(port, relay, log, acceptedMessages, maxMessageBytes, startTls,
                requiredLogin);
        smtp.server.start();
        return smtp;
    }

    int port() {
        return server.getPortAllocated();
    }

    /** MAIL FROM commands received over TLS since the last {@link #resetTlsCount()}. */
    int mailsOverTls() {
        return mailsOverTls.get();
    }

    void resetTlsCount() {
        mailsOverTls.set(0);
    }

    /** Successful logins since the last {@link #resetLoginCounts()}. */
    int logins() {
        return logins.get();
    }

    /** MAIL FROM commands refused for want of a login since the last {@link #resetLoginCounts()}. */
    int mailsWithoutLogin() {
        return mailsWithoutLogin.get();
    }

    void resetLoginCounts() {
        logins.set(0);
        mailsWithoutLogin.set(0);
    }

    void advertiseDsn(boolean advertise) {
        this.advertiseDsn = advertise;
    }

    /** The numbers of the connections open now. */
    Set<Integer> openConnections() {
        return connections.values().stream().map(c -> c.number).collect(Collectors.toUnmodifiableSet());
    }

    /**
     * Closes every open connection that is between mail transactions, without a word, as a server restart or a
     * firewall dropping an idle flow would. Returns how many were closed.
     */
    int dropIdleConnections() {
        int dropped = 0;
        for (Session session : connections.keySet()) {
            if (!session.isMailTransactionInProgress()) {
                try {
                    session.closeSocket();
                    dropped++;
                } catch (IOException e) {
                    // Already gone.
                }
            }
        }
        return dropped;
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop();
    }

    private MessageHandler currentTransaction(MessageContext context) {
        return connections.get(context).current;
    }

    private static void respond(Session session, ServerAction action) throws IOException {
        Optional<String> reply = action.replyText();
        if (reply.isPresent()) {
            session.sendResponse(reply.get());
        }
        if (action.closes()) {
            session.quit();
        }
    }

    /** The greeting: rejections and delays decided by the relay, then AOL's banner. */
    private final class Greeter implements SessionHandler {
        @Override
        public SessionAcceptance accept(Session session) {
            String client = session.getRealRemoteAddress().getAddress().getHostAddress();
            int number = connectionNumbers.incrementAndGet();
            AolRelay.ConnectDecision decision = relay.onConnect(client);
            if (!decision.delay().isZero() && waitUnlessClosing(decision.delay())) {
                return reject(number, client, ServerAction.replyAndClose(AolReplies.SHUTTING_DOWN));
            }
            if (decision.rejection().isPresent()) {
                return reject(number, client, decision.rejection().get());
            }
            Instant now = relay.now();
            List<String> banner = AolReplies.banner(now.atZone(ZoneOffset.UTC));
            String connectReply = String.join("\n", banner);
            connections.put(session, new Connection(number, client, connectReply, log.start(number, now, client, connectReply)));
            try {
                // All but the last line: SubEtha sends that one itself once this method returns.
                session.sendResponse(String.join("\r\n", banner.subList(0, banner.size() - 1)));
            } catch (IOException e) {
                // The client is gone; SubEtha notices on its next read and ends the session.
            }
            return SessionAcceptance.success();
        }

        @Override
        public void onSessionEnd(Session session) {
            connections.remove(session);
        }

        private SessionAcceptance reject(int number, String client, ServerAction rejection) {
            log.start(number, relay.now(), client, rejection.replyText().orElseThrow());
            return SessionAcceptance.failure(rejection.code(), rejection.textAfterCode());
        }

        /** True if the server started closing while waiting. */
        private boolean waitUnlessClosing(Duration delay) {
            try {
                return closing.await(delay.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
    }

    /** One accepted connection: its greeting, and the mail transaction in progress. */
    private final class Connection {
        final int number;
        final String client;
        final String connectReply;
        /** Holds the greeting until the first MAIL FROM fills it in, so a connection without mail still shows up. */
        final TransactionLog.Recording firstRecording;
        volatile MailTransaction current;

        Connection(int number, String client, String connectReply, TransactionLog.Recording firstRecording) {
            this.number = number;
            this.client = client;
            this.connectReply = connectReply;
            this.firstRecording = firstRecording;
        }

        TransactionLog.Recording recordingForNewMail() {
            return firstRecording.hasMailFrom() ? log.start(number, relay.now(), client, connectReply) : firstRecording;
        }
    }

    /**
     * Session's view of a mail transaction. SubEtha ends it ({@link #done()}) on RSET, EHLO, the end of DATA or the end
     * of the connection; the AOL commands below do the rest, so SubEtha's message callbacks are never used.
     */
    private static final class MailTransaction implements MessageHandler {
        final TransactionLog.Recording recording;
        final String reversePath;
        final List<String> acceptedRecipients = new ArrayList<>();

        MailTransaction(TransactionLog.Recording recording, String reversePath) {
            this.recording = recording;
            this.reversePath = reversePath;
        }

        @Override
        public void from(String from) {
            throw new IllegalStateException("MAIL is handled by the fake's own command");
        }

        @Override
        public void recipient(String recipient) {
            throw new IllegalStateException("RCPT is handled by the fake's own command");
        }

        @Override
        public String data(InputStream data) {
            throw new IllegalStateException("DATA is handled by the fake's own command");
        }

        @Override
        public void done() {
            // Nothing to release: the recording is already in the log and the body is not kept here.
        }
    }

    private final class EhloCommand extends BaseCommand {
        EhloCommand() {
            super("EHLO", "Introduce yourself.", "<hostname>");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            String[] args = getArgs(commandString);
            if (args.length < 2) {
                session.sendResponse("501 Syntax: EHLO hostname");
                return;
            }
            session.resetMailTransaction();
            session.setHelo(args[1]);
            // Seed 001: "250-rly-dd06.mx.aol.com yourhostname.example.com" then "250 HELP".
            // STARTTLS only before TLS: RFC 3207 4.2, a server must not offer it again inside the TLS session.
            boolean startTls = offersStartTls && !session.isTLSStarted();
            session.sendResponse("250-" + AolReplies.RELAY_HOST + " " + args[1] + "\r\n" + (advertiseDsn ? "250-DSN\r\n" : "")
                    + (startTls ? "250-STARTTLS\r\n" : "") + (requiresLogin ? "250-AUTH PLAIN LOGIN\r\n" : "")
                    + AolReplies.EHLO_LAST_LINE);
        }
    }

    private final class MailCommand extends BaseCommand {
        MailCommand() {
            super("MAIL", "Specifies the sender.", "FROM: <sender>");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            if (session.isMailTransactionInProgress()) {
                session.sendResponse("503 5.5.1 Sender already specified.");
                return;
            }
            String args = getArgPredicate(commandString);
            if (!args.toUpperCase(Locale.ROOT).startsWith("FROM:")) {
                session.sendResponse("501 Syntax: MAIL FROM: <address>");
                return;
            }
            if (requiresLogin && !session.isAuthenticated()) {
                mailsWithoutLogin.incrementAndGet();
                session.sendResponse("530 5.7.0 Authentication required");
                return;
            }
            Connection connection = connections.get(session);
            if (session.isTLSStarted()) {
                mailsOverTls.incrementAndGet();
            }
            String reversePath = pathArgument(args, 5);
            ServerAction action = relay.onMailFrom(connection.client);
            TransactionLog.Recording recording = connection.recordingForNewMail();
            recording.mailFrom(reversePath, action.replyText().orElseThrow());
            if (action.isPositive()) {
                connection.current = new MailTransaction(recording, reversePath);
                session.startMailTransaction();
            }
            respond(session, action);
        }
    }

    private final class RcptCommand extends BaseCommand {
        RcptCommand() {
            super("RCPT", "Specifies the recipient.", "TO: <recipient>");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            if (!session.isMailTransactionInProgress()) {
                session.sendResponse("503 5.5.1 Error: need MAIL command");
                return;
            }
            String args = getArgPredicate(commandString);
            String address = args.toUpperCase(Locale.ROOT).startsWith("TO:") ? pathArgument(args, 3)
                    : "";
            if (address.isEmpty()) {
                session.sendResponse("501 Syntax: RCPT TO: <address>");
                return;
            }
            MailTransaction transaction = (MailTransaction) session.getMessageHandler();
            ServerAction action = relay.onRecipient(connections.get(session).client, address);
            transaction.recording.recipient(address, parametersAfterPath(args, 3), action.replyText().orElseThrow());
            if (action.isPositive()) {
                transaction.acceptedRecipients.add(address);
                session.addRecipient(address);
            }
            respond(session, action);
        }
    }

    private final class DataCommand extends BaseCommand {
        DataCommand() {
            super("DATA", "Following text is collected as the message.\nEnd data with <CR><LF>.<CR><LF>");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            if (!session.isMailTransactionInProgress()) {
                session.sendResponse("503 5.5.1 Error: need MAIL command");
                return;
            }
            MailTransaction transaction = (MailTransaction) session.getMessageHandler();
            if (transaction.acceptedRecipients.isEmpty()) {
                session.sendResponse("503 5.5.1 Error: need RCPT command");
                return;
            }
            session.sendResponse(AolReplies.START_MAIL_INPUT);
            InputStream data = new DotUnstuffingInputStream(new DotTerminatedInputStream(
                    new BufferedInputStream(session.getRawInput(), DATA_BUFFER_BYTES)));
            Optional<byte[]> body = readUpTo(data, maxMessageBytes);

            ServerAction action = relay.onEndOfData(connections.get(session).client, transaction.acceptedRecipients,
                    body.isEmpty());
            transaction.recording.dataReply(action.replyText().orElse(null));
            if (action.acceptsMessage()) {
                acceptedMessages.accept(ReceivedMessage.of(relay.now(), connections.get(session).client,
                        transaction.reversePath, transaction.acceptedRecipients, body.get()));
            }
            respond(session, action);
            if (!action.closes()) {
                session.resetMailTransaction();
            }
        }
    }

    /**
     * Reads the message to its end. Returns empty if it is larger than the limit, having dropped what it had buffered as
     * soon as the limit was passed, so an oversized message never holds more than the limit in memory.
     */
    static Optional<byte[]> readUpTo(InputStream data, long maxBytes) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(8192);
        byte[] chunk = new byte[DATA_BUFFER_BYTES];
        long total = 0;
        int read;
        while ((read = data.read(chunk)) != -1) {
            total += read;
            if (buffer != null) {
                if (total > maxBytes) {
                    buffer = null;
                } else {
                    buffer.write(chunk, 0, read);
                }
            }
        }
        return buffer == null ? Optional.empty() : Optional.of(buffer.toByteArray());
    }

    /**
     * The address in {@code <...>} (or the first word, for clients that omit the brackets) after the {@code FROM:} or
     * {@code TO:} at {@code offset}; ESMTP parameters after it are ignored. SubEtha's own EmailUtils cannot be used: it
     * links jakarta.mail, which this module leaves off the classpath.
     */
    static String pathArgument(String args, int offset) {
        String rest = args.substring(offset).trim();
        if (rest.startsWith("<")) {
            int close = rest.indexOf('>');
            return (close < 0 ? rest.substring(1) : rest.substring(1, close)).trim();
        }
        int space = rest.indexOf(' ');
        return space < 0 ? rest : rest.substring(0, space);
    }

    /** What follows the path in {@code args} (ESMTP parameters such as NOTIFY), trimmed; empty if nothing does. */
    static String parametersAfterPath(String args, int offset) {
        String rest = args.substring(offset).trim();
        int end = rest.startsWith("<") ? rest.indexOf('>') : rest.indexOf(' ');
        return end < 0 ? "" : rest.substring(end + 1).trim();
    }

    private static final class ResetCommand extends BaseCommand {
        ResetCommand() {
            super("RSET", "Resets the system.");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.resetMailTransaction();
            session.sendResponse(AolReplies.OK);
        }
    }

    private static final class OkCommand extends BaseCommand {
        OkCommand(String verb) {
            super(verb, "Does nothing.");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.sendResponse(AolReplies.OK);
        }
    }

    private static final class UnrecognizedCommand extends BaseCommand {
        UnrecognizedCommand(String verb) {
            super(verb, "Not offered by this relay.");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.sendResponse(AolReplies.COMMAND_UNRECOGNIZED);
        }
    }
}
