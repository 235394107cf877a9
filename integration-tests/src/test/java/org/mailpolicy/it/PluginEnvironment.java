package org.mailpolicy.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;

import javax.mail.internet.MimeMessage;

import org.apache.mailet.Mail;
import org.mailpolicy.fakeaol.FakeAol;
import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.MailQueueKind;
import org.mailpolicy.james.testing.RepoLayout;
import org.mailpolicy.james.testing.RunningJames;

/**
 * One test class's world: a fake AOL and a real James 3.8.1 running the repository's {@code config/mailetcontainer.xml}
 * (the plugin's mailets) with the test policy routing aol.com to the fake, and alice@sandbox.test to send from and
 * receive DSNs. Boot it once per class ({@code @BeforeAll}) and {@link #reset()} the fake between tests.
 */
final class PluginEnvironment implements AutoCloseable {
    static final String ERROR_REPOSITORY = "memory://var/mail/error/";

    final FakeAol aol;
    final Path workDir;
    private final JamesSetup setup;
    private RunningJames james;
    private MailClient client;

    private PluginEnvironment(FakeAol aol, Path workDir, JamesSetup setup) {
        this.aol = aol;
        this.workDir = workDir;
        this.setup = setup;
    }

    static PluginEnvironment start() throws Exception {
        return start(UnaryOperator.identity(), UnaryOperator.identity());
    }

    /**
     * @param policyEdit          applied to the test policy text (for example a shorter maxAge)
     * @param mailetContainerEdit applied to config/mailetcontainer.xml (for example a shorter SMTP timeout)
     */
    static PluginEnvironment start(UnaryOperator<String> policyEdit, UnaryOperator<String> mailetContainerEdit)
            throws Exception {
        return boot(port -> policyEdit.apply(TestPolicy.forFakeAol(port)), mailetContainerEdit, UnaryOperator.identity());
    }

    /**
     * With the test policy and the repository's mailetcontainer.xml, and what an operator adds to James's setup on top
     * (for example {@code conf/extensions.properties} loading the plugin's WebAdmin module).
     */
    static PluginEnvironment startWithSetup(UnaryOperator<JamesSetup> setupEdit) throws Exception {
        return boot(TestPolicy::forFakeAol, UnaryOperator.identity(), setupEdit);
    }

    /**
     * On the given mail queue ({@link MailQueueKind#ACTIVEMQ}: one that survives a restart), with the test policy edited.
     */
    static PluginEnvironment startOnQueue(MailQueueKind queue, UnaryOperator<String> policyEdit) throws Exception {
        return boot(port -> policyEdit.apply(TestPolicy.forFakeAol(port)), UnaryOperator.identity(),
                setup -> setup.withMailQueue(queue));
    }

    /** What docs/operating.md tells an operator to write; James checks both class names at boot. */
    private static final String WEBADMIN_EXTENSIONS =
            "guice.extension.module=org.mailpolicy.james.webadmin.DeliveryPolicyWebAdminModule\n";
    /** The plugin's routes and James's own Prometheus route ({@code GET /metrics}), as docs/operating.md says. */
    private static final String WEBADMIN_ROUTES_LINE = "extensions.routes=org.mailpolicy.james.webadmin.DeliveryPolicyRoutes,"
            + "org.apache.james.webadmin.dropwizard.MetricsRoutes\n";
    /**
     * The harness points the mailets' {@code <policy>} at this boot's policy by absolute path (a test JVM does not run
     * in James's directory); the routes must name the same file to share the mailets' runtime, as docs/operating.md
     * says an operator must.
     */
    private static final String WEBADMIN_ROUTES_SETTINGS =
            "policy.file=" + JamesSetup.JAMES_HOME_TOKEN + "/conf/delivery-policy.yaml\n";

    /**
     * With the test policy edited and the plugin's WebAdmin routes loaded as docs/operating.md says (the sandbox's
     * webadmin.properties plus the routes line).
     */
    static PluginEnvironment startWithWebAdmin(UnaryOperator<String> policyEdit) throws Exception {
        String webAdmin = Files.readString(RepoLayout.find().sandboxConfig().resolve("webadmin.properties"),
                StandardCharsets.UTF_8);
        return startWithSetup(setup -> setup
                .withPolicy(policyEdit.apply(setup.policyYaml()))
                .withConfFile("extensions.properties", WEBADMIN_EXTENSIONS)
                .withConfFile("webadmin.properties", webAdmin + WEBADMIN_ROUTES_LINE)
                .withConfFile("delivery-policy.properties", WEBADMIN_ROUTES_SETTINGS));
    }

    /** {@link #startWithWebAdmin} on the given mail queue (for example {@link MailQueueKind#DELAY_IGNORING}). */
    static PluginEnvironment startWithWebAdminOnQueue(MailQueueKind queue, UnaryOperator<String> policyEdit)
            throws Exception {
        String webAdmin = Files.readString(RepoLayout.find().sandboxConfig().resolve("webadmin.properties"),
                StandardCharsets.UTF_8);
        return startWithSetup(setup -> setup
                .withMailQueue(queue)
                .withPolicy(policyEdit.apply(setup.policyYaml()))
                .withConfFile("extensions.properties", WEBADMIN_EXTENSIONS)
                .withConfFile("webadmin.properties", webAdmin + WEBADMIN_ROUTES_LINE)
                .withConfFile("delivery-policy.properties", WEBADMIN_ROUTES_SETTINGS));
    }

