package org.mailpolicy.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.mail.Folder;
import javax.mail.Message;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.Store;
import javax.mail.Transport;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;

import org.apache.james.core.MailAddress;
import org.apache.james.lifecycle.api.LifecycleUtil;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Mail;
import org.mailpolicy.fakeaol.FakeAol;
import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.testing.FixedDns;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.QueueProbe;
import org.mailpolicy.james.testing.RepoLayout;
import org.mailpolicy.james.testing.RunningJames;
import org.mailpolicy.state.DestinationStateStore;

/**
 * One system under benchmark: a fake AOL and a real James 3.8.1 in this JVM, either with the plugin (the repository's
 * {@code config/mailetcontainer.xml} and a policy) or stock (the same file with James's own RemoteDelivery and DSNBounce
 * put back, the plugin's other mailets taken out). Mail is submitted over SMTP as alice@sandbox.test, who receives the
 * DSNs.
 */
final class BenchSystem implements AutoCloseable {
    static final String SENDER = "alice@sandbox.test";
    /** The queue both RemoteDelivery and PolicyRemoteDelivery deliver from (config/mailetcontainer.xml's {@code outgoing}). */
    static final String OUTGOING_QUEUE = "outgoing";
    private static final String PASSWORD = "secret";
    static final FixedDns DNS = FixedDns.loopbackMx(List.of("aol.com"));
    private static final String BODY = "Benchmark message.\r\n".repeat(50);

    final String name;
    final FakeAol aol;
    final RunningJames james;
    private final Path workDir;

    private BenchSystem(String name, FakeAol aol, RunningJames james, Path workDir) {
        this.name = name;
        this.aol = aol;
        this.james = james;
        this.workDir = workDir;
    }

    /**
     * James with the plugin: {@code policyForPort} makes the policy from the fake's SMTP port; the scaled built-in rules
     * ({@link BenchPolicy#RULES_FILE}) are written next to it.
     */
    static BenchSystem plugin(ModeSetting mode, int scale, IntFunction<String> policyForPort) throws Exception {
        return plugin(mode, scale, FakeAolSettings.ephemeralPorts(), DNS, policyForPort);
    }

    /** As {@link #plugin(ModeSetting, int, IntFunction)}, with the fake on these ports and James resolving from {@code dns}. */
    static BenchSystem plugin(ModeSetting mode, int scale, FakeAolSettings fake, FixedDns dns,
            IntFunction<String> policyForPort) throws Exception {
        return boot("plugin", mode, fake, port -> JamesSetup.of(tempDir(), JamesPorts.EPHEMERAL, dns,
                policyForPort.apply(port)).withConfFile(BenchPolicy.RULES_FILE, BenchPolicy.scaledRules(scale)));
    }

    /** Stock James 3.8.1: RemoteDelivery to the fake as its gateway, with these retry delays. */
    static BenchSystem stock(ModeSetting mode, List<Duration> delays, int maxRetries) throws Exception {
        return stock(mode, delays, maxRetries, FakeAolSettings.ephemeralPorts(), false);
    }

    /**
     * As {@link #stock(ModeSetting, List, int)}, with the fake as given; with {@code startTls}, RemoteDelivery sends
     * STARTTLS and trusts any certificate ({@code mail.smtp.ssl.trust *}, {@code verifyServerIdentity false}: JavaMail
     * otherwise refuses the fake's self-signed one, and stock James has no plaintext fallback), what the plugin's
     * opportunistic TLS does.
     */
    static BenchSystem stock(ModeSetting mode, List<Duration> delays, int maxRetries, FakeAolSettings fake,
            boolean startTls) throws Exception {
        return boot("stock", mode, fake, port -> JamesSetup.of(tempDir(), JamesPorts.EPHEMERAL, DNS, "version: 1\n")
                .withMailetContainer(stockMailetContainer(port, delays, maxRetries, startTls)));
    }

    private interface SetupForPort {
        JamesSetup make(int fakeAolPort) throws IOException;
    }

    private static BenchSystem boot(String name, ModeSetting mode, FakeAolSettings fake, SetupForPort setup)
            throws Exception {
        FakeAol aol = FakeAol.start(fake);
        try {
            aol.setMode(mode);
            JamesSetup jamesSetup = setup.make(aol.smtpPort());
            return new BenchSystem(name, aol, startJames(jamesSetup), jamesSetup.workingDirectory());
        } catch (Exception | Error e) {
            aol.close();
            throw e;
        }
    }

    /** Boots James from {@code setup} with the benchmarks' sender account ({@link #SENDER}). */
    static RunningJames startJames(JamesSetup setup) throws Exception {
        RunningJames james = RunningJames.start(setup);
        try {
            james.addUser(SENDER, PASSWORD);
            return james;
        } catch (Exception | Error e) {
            james.close();
            throw e;
        }
    }

