package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.mail.Session;
import javax.mail.internet.MimeMessage;
import org.apache.james.core.MailAddress;
import org.apache.james.core.builder.MimeMessageBuilder;
import org.apache.mailet.HostAddress;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mailpolicy.destination.ConnectionSettings;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The core proof that each recipient's own reply, the end-of-data reply and a rejected greeting's
 * text reach the engine: JavaMail against a scripted SubEtha SMTP server on a local port.
 */
class AttemptRunnerTest {
    /** Reply per recipient at RCPT; absent means 250. */
    private final Map<String, RejectException> rcptReplies = new ConcurrentHashMap<>();
    private volatile RejectException mailFromReply;
    private final List<String> envelopeSenders = new CopyOnWriteArrayList<>();
    private volatile RejectException dataReply;
    /** Recipients of each accepted message, as the server saw them. */
    private final List<List<String>> accepted = new CopyOnWriteArrayList<>();
    /** The DATA of each transaction, as the server read it. */
    private final List<byte[]> data = new CopyOnWriteArrayList<>();
    /** Every SMTP session (connection) the server saw a mail transaction on, in order. */
    private final List<org.subethamail.smtp.server.Session> sessions = new CopyOnWriteArrayList<>();
    private SMTPServer server;

    @BeforeEach
    void startServer() {
        server = SMTPServer.port(0).bindAddress(InetAddress.getLoopbackAddress()).hostName("mx.test")
                .messageHandlerFactory(ctx -> {
                    org.subethamail.smtp.server.Session session = (org.subethamail.smtp.server.Session) ctx;
                    if (!sessions.contains(session)) {
                        sessions.add(session);
                    }
                    return new ScriptedHandler();
                }).build();
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop();
    }

    private final class ScriptedHandler implements MessageHandler {
        private final List<String> recipients = new CopyOnWriteArrayList<>();

        @Override
        public void from(String from) throws RejectException {
            envelopeSenders.add(from);
            if (mailFromReply != null) {
                throw mailFromReply;
            }
        }

        @Override
        public void recipient(String recipient) throws RejectException {
            RejectException r = rcptReplies.get(recipient);
            if (r != null) {
                throw r;
            }
            recipients.add(recipient);
        }

        @Override
        public String data(InputStream data) throws RejectException, IOException {
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            data.transferTo(sink);
            AttemptRunnerTest.this.data.add(sink.toByteArray());
            if (dataReply != null) {
                throw dataReply;
            }
            accepted.add(ImmutableList.copyOf(recipients));
            return null;
        }

        @Override
        public void done() {
        }
    }

    private static AttemptRunner runner() {
        return AttemptRunner.withProperties(properties());
    }

    private static Properties properties() {
        Properties p = new Properties();
        p.put("mail.smtp.localhost", "james.test");
        p.put("mail.smtp.connectiontimeout", "5000");
        p.put("mail.smtp.timeout", "5000");
        return p;
    }

    private static HostAddress host(int port) {
        return new HostAddress("mx.test", "smtp://127.0.0.1:" + port);
    }

