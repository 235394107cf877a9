package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One node of a test cluster: a {@link ClusterNode} in a JVM of its own (the test JVM's classpath, so James 3.8.1 and
 * the plugin as built), its output in {@code node.log} of its working directory. {@link #kill()} is {@code kill -9}:
 * the JVM gets no chance to finish anything, as when a machine dies.
 */
public final class ClusterNodeProcess implements AutoCloseable {
    private static final Duration BOOT_WAIT = Duration.ofSeconds(120);

    private final String name;
    private final Path workingDirectory;
    private final Path log;
    private final Process process;
    private final int smtpPort;
    private final int imapPort;
    private final int webAdminPort;

    private ClusterNodeProcess(String name, Path workingDirectory, Path log, Process process, int smtpPort, int imapPort,
            int webAdminPort) {
        this.name = name;
        this.workingDirectory = workingDirectory;
        this.log = log;
        this.process = process;
        this.smtpPort = smtpPort;
        this.imapPort = imapPort;
        this.webAdminPort = webAdminPort;
    }

    /**
     * Starts a node and waits until James is up.
     *
     * @param policyYaml the node's delivery policy ({@code @JAMES_HOME@} is its working directory)
     * @param bind       the source address of its outgoing SMTP connections (127.0.0.2, 127.0.0.3, ...), or empty
     * @param domains    domains with an MX on 127.0.0.1 in its DNS table
     */
    public static ClusterNodeProcess start(String name, Path workingDirectory, String policyYaml, String brokerUrl,
            Optional<String> bind, List<String> domains) throws Exception {
        requireNonNull(name, "name");
        Files.createDirectories(workingDirectory);
        int[] ports = freePorts(3);
        Path policy = workingDirectory.resolve("cluster-policy.yaml");
        Files.writeString(policy, policyYaml, StandardCharsets.UTF_8);
        Properties settings = new Properties();
        settings.setProperty("workingDirectory", workingDirectory.toAbsolutePath().toString());
        settings.setProperty("smtpPort", String.valueOf(ports[0]));
        settings.setProperty("imapPort", String.valueOf(ports[1]));
        settings.setProperty("webAdminPort", String.valueOf(ports[2]));
        settings.setProperty("brokerUrl", brokerUrl);
        settings.setProperty("policyFile", policy.toAbsolutePath().toString());
        settings.setProperty("domains", String.join(",", domains));
        bind.ifPresent(address -> settings.setProperty("bind", address));
        Path settingsFile = workingDirectory.resolve("cluster-node.properties");
        try (Writer out = Files.newBufferedWriter(settingsFile, StandardCharsets.UTF_8)) {
            settings.store(out, "cluster node " + name);
        }
        Path log = workingDirectory.resolve("node.log");
        List<String> command = List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                // Its working directory is not in the repository: tell it where the repository's config/ is.
                "-Dmailpolicy.repo=" + RepoLayout.find().root().toAbsolutePath(),
                "-cp", classpath(), ClusterNode.class.getName(), settingsFile.toAbsolutePath().toString());
        Process process = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        ClusterNodeProcess node = new ClusterNodeProcess(name, workingDirectory, log, process, ports[0], ports[1], ports[2]);
        node.awaitReady();
        return node;
    }

    public String name() {
        return name;
    }

    public Path workingDirectory() {
        return workingDirectory;
    }

    public int smtpPort() {
        return smtpPort;
    }

    public int imapPort() {
        return imapPort;
    }

    public int webAdminPort() {
        return webAdminPort;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * CPU time (user plus system) the node's JVM has used so far, from {@code /proc/PID/stat}; empty where there is
     * no {@code /proc} or the process is gone.
     */
    public Optional<Duration> cpuTime() {
        try {
            String stat = Files.readString(Paths.get("/proc", String.valueOf(process.pid()), "stat"), StandardCharsets.US_ASCII);
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return Optional.of(Duration.ofMillis(ticks * 1000 / CLOCK_TICKS_PER_SECOND));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Linux's USER_HZ, the unit of /proc's CPU times; 100 on every Linux this runs on. */
    private static final long CLOCK_TICKS_PER_SECOND = 100;

    /** {@code kill -9}: no shutdown hook, no clean stop; waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** The last lines of the node's output, for a failure message. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            return "--- last lines of " + name + "'s " + log + " ---\n"
                    + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** Stops James cleanly (SIGTERM runs its shutdown hook), or kills it after 30 s. */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill();
        }
    }

    private void awaitReady() throws Exception {
        Instant deadline = Instant.now().plus(BOOT_WAIT);
        while (true) {
            if (Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(ClusterNode.READY)) {
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("cluster node " + name + " exited during startup with status "
                        + process.exitValue() + "\n" + logTail(60));
            }
            if (Instant.now().isAfter(deadline)) {
                kill();
                throw new IllegalStateException("cluster node " + name + " did not start within " + BOOT_WAIT + "\n"
                        + logTail(60));
            }
            Thread.sleep(250);
        }
    }

    /** The test JVM's classpath: James 3.8.1, the plugin's modules as built, this harness. */
    private static String classpath() {
        return Optional.ofNullable(System.getProperty("surefire.test.class.path"))
                .orElse(System.getProperty("java.class.path"));
    }

    private static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // Closing a listening socket we opened.
                }
            }
        }
    }

    @Override
    public String toString() {
        return "ClusterNodeProcess{" + name + ", pid " + process.pid() + ", smtp " + smtpPort + "}";
    }
}
