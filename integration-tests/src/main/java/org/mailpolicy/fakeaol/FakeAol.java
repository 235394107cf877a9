package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.mail.MessagingException;

/**
 * A fake AOL inbound relay for tests and the sandbox: an SMTP server that answers as AOL's postmaster pages say AOL does,
 * and an HTTP control API ({@link ControlApi}) to switch its mode and read what it saw. Both listen on 127.0.0.1 only.
 *
 * <pre>{@code
 * try (FakeAol aol = FakeAol.start(FakeAolSettings.ephemeralPorts())) {
 *     aol.setMode(Mode.DYN_T1, Duration.ofSeconds(20));
 *     ... deliver to 127.0.0.1:aol.smtpPort() ...
 *     assertThat(aol.transactions()).extracting(Transaction::connectReply).containsOnly("421 4.7.1 : (DYN:T1)");
 * }
 * }</pre>
 */
public final class FakeAol implements AutoCloseable {
    private final AolRelay relay;
    private final TransactionLog log = new TransactionLog();
    private final List<ReceivedMessage> messages = new ArrayList<>();
    /**
     * The distinct recipients of {@link #messages} (lower case) and the latest arrival, kept as messages arrive: the
     * benchmarks ask every 50 ms, and going over every message each time (15,000 in a run) took a fifth of the CPU
     * samples of a fast run, from the machine the system measured runs on. Guarded by {@code messages}.
     */
    private final Set<String> distinctRecipients = new HashSet<>();
    private Instant lastArrival = Instant.EPOCH;
    private final AolSmtpServer smtp;
    private final ControlApi control;
    private final AtomicBoolean closed = new AtomicBoolean();

    private FakeAol(FakeAolSettings settings) throws IOException {
        this.relay = new AolRelay(settings.clock());
        this.smtp = AolSmtpServer.start(settings.smtpPort(), relay, log, this::keep, settings.maxMessageBytes(),
                settings.startTls(), settings.requiredLogin());
        try {
            this.control = ControlApi.start(this, settings.controlPort());
        } catch (IOException | RuntimeException e) {
            smtp.close();
            throw e;
        }
    }

    public static FakeAol start(FakeAolSettings settings) throws IOException {
        return new FakeAol(requireNonNull(settings, "settings"));
    }

    public int smtpPort() {
        return smtp.port();
    }

    public int controlPort() {
        return control.port();
    }

    /** Sets the mode until it is changed. */
    public void setMode(Mode mode) {
        setMode(ModeSetting.of(mode));
    }

    /** Sets the mode for a while, after which the fake returns to {@link Mode#NORMAL}. */
    public void setMode(Mode mode, Duration duration) {
        setMode(ModeSetting.of(mode).lasting(duration));
    }

    /** Sets a mode with its parameters; the rate modes start every client with a fresh budget. */
    public void setMode(ModeSetting setting) {
        relay.setMode(requireNonNull(setting, "setting"));
    }

    /**
     * Whether EHLO offers DSN, so that a client passes NOTIFY, ORCPT, RET and ENVID on (AOL's does not; {@link #reset()}
     * turns it off). The fake records the RCPT parameters ({@link RecipientReply#parameters()}) but sends no DSN itself.
     */
    public void advertiseDsn(boolean advertise) {
        smtp.advertiseDsn(advertise);
    }

    public ModeStatus mode() {
        return relay.mode();
    }

    /** Every connection and mail transaction so far, oldest first. */
    public List<Transaction> transactions() {
        return log.snapshot();
    }

    /** Every connection so far, oldest first, with the mail transactions it carried; cleared with the transactions. */
    public List<ConnectionSummary> connections() {
        return ConnectionSummary.of(log.snapshot(), smtp.openConnections());
    }

    /**
     * Closes every connection that is open between mail transactions, without a word (a restart, a firewall dropping an
     * idle flow): a client that kept it for its next mail finds it dead. Returns how many were closed.
     */
    public int dropIdleConnections() {
        return smtp.dropIdleConnections();
    }

    /** Mail transactions (MAIL FROM) started on a connection where STARTTLS had succeeded; cleared with the transactions. */
    public int mailsOverTls() {
        return smtp.mailsOverTls();
    }

    /** Successful SMTP AUTH logins (with {@link FakeAolSettings#withRequiredLogin}); cleared with the transactions. */
    public int logins() {
        return smtp.logins();
    }

    /** MAIL FROM commands refused with 530 for want of a login; cleared with the transactions. */
    public int mailsWithoutLogin() {
        return smtp.mailsWithoutLogin();
    }

    public void clearTransactions() {
        log.clear();
        smtp.resetTlsCount();
        smtp.resetLoginCounts();
    }

    /**
     * Messages accepted with 250 so far, oldest first; in {@link Mode#CHAOS} also those accepted and then left without a
     * reply (their transaction has no {@link Transaction#dataReply()}).
     */
    public List<ReceivedMessage> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    public void clearMessages() {
        synchronized (messages) {
            messages.clear();
            distinctRecipients.clear();
            lastArrival = Instant.EPOCH;
        }
    }

    /** How many distinct recipients (ignoring case) {@link #messages()} were addressed to. */
    public int distinctRecipients() {
        synchronized (messages) {
            return distinctRecipients.size();
        }
    }

    /** When the latest of {@link #messages()} arrived; the epoch when there is none. */
    public Instant lastArrival() {
        synchronized (messages) {
            return lastArrival;
        }
    }

    /**
     * Back to a fresh fake: NORMAL mode, no DSN in EHLO, no transactions, no messages, flaky recipients will be
     * deferred once more, and connections a client kept open between mails are closed, so that the next mail meets
     * the mode set after this (a connect-time refusal) on a connection of its own.
     */
    public void reset() {
        smtp.dropIdleConnections();
        relay.reset();
        smtp.advertiseDsn(false);
        clearTransactions();
        clearMessages();
    }

    /**
     * Sends AOL's asynchronous "undeliverable" bounce for {@link AolBounce#finalRecipient()}, returning the headers of
     * the original message if the fake holds one with the given Message-ID. Returns the bounce's Message-ID.
     */
    public String sendBounce(AolBounce bounce) throws MessagingException {
        requireNonNull(bounce, "bounce");
        Optional<ReceivedMessage> original = bounce.originalMessageId().flatMap(id -> messages().stream()
                .filter(m -> m.messageId().map(id::equals).orElse(false))
                .findFirst());
        return BounceSender.send(bounce, original);
    }

    /** Stops both servers; a greeting held back by SLOW is abandoned rather than waited for. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            control.close();
        } finally {
            smtp.close();
        }
    }

    /** The fake's clock, which may be a test's. */
    Instant now() {
        return relay.now();
    }

    private void keep(ReceivedMessage message) {
        synchronized (messages) {
            messages.add(message);
            for (String r : message.recipients()) {
                distinctRecipients.add(r.toLowerCase(Locale.ROOT));
            }
            if (message.receivedAt().isAfter(lastArrival)) {
                lastArrival = message.receivedAt();
            }
        }
    }

    @Override
    public String toString() {
        return "FakeAol{smtp=127.0.0.1:" + smtpPort() + ", control=http://127.0.0.1:" + controlPort() + ", mode="
                + mode().setting() + "}";
    }
}
