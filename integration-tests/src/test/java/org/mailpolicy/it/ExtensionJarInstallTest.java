package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.FakeAol;
import org.mailpolicy.fakeaol.FakeAolSettings;
import org.mailpolicy.fakeaol.RecipientReply;
import org.mailpolicy.james.testing.RepoLayout;

/**
 * The README's install path, as an operator follows it: James 3.8.1 (memory app) started in a JVM of its own whose
 * classpath has no plugin, SnakeYAML or H2 on it, with the SHADED plugin jar in {@code extensions-jars/}, the
 * repository's {@code config/mailetcontainer.xml} unchanged ({@code <policy>file://conf/delivery-policy.yaml</policy>},
 * resolved against James's working directory) and the WebAdmin routes enabled through {@code extensions.properties}
 * and {@code extensions.routes}. The other integration tests boot James in-process with the plugin's classes on the
 * test classpath, so only this one checks the relocations and that James provides everything the jar leaves out.
 */
class ExtensionJarInstallTest {
    private static final String EXTENSION_JAR_PROPERTY = "mailpolicy.extensionJar";
    private static final Duration BOOT_WAIT = Duration.ofSeconds(90);
    private static final Duration DELIVERY_WAIT = Duration.ofSeconds(30);
    /** Jars the plugin brings in its shaded jar; left on James's classpath they would hide a broken shade. */
    private static final List<String> PLUGIN_JAR_PREFIXES = List.of("delivery-policy-", "snakeyaml-", "h2-");

    private static FakeAol aol;
    private static Path jamesHome;
    private static Path jamesLog;
    private static Process james;
    private static int smtpPort;
    private static int imapPort;
    private static int webAdminPort;
    private static MailClient client;
    private static HttpClient http;
    private static String subject;