    /**
     * config/mailetcontainer.xml with every DELIVERY-POLICY change undone: RemoteDelivery with the same threads and
     * timeouts in place of PolicyRemoteDelivery, DSNBounce in place of PolicyDsnBounce, no suppression or bounce
     * ingestion mailets. Everything else (spooler threads, processors) stays as the plugin runs it.
     */
    static String stockMailetContainer(int fakeAolPort, List<Duration> delays, int maxRetries) throws IOException {
        return stockMailetContainer(fakeAolPort, delays, maxRetries, false);
    }

    static String stockMailetContainer(int fakeAolPort, List<Duration> delays, int maxRetries, boolean startTls)
            throws IOException {
        String xml = Files.readString(RepoLayout.find().config().resolve("mailetcontainer.xml"), StandardCharsets.UTF_8);
        StringBuilder delayTime = new StringBuilder();
        for (Duration d : delays) {
            delayTime.append(delayTime.length() == 0 ? "" : ", ").append(d.toMillis());
        }
        xml = replaceMailet(xml, "org.mailpolicy.james.delivery.PolicyRemoteDelivery", String.join("\n",
                "<mailet match=\"All\" class=\"RemoteDelivery\">",
                "    <outgoing>outgoing</outgoing>",
                "    <delayTime>" + delayTime + "</delayTime>",
                "    <maxRetries>" + maxRetries + "</maxRetries>",
                "    <maxDnsProblemRetries>0</maxDnsProblemRetries>",
                "    <deliveryThreads>" + mailetParameter(xml, "deliveryThreads") + "</deliveryThreads>",
                "    <sendpartial>true</sendpartial>",
                "    <bounceProcessor>bounces</bounceProcessor>",
                "    <timeout>" + mailetParameter(xml, "timeout") + "</timeout>",
                "    <connectiontimeout>" + mailetParameter(xml, "connectiontimeout") + "</connectiontimeout>",
                "    <gateway>127.0.0.1</gateway>",
                "    <gatewayPort>" + fakeAolPort + "</gatewayPort>",
                // verifyServerIdentity (on by default) checks the certificate's name against 127.0.0.1, the gateway.
                startTls ? "    <startTLS>true</startTLS>\n    <mail.smtp.ssl.trust>*</mail.smtp.ssl.trust>\n"
                        + "    <verifyServerIdentity>false</verifyServerIdentity>" : "",
                "</mailet>"));
        xml = replaceMailet(xml, "org.mailpolicy.james.dsn.PolicyDsnBounce",
                "<mailet match=\"All\" class=\"DSNBounce\"><passThrough>false</passThrough></mailet>");
        xml = replaceMailet(xml, "org.mailpolicy.james.suppression.RemoveSuppressedRecipients", "");
        xml = replaceMailet(xml, "org.mailpolicy.james.bounces.IngestBounces", "");
        String withoutComments = xml.replaceAll("(?s)<!--.*?-->", "");
        if (withoutComments.contains("org.mailpolicy")) {
            throw new IllegalStateException("config/mailetcontainer.xml has a plugin mailet the stock baseline does not undo");
        }
        return xml;
    }

    private static String replaceMailet(String xml, String className, String replacement) {
        Matcher m = Pattern.compile("(?s)<mailet match=\"All\" class=\"" + Pattern.quote(className) + "\">.*?</mailet>")
                .matcher(xml);
        if (!m.find()) {
            throw new IllegalStateException("config/mailetcontainer.xml has no mailet " + className);
        }
        return m.replaceFirst(Matcher.quoteReplacement(replacement));
    }

    private static String mailetParameter(String xml, String parameter) {
        Matcher m = Pattern.compile("<" + parameter + ">([^<]*)</" + parameter + ">").matcher(xml);
        if (!m.find()) {
            throw new IllegalStateException("config/mailetcontainer.xml has no <" + parameter + ">");
        }
        return m.group(1).trim();
    }

    /** Opens an SMTP session to James that submits many messages, one transaction each. */
    Submitter submitter() throws MessagingException {
        return new Submitter(james.smtpPort());
    }

    /**
     * Submits one message to each recipient over {@code connections} parallel SMTP sessions (recipient i on session
     * i mod connections); returns when James has accepted them all.
     */
    void submitAll(List<String> recipients, String subject, int connections) throws Exception {
        submitAll(james.smtpPort(), recipients, subject, connections);
    }