    /** With a policy of its own, made from the fake AOL's port (for example the sandbox's, re-routed). */
    static PluginEnvironment startWithPolicy(PolicyForPort policy) throws Exception {
        return boot(policy, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /**
     * With a fake AOL of these settings (for example one that requires a login), a policy made from its port, and
     * config/mailetcontainer.xml edited knowing that port (for example a gateway to it).
     */
    static PluginEnvironment startWithFakeAol(FakeAolSettings settings, PolicyForPort policy,
            IntFunction<UnaryOperator<String>> mailetContainerEdit) throws Exception {
        return boot(settings, policy, mailetContainerEdit, UnaryOperator.identity());
    }

    interface PolicyForPort {
        String forFakeAolPort(int port) throws IOException;
    }

    private static PluginEnvironment boot(PolicyForPort policy, UnaryOperator<String> mailetContainerEdit,
            UnaryOperator<JamesSetup> setupEdit) throws Exception {
        return boot(FakeAolSettings.ephemeralPorts(), policy,
                mailetContainerEdit.equals(UnaryOperator.identity()) ? null : port -> mailetContainerEdit, setupEdit);
    }

    /** {@code mailetContainerEdit} null: the repository's mailetcontainer.xml as it is. */
    private static PluginEnvironment boot(FakeAolSettings settings, PolicyForPort policy,
            IntFunction<UnaryOperator<String>> mailetContainerEdit, UnaryOperator<JamesSetup> setupEdit) throws Exception {
        FakeAol aol = FakeAol.start(settings);
        try {
            Path workDir = Files.createTempDirectory("james-it-");
            RepoLayout layout = RepoLayout.find();
            JamesSetup setup = JamesSetup.of(workDir, JamesPorts.EPHEMERAL, TestPolicy.DNS,
                    policy.forFakeAolPort(aol.smtpPort()));
            if (mailetContainerEdit != null) {
                String mailetContainer = mailetContainerEdit.apply(aol.smtpPort()).apply(
                        Files.readString(layout.config().resolve("mailetcontainer.xml"), StandardCharsets.UTF_8));
                setup = setup.withMailetContainer(mailetContainer);
            }
            setup = setupEdit.apply(setup);
            PluginEnvironment environment = new PluginEnvironment(aol, workDir, setup);
            environment.bootJames();
            return environment;
        } catch (Exception | Error e) {
            aol.close();
            throw e;
        }
    }

    private void bootJames() throws Exception {
        james = RunningJames.start(setup);
        james.addUser(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD);
        client = new MailClient(james.smtpPort(), james.imapPort());
    }

    /**
     * Stops James and starts it again on the same working directory: var/ (the suppression database, and the mail
     * queue when it is ActiveMQ's) survives.
     */
    void restartJames() throws Exception {
        james.close();
        bootJames();
    }

    RunningJames james() {
        return james;
    }

    MailClient client() {
        return client;
    }

    /** Back to a fake in NORMAL mode with no history; alice's INBOX is left as is (tests pick their DSNs by subject). */
    void reset() {
        aol.reset();
    }

    String send(String subject, String... recipients) throws Exception {
        return client.send(TestPolicy.ALICE, subject, "Test message: " + subject, recipients);
    }

    List<MimeMessage> inbox() throws Exception {
        return client.inbox(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD);
    }

    /** Waits for a DSN in alice's INBOX about the mail with this subject (its text or returned headers mention it). */
    MimeMessage awaitDsnAbout(String subject, Duration timeout) {
        List<MimeMessage> found = Poll.until(timeout, "a DSN about '" + subject + "' in alice's INBOX",
                () -> dsnsAbout(subject), list -> !list.isEmpty());
        return found.get(0);
    }

    List<MimeMessage> dsnsAbout(String subject) throws Exception {
        List<MimeMessage> about = new java.util.ArrayList<>();
        for (MimeMessage message : inbox()) {
            if (Dsns.isReport(message) && Dsns.text(message).contains(subject)) {
                about.add(message);
            }
        }
        return about;
    }

    /** Transactions at the fake that sent RCPT TO for this address. */
    List<Transaction> rcptsFor(String address) {
        return aol.transactions().stream()
                .filter(t -> t.recipients().stream().anyMatch(r -> r.address().equalsIgnoreCase(address)))
                .toList();
    }

    /** How many of {@code recipients} the fake has accepted a message for. */
    long deliveredTo(List<String> recipients) {
        return recipients.stream()
                .filter(r -> aol.messages().stream().anyMatch(m -> m.recipients().contains(r)))
                .count();
    }

    /** Waits until the fake has a message for every one of {@code recipients}. */
    void awaitDelivered(List<String> recipients, Duration timeout) {
        Poll.until(timeout, "delivery to " + recipients, () -> deliveredTo(recipients), n -> n == recipients.size());
    }

    /** Each of {@code recipients} got exactly one message: none lost, none sent twice. */
    void assertDeliveredOnce(List<String> recipients) {
        for (String recipient : recipients) {
            org.assertj.core.api.Assertions.assertThat(aol.messages().stream()
                    .filter(m -> m.recipients().contains(recipient)).count())
                    .as("deliveries to %s", recipient).isEqualTo(1);
        }
    }

    List<Mail> errorRepository() throws Exception {
        return james.repositoryMails(ERROR_REPOSITORY);
    }

    @Override
    public void close() throws IOException {
        try {
            if (james != null) {
                james.close();
            }
        } finally {
            aol.close();
        }
    }
}