    @BeforeAll
    static void installAndStart() throws Exception {
        Path extensionJar = Paths.get(System.getProperty(EXTENSION_JAR_PROPERTY, ""));
        if (!Files.isRegularFile(extensionJar)) {
            throw new IllegalStateException("system property " + EXTENSION_JAR_PROPERTY + " must name the shaded plugin jar "
                    + "(set by integration-tests/pom.xml; build with -am so mailets is packaged first), was '" + extensionJar + "'");
        }
        aol = FakeAol.start(FakeAolSettings.ephemeralPorts());
        jamesHome = Files.createTempDirectory("james-extension-jar-");
        jamesLog = jamesHome.resolve("james.log");
        int[] ports = freePorts(3);
        smtpPort = ports[0];
        imapPort = ports[1];
        webAdminPort = ports[2];

        writeConf(jamesHome.resolve("conf"));
        Files.createDirectories(jamesHome.resolve("extensions-jars"));
        Files.copy(extensionJar, jamesHome.resolve("extensions-jars").resolve(extensionJar.getFileName()),
                StandardCopyOption.REPLACE_EXISTING);

        List<String> command = List.of(javaExecutable(), "-Xmx512m",
                "-Dworking.directory=.",
                "-Dlogback.configurationFile=conf/logback.xml",
                "-Djames.exit.on.startup.error=true",
                "-cp", jamesClasspath(),
                "org.apache.james.MemoryJamesServerMain");
        james = new ProcessBuilder(command).directory(jamesHome.toFile()).redirectErrorStream(true)
                .redirectOutput(jamesLog.toFile()).start();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        withLog(() -> {
            awaitStarted();
            webAdmin("PUT", "/domains/" + TestPolicy.DOMAIN, "", 204);
            webAdmin("PUT", "/users/" + TestPolicy.ALICE, "{\"password\":\"" + TestPolicy.ALICE_PASSWORD + "\"}", 204);
            client = new MailClient(smtpPort, imapPort);
            subject = "extension-jar-" + System.nanoTime();
            client.send(TestPolicy.ALICE, subject, "Test message: " + subject, "ok-1@aol.com", "unknown-1@aol.com");
        });
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (james != null) {
                james.destroy();
                if (!james.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    james.destroyForcibly().waitFor();
                }
            }
        } finally {
            if (aol != null) {
                aol.close();
            }
        }
    }

    @Test
    void acceptedRecipientIsDeliveredOnceByTheShadedPlugin() throws Exception {
        withLog(() -> {
            Poll.until(DELIVERY_WAIT, "ok-1 delivered to the fake AOL", () -> deliveriesTo("ok-1@aol.com"), n -> n >= 1);
            Poll.during(Duration.ofSeconds(2), "ok-1 delivered exactly once", () -> deliveriesTo("ok-1@aol.com"), n -> n == 1);
        });
    }

    @Test
    void unknownRecipientGetsItsDsnWithStatus511() throws Exception {
        withLog(() -> {
            List<MimeMessage> dsns = Poll.until(DELIVERY_WAIT, "a DSN about '" + subject + "' in alice's INBOX",
                    ExtensionJarInstallTest::dsnsAboutSubject, list -> !list.isEmpty());
            List<String> unknownReplies = aol.transactions().stream().flatMap(t -> t.recipients().stream())
                    .filter(r -> r.address().equalsIgnoreCase("unknown-1@aol.com")).map(RecipientReply::reply)
                    .collect(Collectors.toList());
            assertThat(unknownReplies).hasSize(1);
            assertThat(unknownReplies.get(0)).startsWith("550");

            MimeMessage dsn = dsns.get(0);
            assertThat(dsn.isMimeType("multipart/report")).as("DSN content type " + dsn.getContentType()).isTrue();
            InternetHeaders unknown = Dsns.status(dsn).recipient("unknown-1@aol.com");
            assertThat(unknown.getHeader("Status", null)).isEqualTo("5.1.1");
            assertThat(unknown.getHeader("Action", null)).isEqualToIgnoringCase("failed");
            assertThat(Dsns.status(dsn).finalRecipients()).hasSize(1);
        });
    }

    @Test
    void webAdminRoutesFromTheExtensionJarListTheSuppressedRecipient() throws Exception {
        withLog(() -> {
            HttpResponse<String> found = Poll.until(DELIVERY_WAIT, "unknown-1@aol.com on the suppression list",
                    () -> get("/delivery-policy/suppressions/unknown-1@aol.com"), response -> response.statusCode() == 200);
            assertThat(found.body()).contains("unknown-1@aol.com");
            assertThat(get("/delivery-policy/suppressions/ok-1@aol.com").statusCode()).isEqualTo(404);
        });
    }

    /** James's conf/: the sandbox's server files on this test's ports, the repository's mailet container as is. */
    private static void writeConf(Path conf) throws IOException {
        RepoLayout layout = RepoLayout.find();
        Files.createDirectories(conf);
        try (Stream<Path> files = Files.list(layout.sandboxConfig())) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(".xml") || name.endsWith(".properties")) {
                    Files.copy(file, conf.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Files.copy(layout.config().resolve("mailetcontainer.xml"), conf.resolve("mailetcontainer.xml"),
                StandardCopyOption.REPLACE_EXISTING);
        // Relative paths, as an operator writes them: they resolve against James's working directory.
        Files.writeString(conf.resolve("delivery-policy.yaml"),
                TestPolicy.forFakeAol(aol.smtpPort()).replace("@JAMES_HOME@", "."), StandardCharsets.UTF_8);
        Files.writeString(conf.resolve("extensions.properties"),
                "guice.extension.module=org.mailpolicy.james.webadmin.DeliveryPolicyWebAdminModule\n", StandardCharsets.UTF_8);
        Files.writeString(conf.resolve("jmx.properties"), "jmx.enabled=false\n", StandardCharsets.UTF_8);
        replaceOnce(conf.resolve("smtpserver.xml"), "<bind>127.0.0.1:2525</bind>", "<bind>127.0.0.1:" + smtpPort + "</bind>");
        replaceOnce(conf.resolve("imapserver.xml"), "<bind>127.0.0.1:1143</bind>", "<bind>127.0.0.1:" + imapPort + "</bind>");
        replaceOnce(conf.resolve("webadmin.properties"), "\nport=8000\n", "\nport=" + webAdminPort + "\n");
        Files.writeString(conf.resolve("webadmin.properties"),
                "extensions.routes=org.mailpolicy.james.webadmin.DeliveryPolicyRoutes\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
    }

    private static void replaceOnce(Path file, String literal, String replacement) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int first = text.indexOf(literal);
        if (first < 0 || text.indexOf(literal, first + 1) >= 0) {
            throw new IllegalStateException(file + ": expected '" + literal.strip() + "' exactly once");
        }
        Files.writeString(file, text.replace(literal, replacement), StandardCharsets.UTF_8);
    }

    /**
     * The test JVM's classpath (James's memory app and its dependencies) without the plugin's own modules, SnakeYAML,
     * H2 and anything built in this repository: James must find the plugin in extensions-jars/ only.
     */
    private static String jamesClasspath() {
        String testClasspath = Optional.ofNullable(System.getProperty("surefire.test.class.path"))
                .orElse(System.getProperty("java.class.path"));
        Path repo = RepoLayout.find().root().toAbsolutePath().normalize();
        List<String> kept = new ArrayList<>();
        for (String entry : testClasspath.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path path = Paths.get(entry).toAbsolutePath().normalize();
            String name = path.getFileName().toString();
            boolean plugin = path.startsWith(repo) || PLUGIN_JAR_PREFIXES.stream().anyMatch(name::startsWith);
            if (!plugin) {
                kept.add(path.toString());
            }
        }
        assertThat(kept).as("James's classpath").anyMatch(entry -> entry.contains("james-server-memory-app"));
        return String.join(File.pathSeparator, kept);
    }

    private static String javaExecutable() {
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    /** Until SMTP accepts connections and WebAdmin answers; fails at once if James's JVM exits (a startup error). */
    private static void awaitStarted() throws Exception {
        Instant deadline = Instant.now().plus(BOOT_WAIT);
        while (true) {
            if (!james.isAlive()) {
                throw new AssertionError("James exited during startup with status " + james.exitValue());
            }
            if (accepts(smtpPort) && accepts(webAdminPort)) {
                try {
                    if (get("/domains").statusCode() == 200) {
                        return;
                    }
                } catch (IOException notYet) {
                    // WebAdmin's socket is open before its routes are.
                }
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("James did not open SMTP " + smtpPort + " and WebAdmin " + webAdminPort
                        + " within " + BOOT_WAIT);
            }
            Thread.sleep(250);
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webAdminPort + path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void webAdmin(String method, String path, String body, int expectedStatus) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webAdminPort + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isEqualTo(expectedStatus);
    }

    private static long deliveriesTo(String address) {
        return aol.messages().stream().filter(m -> m.recipients().contains(address)).count();
    }

    private static List<MimeMessage> dsnsAboutSubject() throws Exception {
        List<MimeMessage> about = new ArrayList<>();
        for (MimeMessage message : client.inbox(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD)) {
            if (Dsns.isReport(message) && Dsns.text(message).contains(subject)) {
                about.add(message);
            }
        }
        return about;
    }

    interface Check {
        void run() throws Exception;
    }

    /** Runs the check; on failure the message carries the end of James's log, where a class-loading error shows. */
    private static void withLog(Check check) throws Exception {
        try {
            check.run();
        } catch (Exception | AssertionError e) {
            throw new AssertionError(e + "\n--- last lines of " + jamesLog + " ---\n" + logTail(80), e);
        }
    }

    private static String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(jamesLog, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jamesLog, e);
        }
    }
}
