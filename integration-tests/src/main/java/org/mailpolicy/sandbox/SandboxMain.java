package org.mailpolicy.sandbox;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.mailpolicy.fakeaol.FakeAol;
import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.james.testing.FixedDns;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RepoLayout;
import org.mailpolicy.james.testing.RunningJames;

/**
 * The sandbox {@code bin/sandbox} starts: the fake AOL (SMTP 127.0.0.1:2526, control 127.0.0.1:2580) and a real James
 * 3.8.1 with the plugin, configured from {@code config/mailetcontainer.xml} and {@code config/sandbox/} (SMTP
 * 127.0.0.1:2525, IMAP 127.0.0.1:1143, WebAdmin 127.0.0.1:8000, user alice@sandbox.test / secret). Runs in the
 * foreground until Ctrl-C.
 *
 * <p>Options: {@code --work-dir DIR} (James's working directory, default {@code .sandbox/james} in the checkout; the
 * plugin resolves the policy's relative paths against the JVM's working directory, so {@code bin/sandbox} starts the
 * JVM there).
 */
public final class SandboxMain {
    static final String DOMAIN = "sandbox.test";
    static final String USER = "alice@sandbox.test";
    static final String PASSWORD = "secret";
    static final int FAKE_AOL_SMTP_PORT = 2526;
    static final int FAKE_AOL_CONTROL_PORT = 2580;
    private static final List<String> AOL_DOMAINS = List.of("aol.com", "aim.com", "verizon.net");

    private SandboxMain() {
    }

