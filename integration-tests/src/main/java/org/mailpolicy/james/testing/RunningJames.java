package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

import org.apache.james.GuiceJamesServer;
import org.apache.james.MemoryJamesConfiguration;
import org.apache.james.MemoryJamesServerMain;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.FakeSearchMailboxModule;
import org.apache.james.modules.protocols.ImapGuiceProbe;
import org.apache.james.modules.protocols.SmtpGuiceProbe;
import org.apache.james.utils.DataProbeImpl;
import org.apache.james.utils.GuiceProbe;
import org.apache.james.utils.MailRepositoryProbeImpl;
import org.apache.james.utils.WebAdminGuiceProbe;
import org.apache.mailet.Mail;
import org.mailpolicy.james.PolicyRuntime;

import com.google.inject.multibindings.Multibinder;

/**
 * A real James 3.8.1 (the memory app's modules: SMTP, IMAP, WebAdmin, in-memory mailboxes, queues and mail repositories)
 * running in this JVM, configured from the repository's files (see {@link JamesConfWriter}) and resolving names from a
 * {@link FixedDns}. JMX stays off (the memory app only adds it in its own {@code main}). Close it to stop it; a second
 * {@link #start} on the same working directory is a restart: {@code var/} (for example the suppression database) survives.
 * With {@link MailQueueKind#ACTIVEMQ} the mail queues are James's ActiveMQ ones, kept in {@code var/} too, so queued mail
 * survives the restart as well; with the default memory queue it is lost.
 */
public final class RunningJames implements AutoCloseable {
    static {
        // Read once, when GuiceJamesServer is loaded: without it a bad conf file calls System.exit and kills the test JVM.
        System.setProperty("james.exit.on.startup.error", "false");
    }

    private final JamesSetup setup;
    private final GuiceJamesServer server;

    private RunningJames(JamesSetup setup, GuiceJamesServer server) {
        this.setup = setup;
        this.server = server;
    }

    public static RunningJames start(JamesSetup setup) throws Exception {
        return start(setup, null);
    }

    /**
     * As {@link #start(JamesSetup)}, its mail queues shared with other James processes through the broker at
     * {@code brokerUrl} and ignoring delays as James's distributed server's do ({@link SharedBrokerMailQueueModule});
     * the setup's {@link JamesSetup#mailQueue()} is not used.
     */
    public static RunningJames startOnSharedQueues(JamesSetup setup, String brokerUrl) throws Exception {
        return start(setup, new SharedBrokerMailQueueModule(requireNonNull(brokerUrl, "brokerUrl")));
    }

    private static RunningJames start(JamesSetup setup, com.google.inject.Module queues) throws Exception {
        requireNonNull(setup, "setup");
        JamesConfWriter.write(setup);
        MemoryJamesConfiguration configuration = MemoryJamesConfiguration.builder()
                .workingDirectory(setup.workingDirectory().toFile())
                .build();
        DNSService dns = setup.dns();
        GuiceJamesServer server = MemoryJamesServerMain.createServer(configuration)
                .combineWith(new FakeSearchMailboxModule(),
                        binder -> Multibinder.newSetBinder(binder, GuiceProbe.class).addBinding().to(QueueProbe.class))
                .overrideWith(binder -> binder.bind(DNSService.class).toInstance(dns));
        if (queues != null) {
            server = server.overrideWith(queues);
        } else if (setup.mailQueue() == MailQueueKind.ACTIVEMQ) {
            server = server.overrideWith(new ActiveMQMailQueueModule());
        } else if (setup.mailQueue() == MailQueueKind.DELAY_IGNORING) {
            server = server.overrideWith(new DelayIgnoringMailQueueModule());
        }
        try {
            server.start();
        } catch (Exception | Error e) {
            // Ports bound before the failure are released by stop().
            try {
                server.stop();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new RunningJames(setup, server);
    }

    public JamesSetup setup() {
        return setup;
    }

    public int smtpPort() {
        return probe(SmtpGuiceProbe.class).getSmtpPort().getValue();
    }

    public int imapPort() {
        return probe(ImapGuiceProbe.class).getImapPort();
    }

    public int webAdminPort() {
        return probe(WebAdminGuiceProbe.class).getWebAdminPort().getValue();
    }

    public void addDomain(String domain) throws Exception {
        probe(DataProbeImpl.class).addDomain(domain);
    }

    public void addUser(String address, String password) throws Exception {
        probe(DataProbeImpl.class).addUser(address, password);
    }

    /** Mails stored in a mail repository such as {@code memory://var/mail/error/}; none if it does not exist yet. */
    public List<Mail> repositoryMails(String url) throws Exception {
        MailRepositoryProbeImpl repositories = probe(MailRepositoryProbeImpl.class);
        MailRepositoryUrl repositoryUrl = MailRepositoryUrl.from(url);
        if (!repositories.listRepositoryUrls().contains(repositoryUrl)) {
            return List.of();
        }
        List<Mail> mails = new ArrayList<>();
        for (MailKey key : repositories.listMailKeys(repositoryUrl)) {
            Mail mail = repositories.getMail(repositoryUrl, key);
            if (mail != null) {
                mails.add(mail);
            }
        }
        return mails;
    }

    /** The mails on a mail queue (for example {@code outgoing}, the plugin's), as the queue reports them. */
    public List<QueuedMail> queuedMails(String queueName) throws Exception {
        return probe(QueueProbe.class).browse(queueName);
    }

    public <T extends GuiceProbe> T probe(Class<T> type) {
        return server.getProbe(type);
    }

    /**
     * Stops James, then closes the plugin's policy runtime (suppression database, in-memory holds), which the plugin
     * keeps per policy file for the life of the JVM: in production a restart is a new JVM, so a restart here must not
     * inherit the old runtime either.
     */
    @Override
    public void close() {
        try {
            server.stop();
        } finally {
            PolicyRuntime.forgetForTesting(setup.workingDirectory().resolve("conf/delivery-policy.yaml").toString());
        }
    }
}
