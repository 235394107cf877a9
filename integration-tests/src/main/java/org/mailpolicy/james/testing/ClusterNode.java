package org.mailpolicy.james.testing;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The main class of one James node of a test cluster, run in a process of its own by {@link ClusterNodeProcess} so that
 * a test can kill it ({@code kill -9}) as a machine dies: a real James 3.8.1 (memory app) with the plugin, the
 * repository's {@code config/mailetcontainer.xml} (its {@code PolicyRemoteDelivery} sending from the node's own address
 * through RemoteDelivery's {@code bind} parameter), the plugin's WebAdmin routes, and mail queues shared with the other
 * nodes through one broker that ignore delays as James's distributed server's do
 * ({@link RunningJames#startOnSharedQueues}). The plugin's store is whatever the policy names (the cluster's
 * PostgreSQL). Prints {@value #READY} once James is up; stops James cleanly on SIGTERM.
 *
 * <p>Its one argument is a properties file: {@code workingDirectory}, {@code smtpPort}, {@code imapPort},
 * {@code webAdminPort}, {@code brokerUrl}, {@code policyFile} (the policy text, {@code @JAMES_HOME@} replaced as
 * {@link JamesSetup} does), {@code domains} (comma-separated, each with an MX on 127.0.0.1) and optionally {@code bind}
 * (the source address of outgoing SMTP connections, such as {@code 127.0.0.2}).
 */
public final class ClusterNode {
    public static final String READY = "CLUSTER-NODE READY";
    private static final String WEBADMIN_EXTENSIONS =
            "guice.extension.module=org.mailpolicy.james.webadmin.DeliveryPolicyWebAdminModule\n";
    private static final String WEBADMIN_ROUTES_LINE = "extensions.routes=org.mailpolicy.james.webadmin.DeliveryPolicyRoutes\n";
    private static final String WEBADMIN_ROUTES_SETTINGS =
            "policy.file=" + JamesSetup.JAMES_HOME_TOKEN + "/conf/delivery-policy.yaml\n";
    private static final String OUTGOING_PARAMETER = "<outgoing>outgoing</outgoing>";
    /**
     * The memory app's repositories ({@code memory://}) plus James's {@code file://} one, for what the nodes share
     * through a folder (parked mail's content): keys are read from the folder each time ({@code CACHEKEYS="false"}), so
     * a mail stored by one node is found by the other.
     */
    private static final String MAIL_REPOSITORY_STORE = "<mailrepositorystore>\n"
            + "  <defaultProtocol>memory</defaultProtocol>\n"
            + "  <mailrepositories>\n"
            + "    <mailrepository class=\"org.apache.james.mailrepository.memory.MemoryMailRepository\">\n"
            + "      <protocols><protocol>memory</protocol></protocols>\n"
            + "    </mailrepository>\n"
            + "    <mailrepository class=\"org.apache.james.mailrepository.file.FileMailRepository\">\n"
            + "      <protocols><protocol>file</protocol></protocols>\n"
            + "      <config FIFO=\"false\" CACHEKEYS=\"false\"/>\n"
            + "    </mailrepository>\n"
            + "  </mailrepositories>\n"
            + "</mailrepositorystore>\n";

    private ClusterNode() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ClusterNode SETTINGS.properties");
            System.exit(2);
        }
        Properties settings = new Properties();
        try (Reader in = Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.UTF_8)) {
            settings.load(in);
        }
        RunningJames james;
        try {
            james = RunningJames.startOnSharedQueues(setup(settings), required(settings, "brokerUrl"));
        } catch (Exception | Error e) {
            e.printStackTrace();
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(james::close, "cluster-node-stop"));
        System.out.println(READY + " smtp=" + james.smtpPort() + " webadmin=" + james.webAdminPort());
        System.out.flush();
        Thread.currentThread().join();
    }

    static JamesSetup setup(Properties settings) throws IOException {
        Path workingDirectory = Paths.get(required(settings, "workingDirectory"));
        JamesPorts ports = new JamesPorts(port(settings, "smtpPort"), port(settings, "imapPort"), port(settings, "webAdminPort"));
        List<String> domains = Arrays.asList(required(settings, "domains").split(","));
        RepoLayout layout = RepoLayout.find();
        String mailetContainer = Files.readString(layout.config().resolve("mailetcontainer.xml"), StandardCharsets.UTF_8);
        String bind = settings.getProperty("bind", "").trim();
        if (!bind.isEmpty()) {
            int at = mailetContainer.indexOf(OUTGOING_PARAMETER);
            if (at < 0 || mailetContainer.indexOf(OUTGOING_PARAMETER, at + 1) >= 0) {
                throw new IllegalStateException("config/mailetcontainer.xml: expected " + OUTGOING_PARAMETER
                        + " exactly once (PolicyRemoteDelivery's), to add <bind> after it");
            }
            mailetContainer = mailetContainer.replace(OUTGOING_PARAMETER, OUTGOING_PARAMETER + "<bind>" + bind + "</bind>");
        }
        String webAdmin = Files.readString(layout.sandboxConfig().resolve("webadmin.properties"), StandardCharsets.UTF_8);
        return JamesSetup.of(workingDirectory, ports, FixedDns.loopbackMx(domains),
                        Files.readString(Paths.get(required(settings, "policyFile")), StandardCharsets.UTF_8))
                .withMailetContainer(mailetContainer)
                .withConfFile("extensions.properties", WEBADMIN_EXTENSIONS)
                .withConfFile("webadmin.properties", webAdmin + WEBADMIN_ROUTES_LINE)
                .withConfFile("delivery-policy.properties", WEBADMIN_ROUTES_SETTINGS)
                .withConfFile("mailrepositorystore.xml", MAIL_REPOSITORY_STORE);
    }

    private static String required(Properties settings, String key) {
        String value = settings.getProperty(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("cluster node settings: '" + key + "' is missing");
        }
        return value.trim();
    }

    private static int port(Properties settings, String key) {
        return Integer.parseInt(required(settings, key));
    }
}