    public static void main(String[] args) throws Exception {
        RepoLayout layout = RepoLayout.find();
        Path workDir = layout.root().resolve(".sandbox/james");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--work-dir") && i + 1 < args.length) {
                workDir = Paths.get(args[++i]);
            } else {
                System.err.println("SandboxMain: unknown option " + args[i] + "\nusage: SandboxMain [--work-dir DIR]");
                System.exit(2);
            }
        }
        workDir = workDir.toAbsolutePath().normalize();
        Files.createDirectories(workDir);
        Path jvmDir = Paths.get("").toAbsolutePath().normalize();
        if (!jvmDir.equals(workDir)) {
            System.err.println("SandboxMain: note: the JVM runs in " + jvmDir + ", not in James's working directory " + workDir
                    + "; the policy's relative paths (the suppression database) resolve against the former.");
        }

        String policy = Files.readString(layout.sandboxConfig().resolve("delivery-policy.yaml"), StandardCharsets.UTF_8);
        // STARTTLS with a self-signed certificate: the shipped opportunistic TLS delivers to it encrypted.
        FakeAol aol = FakeAol.start(FakeAolSettings.ports(FAKE_AOL_SMTP_PORT, FAKE_AOL_CONTROL_PORT)
                .withSelfSignedStartTls());
        RunningJames james;
        try {
            // The plugin's WebAdmin routes, enabled as docs/operating.md tells an operator: the Guice module in
            // extensions.properties and the routes class in webadmin.properties. They find the policy at
            // conf/delivery-policy.yaml, relative to the JVM's directory, which is James's here. James's own
            // Prometheus route (GET /metrics, its metrics and the plugin's) is enabled on the same line.
            String webAdmin = Files.readString(layout.sandboxConfig().resolve("webadmin.properties"), StandardCharsets.UTF_8);
            james = RunningJames.start(JamesSetup.of(workDir, JamesPorts.SANDBOX, FixedDns.loopbackMx(AOL_DOMAINS), policy)
                    .withConfFile("extensions.properties",
                            "guice.extension.module=org.mailpolicy.james.webadmin.DeliveryPolicyWebAdminModule\n")
                    .withConfFile("webadmin.properties",
                            webAdmin + "extensions.routes=org.mailpolicy.james.webadmin.DeliveryPolicyRoutes,"
                                    + "org.apache.james.webadmin.dropwizard.MetricsRoutes\n"));
        } catch (Exception | Error e) {
            aol.close();
            throw e;
        }
        // Users live in memory: alice is created at every start. Her domain comes from config/sandbox/domainlist.xml.
        james.addUser(USER, PASSWORD);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                james.close();
            } finally {
                aol.close();
                stopped.countDown();
            }
        }, "sandbox-shutdown"));
        System.out.println(banner(layout, workDir, james, aol));
        stopped.await();
    }

    static String banner(RepoLayout layout, Path workDir, RunningJames james, FakeAol aol) {
        String control = "http://127.0.0.1:" + aol.controlPort();
        String webAdmin = "http://127.0.0.1:" + james.webAdminPort();
        int smtp = james.smtpPort();
        int imap = james.imapPort();
        return String.join("\n",
                "",
                "Delivery-policy sandbox is running (Ctrl-C stops it).",
                "",
                "  James 3.8.1 + plugin   SMTP 127.0.0.1:" + smtp + " (relay from 127.0.0.0/8, no auth)",
                "                         IMAP 127.0.0.1:" + imap + "   user " + USER + "   password " + PASSWORD,
                "                         WebAdmin " + webAdmin,
                "                         working dir " + workDir,
                "                         conf from " + layout.config().resolve("mailetcontainer.xml") + " and " + layout.sandboxConfig(),
                "  Fake AOL               SMTP 127.0.0.1:" + aol.smtpPort() + " (STARTTLS, self-signed certificate)"
                        + "   control " + control,
                "  Policy                 " + workDir.resolve("conf/delivery-policy.yaml")
                        + " (aol.com, aim.com, verizon.net -> the fake AOL)",
                "",
                "Send a mail to an unknown AOL address (a DSN reaches alice; a second send makes no new RCPT at the fake):",
                "  python3 -c 'import smtplib; s = smtplib.SMTP(\"127.0.0.1\", " + smtp + "); "
                        + "s.sendmail(\"" + USER + "\", [\"unknown-1@aol.com\"], "
                        + "\"From: " + USER + "\\r\\nTo: unknown-1@aol.com\\r\\nSubject: hello\\r\\n\\r\\nHello AOL\\r\\n\"); s.quit()'",
                "  swaks --server 127.0.0.1:" + smtp + " --from " + USER + " --to ok-1@aol.com,unknown-2@aol.com,full-1@aol.com",
                "",
                "Read alice's INBOX (the DSNs):",
                "  python3 -c 'import imaplib; m = imaplib.IMAP4(\"127.0.0.1\", " + imap + "); m.login(\"" + USER + "\", \""
                        + PASSWORD + "\"); m.select(\"INBOX\"); ids = m.search(None, \"ALL\")[1][0].split(); "
                        + "print(len(ids), \"message(s)\"); "
                        + "[print(m.fetch(i, \"(RFC822)\")[1][0][1].decode(\"utf-8\", \"replace\")) for i in ids[-1:]]'",
                "",
                "Make the fake AOL throttle for 30 s (mail waits without hammering, then goes), or reject for reverse DNS:",
                "  curl -X PUT " + control + "/mode -d '{\"mode\": \"DYN_T1\", \"seconds\": 30}'",
                "  curl -X PUT " + control + "/mode -d '{\"mode\": \"RTR_BB\", \"seconds\": 60}'",
                "  curl " + control + "/transactions        # what the fake saw, oldest first",
                "  curl -X DELETE " + control + "/transactions",
                "  modes: NORMAL DYN_T1 RLY_NW RATE_LIMIT RTR_BB CON_B1 DOWN DROP_IN_DATA SLOW DIRECTORY_OUTAGE CHAOS,",
                "  and REPLY with any reply at a stage, for example Yahoo's throttle at the greeting:",
                "  curl -X PUT " + control + "/mode -d '{\"mode\": \"REPLY\", \"stage\": \"CONNECT\","
                        + " \"reply\": \"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred\"}'",
                "  recipients by local part: ok* unknown* rejected* full* hvu* flaky*",
                "",
                "The plugin's WebAdmin routes (suppressions, destination holds, classify):",
                "  curl " + webAdmin + "/delivery-policy/suppressions",
                "  curl " + webAdmin + "/delivery-policy/destinations",
                "  curl -X DELETE " + webAdmin + "/delivery-policy/destinations/aol/hold",
                "  curl -X POST " + webAdmin + "/delivery-policy/classify -d '421 4.7.1 : (DYN:T1)'",
                "",
                "Metrics for Prometheus (James's and the plugin's; docs/operating.md explains the scrape rules):",
                "  curl -s " + webAdmin + "/metrics | grep delivery_policy",
                "",
                "James's outgoing queue (its size) and error repository (failed null-sender mail):",
                "  curl " + webAdmin + "/mailQueues/outgoing",
                "  (not .../mailQueues/outgoing/mails: in James 3.8.1 with in-memory queues that route closes the",
                "   queue it lists, and delivery stops until the sandbox is restarted)",
                "  curl " + webAdmin + "/mailRepositories/var%2Fmail%2Ferror%2F/mails",
                "");
    }
}