    /** As {@link #submitAll(List, String, int)}, to the James whose SMTP server listens on {@code jamesSmtpPort}. */
    static void submitAll(int jamesSmtpPort, List<String> recipients, String subject, int connections)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                int first = c;
                done.add(pool.submit(() -> {
                    try (Submitter submitter = new Submitter(jamesSmtpPort)) {
                        for (int i = first; i < recipients.size(); i += connections) {
                            submitter.send(recipients.get(i), subject + " " + (i + 1));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Puts one mail per recipient straight on James's delivery queue ({@code outgoing}, where stock RemoteDelivery and
     * the plugin both take their mail), all due at {@code due}: the queue is full before delivery may start, so what
     * follows measures delivery, not SMTP intake. The mails are those {@link Submitter} sends.
     */
    void queueForDelivery(List<String> recipients, String subject, Instant due) throws Exception {
        QueueProbe queue = james.probe(QueueProbe.class);
        Session session = session();
        for (int i = 0; i < recipients.size(); i++) {
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(SENDER));
            message.addRecipient(Message.RecipientType.TO, new InternetAddress(recipients.get(i)));
            message.setSubject(subject + " " + (i + 1));
            message.setText(BODY, "UTF-8");
            message.saveChanges();
            Mail mail = MailImpl.builder().name(subject + "-" + (i + 1)).sender(new MailAddress(SENDER))
                    .addRecipient(new MailAddress(recipients.get(i))).mimeMessage(message).build();
            try {
                queue.enqueueDueAt(OUTGOING_QUEUE, mail, due);
            } finally {
                LifecycleUtil.dispose(mail);
            }
        }
    }

    /** Connections the fake has seen since its last reset. */
    int connectionsOpened() {
        return aol.connections().size();
    }

    /** Distinct recipients the fake has accepted a message for. */
    long deliveredRecipients() {
        return aol.distinctRecipients();
    }

    /** When the fake accepted its latest message, if any. */
    Instant lastDelivery() {
        return aol.lastArrival();
    }

    /** What the fake saw: transactions, those refused at any stage, and whether the dynamic block was handed out. */
    record FakeView(int attempts, int rejected, boolean blocked, int accepted) {
    }

    FakeView fakeView() {
        List<Transaction> transactions = aol.transactions();
        int rejected = 0;
        boolean blocked = false;
        for (Transaction t : transactions) {
            if (refused(t)) {
                rejected++;
            }
            blocked |= t.connectReply().contains("RLY:B1") || t.mailFromReply().map(r -> r.contains("RLY:B1")).orElse(false);
        }
        return new FakeView(transactions.size(), rejected, blocked, aol.messages().size());
    }

    private static boolean refused(Transaction t) {
        return !t.connectReply().startsWith("220") || t.mailFromReply().map(BenchSystem::negative).orElse(false)
                || t.recipients().stream().anyMatch(r -> negative(r.reply()))
                || t.dataReply().map(BenchSystem::negative).orElse(false);
    }

    private static boolean negative(String reply) {
        return !reply.isEmpty() && (reply.charAt(0) == '4' || reply.charAt(0) == '5');
    }

    /** DSNs in alice's INBOX: how many report a failure (Action: failed) and how many a delay. */
    record Reports(int failed, int delayed) {
    }

    Reports reports() throws MessagingException, IOException {
        Store store = session().getStore("imap");
        store.connect("127.0.0.1", james.imapPort(), SENDER, PASSWORD);
        try {
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                int failed = 0;
                int delayed = 0;
                for (Message message : inbox.getMessages()) {
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    message.writeTo(bytes);
                    String text = bytes.toString(StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
                    if (text.contains("action: failed")) {
                        failed++;
                    } else if (text.contains("action: delayed")) {
                        delayed++;
                    }
                }
                return new Reports(failed, delayed);
            } finally {
                inbox.close(false);
            }
        } finally {
            store.close();
        }
    }

    /** The plugin's policy file in James's conf/; empty for stock James (whose conf/ has an unused one). */
    Optional<Path> policyFile() {
        return name.equals("plugin") ? Optional.of(workDir.resolve("conf/delivery-policy.yaml")) : Optional.empty();
    }

    /** The plugin's destination state store (the same instance James's mailets use); plugin systems only. */
    DestinationStateStore destinations() throws MessagingException {
        return PolicyRuntime.forPolicyFile(workDir.resolve("conf/delivery-policy.yaml").toString()).destinations();
    }

    @Override
    public void close() throws IOException {
        try {
            james.close();
        } finally {
            aol.close();
            deleteTree(workDir);
        }
    }

    /** Deletes a folder and everything in it, as far as it can (James's working directory after a run). */
    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static Path tempDir() throws IOException {
        return Files.createTempDirectory("james-bench-");
    }

    private static Session session() {
        Properties properties = new Properties();
        properties.setProperty("mail.smtp.connectiontimeout", "10000");
        properties.setProperty("mail.smtp.timeout", "60000");
        properties.setProperty("mail.smtp.localhost", "bench.sandbox.test");
        properties.setProperty("mail.imap.connectiontimeout", "10000");
        properties.setProperty("mail.imap.timeout", "60000");
        return Session.getInstance(properties);
    }

    /** One SMTP connection to James, kept open: each {@link #send} is one mail transaction on it. */
    static final class Submitter implements AutoCloseable {
        private final Session session = session();
        private final Transport transport;

        private Submitter(int smtpPort) throws MessagingException {
            transport = session.getTransport("smtp");
            transport.connect("127.0.0.1", smtpPort, null, null);
        }

        void send(String recipient, String subject) throws MessagingException {
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(SENDER));
            message.addRecipient(Message.RecipientType.TO, new InternetAddress(recipient));
            message.setSubject(subject);
            message.setText(BODY, "UTF-8");
            message.saveChanges();
            transport.sendMessage(message, message.getAllRecipients());
        }

        @Override
        public void close() throws MessagingException {
            transport.close();
        }
    }
}