    private static Mail mail(String... recipients) throws Exception {
        return FakeMail.builder().name("mail-1").sender("sender@example.com").recipients(recipients)
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject("hello").setText("body")
                        .addHeader("Message-ID", "<m1@example.com>"))
                .build();
    }

    private static List<MailAddress> addresses(Mail mail) {
        return ImmutableList.copyOf(mail.getRecipients());
    }

    @Test
    void mixedTransactionKeepsEachRecipientsOwnReply() throws Exception {
        rcptReplies.put("gone@aol.com", new RejectException(550, "5.1.1 <gone@aol.com>: Recipient address rejected: aol.com"));
        rcptReplies.put("full@aol.com", new RejectException(452, "4.2.2 <full@aol.com>: mailbox full, try later"));
        Mail mail = mail("ok@aol.com", "gone@aol.com", "full@aol.com");

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        MailAddress ok = new MailAddress("ok@aol.com");
        MailAddress gone = new MailAddress("gone@aol.com");
        MailAddress full = new MailAddress("full@aol.com");
        assertThat(result.delivered()).containsExactly(ok);
        assertThat(result.transactionFailure()).isEmpty();
        SmtpReply goneReply = result.replyFor(gone).get();
        assertThat(goneReply.code()).hasValue(550);
        assertThat(goneReply.stage()).isEqualTo(Stage.RCPT);
        assertThat(goneReply.enhancedStatus()).contains(EnhancedStatus.of(5, 1, 1));
        assertThat(goneReply.text()).contains("Recipient address rejected");
        SmtpReply fullReply = result.replyFor(full).get();
        assertThat(fullReply.code()).hasValue(452);
        assertThat(fullReply.enhancedStatus()).contains(EnhancedStatus.of(4, 2, 2));
        assertThat(fullReply.text()).contains("mailbox full");
        assertThat(result.remoteHost()).contains("mx.test");
        assertThat(accepted).containsExactly(ImmutableList.of("ok@aol.com"));
    }

    @Test
    void endOfDataRefusalConcernsEveryRecipientNotRefusedOnItsOwn() throws Exception {
        rcptReplies.put("gone@aol.com", new RejectException(550, "5.1.1 no such user"));
        dataReply = new RejectException(554, "5.7.1 [CS01] Message rejected due to content");
        Mail mail = mail("a@aol.com", "gone@aol.com", "b@aol.com");

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).isEmpty();
        assertThat(result.replyFor(new MailAddress("gone@aol.com")).get().code()).hasValue(550);
        SmtpReply a = result.replyFor(new MailAddress("a@aol.com")).get();
        assertThat(a.stage()).isEqualTo(Stage.END_OF_DATA);
        assertThat(a.code()).hasValue(554);
        assertThat(a.text()).contains("[CS01]");
        assertThat(result.replyFor(new MailAddress("b@aol.com"))).contains(a);
        assertThat(accepted).isEmpty();
    }

    @Test
    void allRecipientsRefusedGivesEachItsReplyAndNoData() throws Exception {
        rcptReplies.put("x@aol.com", new RejectException(550, "5.1.1 no x"));
        rcptReplies.put("y@aol.com", new RejectException(421, "4.7.0 RTR:BB try later"));
        Mail mail = mail("x@aol.com", "y@aol.com");

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).isEmpty();
        assertThat(result.transactionFailure()).isEmpty();
        assertThat(result.replyFor(new MailAddress("x@aol.com")).get().code()).hasValue(550);
        SmtpReply y = result.replyFor(new MailAddress("y@aol.com")).get();
        assertThat(y.code()).hasValue(421);
        assertThat(y.tokens()).contains("RTR:BB");
        assertThat(accepted).isEmpty();
    }

    @Test
    void nullSenderIsSentAsTheEmptyPathNotTheFromHeader() throws Exception {
        Mail mail = FakeMail.builder().name("dsn-1").sender(org.apache.james.core.MaybeSender.nullSender())
                .recipients("a@aol.com")
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject("a DSN").setText("body")
                        .addFrom("mailer-daemon@example.com"))
                .build();

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).containsExactly(new MailAddress("a@aol.com"));
        assertThat(envelopeSenders).containsExactly("");
    }

    @Test
    void theDataSentIsTheMailsOwnMessageWithoutItsBcc() throws Exception {
        Mail mail = FakeMail.builder().name("mail-1").sender("sender@example.com").recipients("a@aol.com", "b@aol.com")
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject("hello").setText("line one\r\n.line two")
                        .addHeader("Message-ID", "<m1@example.com>").addHeader("Bcc", "hidden@example.com"))
                .build();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        mail.getMessage().writeTo(expected, new String[] {"Bcc", "Content-Length"});

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).hasSize(2);
        assertThat(data).hasSize(1);
        String sent = new String(data.get(0), StandardCharsets.UTF_8);
        assertThat(sent).contains("Subject: hello", "Message-ID: <m1@example.com>", "line one\r\n.line two")
                .doesNotContain("hidden@example.com");
        // The server puts its Received line first, and JavaMail ends the data with a line break.
        assertThat(sent).as("byte for byte the mail's message (the dot of line two unstuffed by the server)")
                .startsWith("Received: ").endsWith(new String(expected.toByteArray(), StandardCharsets.UTF_8) + "\r\n");
    }

    /** EHLO as AOL's: no 8BITMIME, so a mail with an 8bit part must be converted to 7 bit first. */
    private void offerNo8BitMime() {
        server.getCommandHandler().addCommand(new BaseCommand("EHLO", "Introduce yourself.", "<hostname>") {
            @Override
            public void execute(String commandString, org.subethamail.smtp.server.Session session) throws IOException {
                session.resetMailTransaction();
                session.setHelo(getArgs(commandString)[1]);
                session.sendResponse("250-mx.test\r\n250 HELP");
            }
        });
    }

    private static Mail mailOf(String message) throws Exception {
        return FakeMail.builder().name("mail-1").sender("sender@example.com").recipients("a@aol.com")
                .mimeMessage(new MimeMessage(Session.getInstance(new Properties()),
                        new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8))))
                .build();
    }

    @Test
    void aMessageWithoutAn8BitPartGoesAsItIsToAServerWithout8BitMime() throws Exception {
        offerNo8BitMime();
        // No MIME-Version, Date or Message-ID: saving the message would add all three.
        String message = "From: sender@example.com\r\nSubject: plain\r\nContent-Type: text/plain\r\n\r\nline one\r\n";
        Mail mail = mailOf(message);

        AttemptResult result = AttemptRunner.withProperties(properties(), FakeMailContext.defaultContext())
                .attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).hasSize(1);
        assertThat(new String(data.get(0), StandardCharsets.UTF_8)).startsWith("Received: ").endsWith("\r\n" + message);
    }

    @Test
    void an8BitPartIsConvertedForAServerWithout8BitMime() throws Exception {
        offerNo8BitMime();
        Mail mail = mailOf("From: sender@example.com\r\nSubject: accents\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                + "--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
                + "--b\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nH\u00e9llo\r\n"
                + "--b--\r\n");

        AttemptResult result = AttemptRunner.withProperties(properties(), FakeMailContext.defaultContext())
                .attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).hasSize(1);
        assertThat(new String(data.get(0), StandardCharsets.UTF_8))
                .contains("Content-Transfer-Encoding: quoted-printable", "H=C3=A9llo", "X-MIME-Autoconverted: from 8bit")
                .doesNotContain("Content-Transfer-Encoding: 8bit");
    }

    @Test
    void an8BitPartIsSentAsItIsToAServerWith8BitMime() throws Exception {
        Mail mail = mailOf("From: sender@example.com\r\nSubject: accents\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nH\u00e9llo\r\n");

        AttemptRunner.withProperties(properties(), FakeMailContext.defaultContext())
                .attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(new String(data.get(0), StandardCharsets.UTF_8)).endsWith("Content-Transfer-Encoding: 8bit\r\n\r\nH\u00e9llo\r\n");
    }

    @Test
    void envelopeSenderIsTheMailsSender() throws Exception {
        Mail mail = mail("a@aol.com");

        runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(envelopeSenders).containsExactly("sender@example.com");
    }

    @Test
    void oneRunnerKeepsEachMailsOwnEnvelopeSender() throws Exception {
        AttemptRunner runner = runner();
        Mail fromAlice = FakeMail.builder().name("m-a").sender("alice@example.com").recipients("a@aol.com")
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject("a").setText("body")).build();
        Mail fromBob = FakeMail.builder().name("m-b").sender("bob@example.com").recipients("b@aol.com")
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject("b").setText("body")).build();

        for (Mail mail : List.of(fromAlice, fromBob, fromAlice)) {
            runner.attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());
        }

        assertThat(envelopeSenders).containsExactly("alice@example.com", "bob@example.com", "alice@example.com");
    }

    @Test
    void aNotifyWrittenInAnotherCaseIsPassedOnForTheRecipient() throws Exception {
        // James keys the parameters by the address as the client wrote it in RCPT TO; the recipient list spells it otherwise.
        Mail mail = mail("bob@aol.com", "carol@aol.com");
        mail.setDsnParameters(org.apache.mailet.DsnParameters.builder()
                .addRcptParameter(new MailAddress("Bob@AOL.com"), org.apache.mailet.DsnParameters.RecipientDsnParameters.of(
                        java.util.EnumSet.of(org.apache.mailet.DsnParameters.Notify.NEVER)))
                .build().get());

        assertThat(EnvelopeMessage.notifyGroups(mail, addresses(mail))).containsExactly(
                Map.entry(java.util.Optional.of(com.sun.mail.smtp.SMTPMessage.NOTIFY_NEVER),
                        List.of(new MailAddress("bob@aol.com"))),
                Map.entry(java.util.Optional.empty(), List.of(new MailAddress("carol@aol.com"))));
    }

    @Test
    void recipientsAskingForDifferentNotifyGetTheirOwnTransaction() throws Exception {
        rcptReplies.put("b@aol.com", new RejectException(550, "5.1.1 no b"));
        Mail mail = mail("a@aol.com", "b@aol.com", "c@aol.com", "d@aol.com");
        mail.setDsnParameters(org.apache.mailet.DsnParameters.builder()
                .addRcptParameter(new MailAddress("a@aol.com"), org.apache.mailet.DsnParameters.RecipientDsnParameters.of(
                        java.util.EnumSet.of(org.apache.mailet.DsnParameters.Notify.FAILURE)))
                .addRcptParameter(new MailAddress("b@aol.com"), org.apache.mailet.DsnParameters.RecipientDsnParameters.of(
                        java.util.EnumSet.of(org.apache.mailet.DsnParameters.Notify.NEVER)))
                .addRcptParameter(new MailAddress("d@aol.com"), org.apache.mailet.DsnParameters.RecipientDsnParameters.of(
                        java.util.EnumSet.of(org.apache.mailet.DsnParameters.Notify.FAILURE)))
                .build().get());

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).containsExactlyInAnyOrder(new MailAddress("a@aol.com"), new MailAddress("c@aol.com"),
                new MailAddress("d@aol.com"));
        assertThat(result.replyFor(new MailAddress("b@aol.com")).get().code()).hasValue(550);
        assertThat(accepted).containsExactly(ImmutableList.of("a@aol.com", "d@aol.com"), ImmutableList.of("c@aol.com"));
    }

    @Test
    void mailFromRefusalIsAttributedToTheMailStage() throws Exception {
        mailFromReply = new RejectException(550, "5.7.1 sender blocked HVU:B1");
        Mail mail = mail("a@aol.com");

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        SmtpReply r = result.replyFor(new MailAddress("a@aol.com")).get();
        assertThat(r.stage()).isEqualTo(Stage.MAIL);
        assertThat(r.code()).hasValue(550);
        assertThat(r.tokens()).contains("HVU:B1");
    }

    @Test
    void rejectedGreetingTextIsCaptured() throws Exception {
        String greeting = "421 DYN:T1 mtaout-mb05.mx.aol.com Connections will not be accepted from 192.0.2.1,"
                + " because the ip is in Spamhaus's list; see http://postmaster.info.aol.com/errors/421dynt1.html";
        try (ServerSocket refusing = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = refusing.accept(); OutputStream out = s.getOutputStream()) {
                    out.write((greeting + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    s.getInputStream().read();
                } catch (IOException e) {
                    // the client hung up: expected
                }
            });
            t.start();
            Mail mail = mail("a@aol.com", "b@aol.com");

            AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(refusing.getLocalPort())).iterator());
            t.join(5000);

            SmtpReply r = result.transactionFailure().get();
            assertThat(r.stage()).isEqualTo(Stage.CONNECT);
            assertThat(r.code()).hasValue(421);
            assertThat(r.tokens()).contains("DYN:T1");
            assertThat(r.text()).contains("Connections will not be accepted");
            assertThat(result.replyFor(new MailAddress("b@aol.com"))).contains(r);
        }
    }

    @Test
    void aServerWithoutDsnIsRecordedWithTheReplyThatAcceptedTheMessage() throws Exception {
        Mail mail = mail("ok@aol.com");

        AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator());

        assertThat(result.delivered()).containsExactly(new MailAddress("ok@aol.com"));
        assertThat(result.nextHopSupportsDsn()).isFalse();
        assertThat(result.acceptedReply(new MailAddress("ok@aol.com"))).hasValueSatisfying(r -> assertThat(r).startsWith("250"));
    }

    @Test
    void aServerAdvertisingDsnIsRecorded() throws Exception {
        try (ServerSocket scripted = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = scripted.accept()) {
                    java.io.BufferedReader in = new java.io.BufferedReader(
                            new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    OutputStream out = s.getOutputStream();
                    out.write("220 mx.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("250-mx.test\r\n250 DSN\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("250 2.1.0 ok\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("250 2.1.5 ok\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("354 go ahead\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    for (String line = in.readLine(); line != null && !line.equals("."); line = in.readLine()) {
                        // the message
                    }
                    out.write("250 2.0.0 Ok: queued as DSN1\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    in.readLine();
                    out.write("221 bye\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // the client hung up
                }
            });
            t.start();
            Mail mail = mail("ok@aol.com");

            AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(scripted.getLocalPort())).iterator());
            t.join(5000);

            assertThat(result.delivered()).as(result.toString()).containsExactly(new MailAddress("ok@aol.com"));
            assertThat(result.nextHopSupportsDsn()).isTrue();
            assertThat(result.acceptedReply(new MailAddress("ok@aol.com"))).contains("250 2.0.0 Ok: queued as DSN1");
        }
    }

    @Test
    void refusalFollowedByHangUpKeepsTheRefusalText() throws Exception {
        try (ServerSocket scripted = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = scripted.accept()) {
                    java.io.BufferedReader in = new java.io.BufferedReader(
                            new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    OutputStream out = s.getOutputStream();
                    out.write("220 mx.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("250 mx.test\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("250 2.1.0 ok\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine();
                    out.write("421 4.7.0 DYN:T1 too many connections, closing\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // the client hung up: expected
                }
            });
            t.start();
            Mail mail = mail("a@aol.com", "b@aol.com");

            AttemptResult result = runner().attempt(mail, addresses(mail), ImmutableList.of(host(scripted.getLocalPort())).iterator());
            t.join(5000);

            assertThat(result.delivered()).as(result.toString()).isEmpty();
            for (MailAddress r : addresses(mail)) {
                SmtpReply reply = result.replyFor(r).get();
                assertThat(reply.code()).hasValue(421);
                assertThat(reply.tokens()).contains("DYN:T1");
            }
        }
    }

    @Test
    void refusedConnectionMovesToTheNextHostAndIsDescribedWhenAllFail() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Mail mail = mail("a@aol.com");

        AttemptResult delivered = runner().attempt(mail, addresses(mail),
                ImmutableList.of(host(closedPort), host(server.getPortAllocated())).iterator());
        assertThat(delivered.delivered()).containsExactly(new MailAddress("a@aol.com"));

        AttemptResult failed = runner().attempt(mail, addresses(mail), ImmutableList.of(host(closedPort)).iterator());
        SmtpReply r = failed.transactionFailure().get();
        assertThat(r.code()).isEmpty();
        assertThat(r.stage()).isEqualTo(Stage.CONNECT);
        assertThat(r.raw()).containsIgnoringCase("connect");
    }

    private static final ConnectionTerms REUSE = ConnectionTerms.of("aol", "aol",
            ConnectionSettings.of(20, Duration.ofSeconds(30)), 5);

    private Mail mailFrom(String name, String sender, String recipient) throws Exception {
        return FakeMail.builder().name(name).sender(sender).recipients(recipient)
                .mimeMessage(MimeMessageBuilder.mimeMessageBuilder().setSubject(name).setText("body")).build();
    }

    private AttemptResult send(AttemptRunner runner, Mail mail, ConnectionTerms terms) {
        return runner.attempt(mail, addresses(mail), ImmutableList.of(host(server.getPortAllocated())).iterator(), terms);
    }

    @Test
    void oneConnectionCarriesSeveralMailsEachWithItsOwnEnvelopeSender() throws Exception {
        AttemptRunner runner = runner();
        for (String sender : List.of("alice@example.com", "bob@example.com", "alice@example.com")) {
            Mail mail = mailFrom("m-" + sender, sender, "a@aol.com");
            assertThat(send(runner, mail, REUSE).delivered()).containsExactly(new MailAddress("a@aol.com"));
        }

        assertThat(sessions).hasSize(1);
        assertThat(envelopeSenders).containsExactly("alice@example.com", "bob@example.com", "alice@example.com");
        assertThat(accepted).hasSize(3);
    }

    @Test
    void aConnectionCarriesAtMostMaxMessages() throws Exception {
        AttemptRunner runner = runner();
        ConnectionTerms two = ConnectionTerms.of("aol", "aol", ConnectionSettings.of(2, Duration.ofSeconds(30)), 5);
        for (int i = 0; i < 5; i++) {
            send(runner, mailFrom("m" + i, "s@example.com", "a@aol.com"), two);
        }

        assertThat(sessions).hasSize(3);
        assertThat(accepted).hasSize(5);
    }

    @Test
    void aConnectionThatGotA421IsNotReused() throws Exception {
        AttemptRunner runner = runner();
        rcptReplies.put("busy@aol.com", new RejectException(421, "4.7.0 try again later"));
        AttemptResult refused = send(runner, mailFrom("m1", "s@example.com", "busy@aol.com"), REUSE);
        assertThat(refused.replyFor(new MailAddress("busy@aol.com")).get().code()).hasValue(421);

        send(runner, mailFrom("m2", "s@example.com", "a@aol.com"), REUSE);

        assertThat(sessions).hasSize(2);
        assertThat(accepted).hasSize(1);
    }

    /** Probes before every reuse, as Postfix does. */
    private static final ConnectionTerms REUSE_PROBING = ConnectionTerms.of("aol", "aol",
            ConnectionSettings.of(20, Duration.ofSeconds(30), Duration.ZERO), 5);

    /** Counts the RSET commands the server gets, answering them as SubEtha does. */
    private java.util.concurrent.atomic.AtomicInteger countRsets() {
        java.util.concurrent.atomic.AtomicInteger rsets = new java.util.concurrent.atomic.AtomicInteger();
        server.getCommandHandler().addCommand(new BaseCommand("RSET", "Resets the system.") {
            @Override
            public void execute(String commandString, org.subethamail.smtp.server.Session session) throws IOException {
                rsets.incrementAndGet();
                session.resetMailTransaction();
                session.sendResponse("250 Ok");
            }
        });
        return rsets;
    }

    /**
     * Three mails on one connection, each taken back at once after a 250 to the end of data: no RSET under the default
     * {@code rsetAfterIdle} (1 s), one before each reuse at 0s.
     */
    @ParameterizedTest
    @CsvSource({"false, 0", "true, 2"})
    void rsetBeforeAReuseOnlyWhenIdleLongEnough(boolean probeEveryReuse, int expectedRsets) throws Exception {
        java.util.concurrent.atomic.AtomicInteger rsets = countRsets();
        AttemptRunner runner = runner();
        for (int i = 0; i < 3; i++) {
            send(runner, mailFrom("m" + i, "s@example.com", "a@aol.com"), probeEveryReuse ? REUSE_PROBING : REUSE);
        }

        assertThat(sessions).hasSize(1);
        assertThat(accepted).hasSize(3);
        assertThat(rsets).hasValue(expectedRsets);
    }

    @ParameterizedTest
    @ValueSource(strings = {"MAIL", "DATA"})
    void afterARefusedMailTheConnectionIsResetOnceBeforeTheNext(String refusedAt) throws Exception {
        java.util.concurrent.atomic.AtomicInteger rsets = countRsets();
        AttemptRunner runner = runner();
        if (refusedAt.equals("MAIL")) {
            mailFromReply = new RejectException(451, "4.3.0 try later");
        } else {
            dataReply = new RejectException(554, "5.7.1 refused");
        }
        send(runner, mailFrom("m1", "s@example.com", "a@aol.com"), REUSE);
        mailFromReply = null;
        dataReply = null;

        send(runner, mailFrom("m2", "s@example.com", "b@aol.com"), REUSE);

        assertThat(sessions).hasSize(1);
        assertThat(rsets).as("one RSET between the refused mail and the next, whoever sends it").hasValue(1);
        assertThat(accepted).containsExactly(List.of("b@aol.com"));
    }

    /** Found dead at MAIL FROM (no probe: the connection was idle under a second) or by the RSET probe. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aDeadIdleConnectionIsReplacedWithinTheAttemptAndTheMailGoesOnce(boolean probed) throws Exception {
        AttemptRunner runner = runner();
        ConnectionTerms terms = probed ? REUSE_PROBING : REUSE;
        send(runner, mailFrom("m1", "s@example.com", "a@aol.com"), terms);
        // The server drops the idle connection without a word (a restart, a NAT timeout).
        sessions.get(0).closeSocket();

        AttemptResult second = send(runner, mailFrom("m2", "s@example.com", "b@aol.com"), terms);

        assertThat(second.delivered()).containsExactly(new MailAddress("b@aol.com"));
        assertThat(sessions).hasSize(2);
        assertThat(accepted).containsExactly(List.of("a@aol.com"), List.of("b@aol.com"));
    }

    @Test
    void a421ToMailFromOnAReusedConnectionIsTheAnswerNotADeadConnection() throws Exception {
        AttemptRunner runner = runner();
        send(runner, mailFrom("m1", "s@example.com", "a@aol.com"), REUSE);
        mailFromReply = new RejectException(421, "4.7.1 : (DYN:T1)");

        AttemptResult throttled = send(runner, mailFrom("m2", "s@example.com", "b@aol.com"), REUSE);

        // Connecting again at once would hammer a throttling receiver: the reply goes to the policy.
        assertThat(throttled.replyFor(new MailAddress("b@aol.com")).get().tokens()).contains("DYN:T1");
        assertThat(sessions).hasSize(1);
        mailFromReply = null;
        send(runner, mailFrom("m3", "s@example.com", "c@aol.com"), REUSE);
        assertThat(sessions).as("not reused after the 421").hasSize(2);
    }

    @Test
    void withoutReuseEveryMailHasItsOwnConnection() throws Exception {
        AttemptRunner runner = runner();
        for (int i = 0; i < 3; i++) {
            send(runner, mailFrom("m" + i, "s@example.com", "a@aol.com"), ConnectionTerms.singleUse());
        }

        assertThat(sessions).hasSize(3);
    }
}
