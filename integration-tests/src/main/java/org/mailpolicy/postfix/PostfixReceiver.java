package org.mailpolicy.postfix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Postfix (Debian's {@code /usr/sbin/postfix}) as the receiving end of tests and benchmarks: a throw-away
 * instance with its own configuration, queue, data and mailbox folders in one temporary directory, smtpd on a free port
 * of 127.0.0.1 only, final destination for one domain whose known users get a Maildir each (virtual(8)); every other
 * address is refused at RCPT ({@code 550 5.1.1 ... User unknown in virtual mailbox table}) and nothing is ever relayed
 * or sent out. Postfix's own per-client limits are applied to 127.0.0.1, which it would exempt by default:
 * {@code smtpd_client_connection_count_limit} (the next connection gets {@code 421 4.7.0 ... too many connections}) and
 * {@code smtpd_client_message_rate_limit} per minute (the next MAIL FROM gets {@code 450 4.7.1 ... too much mail}).
 * What it did is read back from the Maildirs and from its log file ({@code maillog_file}, written by postlogd).
 *
 * <p>Postfix's daemons switch to the {@code postfix} user, so the instance can only be started as root;
 * {@link #whyUnavailable()} says when it cannot be had here (the tests skip themselves with that reason).
 */
public final class PostfixReceiver implements AutoCloseable {
    public static final Path POSTFIX = Paths.get("/usr/sbin/postfix");
    private static final Path DAEMON_DIRECTORY = Paths.get("/usr/lib/postfix/sbin");
    /** Mailboxes belong to this user: virtual(8) will not deliver as root, and it needs no other rights. */
    private static final String MAILBOX_OWNER = "nobody";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Path directory;
    private final String domain;
    private final int port;
    private final List<String> users;

    private PostfixReceiver(Path directory, String domain, int port, List<String> users) {
        this.directory = directory;
        this.domain = domain;
        this.port = port;
        this.users = users;
    }

    /** Why no receiver can be started on this machine, or empty when one can. */
    public static Optional<String> whyUnavailable() {
        if (!Files.isExecutable(POSTFIX) || !Files.isDirectory(DAEMON_DIRECTORY)) {
            return Optional.of("no " + POSTFIX + " (Debian package postfix, which .ci/run installs)");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("Postfix starts as root (its daemons then switch to the postfix user); this runs as "
                    + System.getProperty("user.name"));
        }
        try {
            UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
            users.lookupPrincipalByName("postfix");
            users.lookupPrincipalByName(MAILBOX_OWNER);
        } catch (IOException e) {
            return Optional.of("no 'postfix' or '" + MAILBOX_OWNER + "' user on this machine: " + e.getMessage());
        }
        return Optional.empty();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The port smtpd listens on, on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The one domain this Postfix receives mail for. */
    public String domain() {
        return domain;
    }

    /** The known addresses, user@domain, in the order given. */
    public List<String> addresses() {
        return users.stream().map(u -> u + "@" + domain).collect(Collectors.toList());
    }

    /** The instance's temporary directory: conf/, queue/, data/, mailboxes/ and the log file maillog. */
    public Path directory() {
        return directory;
    }

    /** Messages delivered to a known user's Maildir (new/ and cur/), 0 for a user who has none yet. */
    public int delivered(String user) {
        Path maildir = directory.resolve("mailboxes").resolve(user.toLowerCase(Locale.ROOT));
        return fileCount(maildir.resolve("new")) + fileCount(maildir.resolve("cur"));
    }

    /** Every delivered message as it was stored, headers Postfix added included; in no particular order. */
    public List<String> deliveredTexts() {
        List<String> out = new java.util.ArrayList<>();
        for (String user : users) {
            Path maildir = directory.resolve("mailboxes").resolve(user);
            for (String sub : List.of("new", "cur")) {
                Path folder = maildir.resolve(sub);
                if (!Files.isDirectory(folder)) {
                    continue;
                }
                try (java.util.stream.Stream<Path> files = Files.list(folder)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        out.add(Files.readString(f, StandardCharsets.ISO_8859_1));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return out;
    }

    /** Known users with at least one message delivered. */
    public int usersWithMail() {
        return (int) users.stream().filter(u -> delivered(u) > 0).count();
    }

    /** Messages delivered to all known users together. */
    public int deliveredMessages() {
        return users.stream().mapToInt(this::delivered).sum();
    }

    /** Postfix's log so far, one entry a line. */
    public List<String> logLines() {
        Path log = directory.resolve("maillog");
        try {
            return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SMTP connections smtpd accepted (its "connect from" lines), including those it then refused. */
    public int connections() {
        return countLog(": connect from ");
    }

    /**
     * MAIL FROM commands over the connections that have ended, accepted or not: the transactions the
     * sender attempted. Read off smtpd's {@code disconnect from ... mail=3/4 ...} lines (Postfix 3.0 and
     * later; {@code mail=3} when every one was accepted), so a connection still open is not counted yet.
     */
    public int transactions() {
        int total = 0;
        for (String line : logLines()) {
            if (line.contains(": disconnect from ")) {
                Matcher m = MAIL_COMMANDS.matcher(line);
                if (m.find()) {
                    total += Integer.parseInt(m.group(2) != null ? m.group(2) : m.group(1));
                }
            }
        }
        return total;
    }

    /** Connections answered {@code 421 4.7.0 ... too many connections} (smtpd_client_connection_count_limit). */
    public int refusedConnections() {
        return countLog(": warning: Connection concurrency limit exceeded");
    }

    /** MAIL FROM commands answered {@code 450 4.7.1 ... too much mail} (smtpd_client_message_rate_limit). */
    public int refusedMessages() {
        return countLog(": warning: Message delivery request rate limit exceeded");
    }

    /** Connections on which STARTTLS succeeded (smtpd's "TLS connection established from" lines). */
    public int tlsConnections() {
        return countLog("TLS connection established from ");
    }

    /** Connections on which the STARTTLS handshake failed (smtpd's "SSL_accept error" lines). */
    public int failedHandshakes() {
        return countLog("SSL_accept error from ");
    }

    private int countLog(String fragment) {
        return (int) logLines().stream().filter(l -> l.contains(fragment)).count();
    }

    private static final Pattern MAIL_COMMANDS = Pattern.compile(" mail=(\\d+)(?:/(\\d+))?");

    /** Stops Postfix and deletes its directory. */
    @Override
    public void close() throws IOException {
        try {
            if (!run(Duration.ofSeconds(30), POSTFIX.toString(), "-c", conf().toString(), "stop").isEmpty()) {
                // stop gives the master a few seconds; abort does not wait for anything.
                run(Duration.ofSeconds(30), POSTFIX.toString(), "-c", conf().toString(), "abort");
            }
        } finally {
            deleteTree(directory);
        }
    }

    @Override
    public String toString() {
        return "Postfix on 127.0.0.1:" + port + " for " + domain + " (" + directory + ")";
    }

    private Path conf() {
        return directory.resolve("conf");
    }

    /** Settings of a receiver; {@link #start()} makes one. */
    public static final class Builder {
        private String domain = "postfix.test";
        private final Set<String> users = new LinkedHashSet<>();
        private int connectionCountLimit = 2;
        private int messageRatePerMinute = 60;
        private Path tlsKey;
        private Path tlsCertificate;
        private String tlsProtocols;

        private Builder() {
        }

        /** The domain received for (default postfix.test). */
        public Builder domain(String value) {
            this.domain = value.toLowerCase(Locale.ROOT);
            return this;
        }

        /** Adds known users (the local parts); mail for anyone else at the domain is refused. */
        public Builder users(Collection<String> localParts) {
            for (String user : localParts) {
                if (!user.matches("[a-z0-9._+-]+")) {
                    throw new IllegalArgumentException("user names here are lower-case letters, digits and ._+-, was '"
                            + user + "'");
                }
                users.add(user);
            }
            return this;
        }

        public Builder users(String... localParts) {
            return users(List.of(localParts));
        }

        /** Most simultaneous connections from one client (default 2); 0 for no limit. */
        public Builder connectionCountLimit(int value) {
            this.connectionCountLimit = value;
            return this;
        }

        /** Most MAIL FROM commands from one client per minute, accepted or not (default 60); 0 for no limit. */
        public Builder messageRatePerMinute(int value) {
            this.messageRatePerMinute = value;
            return this;
        }

        /**
         * Offers STARTTLS ({@code smtpd_tls_security_level = may}) with this key and certificate chain (PEM files);
         * without it smtpd offers no STARTTLS.
         */
        public Builder tls(Path keyPem, Path certificatePem) {
            this.tlsKey = keyPem;
            this.tlsCertificate = certificatePem;
            return this;
        }

        /**
         * The TLS protocols smtpd accepts ({@code smtpd_tls_protocols}), such as {@code <=TLSv1.1}: STARTTLS is still
         * offered, but a client that speaks none of them fails the handshake.
         */
        public Builder tlsProtocols(String protocols) {
            this.tlsProtocols = protocols;
            return this;
        }

        /** Writes the instance's configuration and starts it; returns once smtpd listens. */
        public PostfixReceiver start() throws IOException {
            Optional<String> whyNot = whyUnavailable();
            if (whyNot.isPresent()) {
                throw new IllegalStateException("cannot start Postfix: " + whyNot.get());
            }
            if (users.isEmpty()) {
                throw new IllegalStateException("a Postfix receiver needs at least one known user");
            }
            Path dir = Files.createTempDirectory("delivery-policy-postfix");
            try {
                int port = freePort();
                layOut(dir, port);
                PostfixReceiver receiver = new PostfixReceiver(dir, domain, port, List.copyOf(users));
                String conf = dir.resolve("conf").toString();
                // check creates the queue's subfolders with Postfix's owners and modes, and fails on a bad main.cf.
                failUnlessEmpty(run(Duration.ofSeconds(60), POSTFIX.toString(), "-c", conf, "check"), "postfix check",
                        dir);
                failUnlessEmpty(run(Duration.ofSeconds(60), POSTFIX.toString(), "-c", conf, "start"), "postfix start",
                        dir);
                receiver.awaitListening();
                return receiver;
            } catch (IOException | RuntimeException e) {
                run(Duration.ofSeconds(30), POSTFIX.toString(), "-c", dir.resolve("conf").toString(), "abort");
                deleteTree(dir);
                throw e;
            }
        }

        private void layOut(Path dir, int port) throws IOException {
            UserPrincipalLookupService principals = FileSystems.getDefault().getUserPrincipalLookupService();
            // The postfix user walks into the queue and data folders, so the path to them must be open to it.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path conf = Files.createDirectory(dir.resolve("conf"));
            Files.createDirectory(dir.resolve("queue"));
            Path data = Files.createDirectory(dir.resolve("data"));
            Files.setOwner(data, principals.lookupPrincipalByName("postfix"));
            Path mailboxes = Files.createDirectory(dir.resolve("mailboxes"));
            // "user:" is the user and its login group, which Java's file API cannot look up.
            failUnlessEmpty(run(Duration.ofSeconds(10), "chown", MAILBOX_OWNER + ":", mailboxes.toString()), "chown",
                    dir);
            int uid = (Integer) Files.getAttribute(mailboxes, "unix:uid");
            int gid = (Integer) Files.getAttribute(mailboxes, "unix:gid");

            StringBuilder table = new StringBuilder();
            for (String user : users) {
                // A trailing slash makes virtual(8) deliver to a Maildir: one file per message, easy to count.
                table.append(user).append('@').append(domain).append(' ').append(user).append("/\n");
            }
            Files.writeString(conf.resolve("virtual_mailboxes"), table.toString());
            Files.writeString(conf.resolve("main.cf"), mainCf(dir, port, uid, gid));
            Files.writeString(conf.resolve("master.cf"), masterCf(port));
        }

        private String mainCf(Path dir, int port, int uid, int gid) {
            return String.join("\n",
                    "# A throw-away receiver written by " + PostfixReceiver.class.getName() + ".",
                    "compatibility_level = 3.6",
                    // With -c every path comes from here, none from /etc/postfix (which may have no main.cf at all).
                    "config_directory = " + dir.resolve("conf"),
                    "queue_directory = " + dir.resolve("queue"),
                    "data_directory = " + dir.resolve("data"),
                    "command_directory = /usr/sbin",
                    "daemon_directory = " + DAEMON_DIRECTORY,
                    "shlib_directory = /usr/lib/postfix",
                    "meta_directory = /etc/postfix",
                    "mail_owner = postfix",
                    "setgid_group = postdrop",
                    // Its own log file (postlogd, the postlog service in master.cf), tagged apart from any other instance.
                    "syslog_name = postfix-" + port,
                    "maillog_file = " + dir.resolve("maillog"),
                    "maillog_file_prefixes = " + dir,
                    "myhostname = receiver." + domain,
                    "mydomain = " + domain,
                    "myorigin = " + domain,
                    "mydestination =",
                    "inet_interfaces = loopback-only",
                    "inet_protocols = ipv4",
                    // No DNS for client names: only loopback traffic, and nothing to wait for.
                    "smtpd_peername_lookup = no",
                    "mynetworks = 127.0.0.0/8",
                    // A final destination only: nobody relays through it, mynetworks included.
                    "smtpd_relay_restrictions = reject_unauth_destination",
                    // The limits exempt $mynetworks by default, and the clients here are all 127.0.0.1.
                    "smtpd_client_event_limit_exceptions =",
                    "smtpd_client_connection_count_limit = " + connectionCountLimit,
                    "smtpd_client_message_rate_limit = " + messageRatePerMinute,
                    "anvil_rate_time_unit = 60s",
                    "virtual_mailbox_domains = " + domain,
                    // texthash: read as it is, no postmap and no database file.
                    "virtual_mailbox_maps = texthash:" + dir.resolve("conf/virtual_mailboxes"),
                    "virtual_mailbox_base = " + dir.resolve("mailboxes"),
                    "virtual_uid_maps = static:" + uid,
                    "virtual_gid_maps = static:" + gid,
                    "virtual_minimum_uid = 1",
                    // Anything not for the domain (bounces to the senders, say) fails here instead of going out.
                    "default_transport = error:the test receiver sends nothing out",
                    "relay_transport = error:the test receiver sends nothing out",
                    "alias_maps =",
                    "alias_database =",
                    "biff = no",
                    tlsSettings());
        }

        private String tlsSettings() {
            if (tlsKey == null) {
                return "smtpd_tls_security_level = none\n";
            }
            return String.join("\n",
                    "smtpd_tls_security_level = may",
                    "smtpd_tls_key_file = " + tlsKey,
                    "smtpd_tls_cert_file = " + tlsCertificate,
                    // "TLS connection established from ..." for every handshake, which the tests count.
                    "smtpd_tls_loglevel = 1",
                    // "(using TLSv1.3 with cipher ...)" in each message's Received header: which mail came over TLS.
                    "smtpd_tls_received_header = yes",
                    "smtpd_tls_session_cache_database =",
                    tlsProtocols == null ? "" : "smtpd_tls_protocols = " + tlsProtocols,
                    "");
        }

        /** smtpd on 127.0.0.1:port and the services it needs; nothing chrooted (the queue folder is temporary). */
        private static String masterCf(int port) {
            return String.join("\n",
                    "# service type  private unpriv chroot wakeup maxproc command",
                    "127.0.0.1:" + port + " inet n - n - - smtpd",
                    "pickup    unix  n - n 60 1 pickup",
                    "cleanup   unix  n - n - 0 cleanup",
                    "qmgr      unix  n - n 300 1 qmgr",
                    "rewrite   unix  - - n - - trivial-rewrite",
                    "bounce    unix  - - n - 0 bounce",
                    "defer     unix  - - n - 0 bounce",
                    "trace     unix  - - n - 0 bounce",
                    "verify    unix  - - n - 1 verify",
                    "flush     unix  n - n 1000? 0 flush",
                    "proxymap  unix  - - n - - proxymap",
                    "showq     unix  n - n - - showq",
                    "error     unix  - - n - - error",
                    "retry     unix  - - n - - error",
                    "discard   unix  - - n - - discard",
                    "virtual   unix  - n n - - virtual",
                    "anvil     unix  - - n - 1 anvil",
                    "scache    unix  - - n - 1 scache",
                    "tlsmgr    unix  - - n 1000? 1 tlsmgr",
                    "postlog   unix-dgram n - n - 1 postlogd",
                    "");
        }
    }

    /**
     * Waits until smtpd's socket is listening, read from /proc/net/tcp rather than by connecting: a probe connection
     * would be counted by the limits and show in the log the tests read.
     */
    private void awaitListening() throws IOException {
        String local = String.format(Locale.ROOT, "0100007F:%04X", port);
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            for (String line : Files.readAllLines(Paths.get("/proc/net/tcp"))) {
                String[] fields = line.trim().split("\\s+");
                // fields[1] local address, fields[3] state; 0A is LISTEN.
                if (fields.length > 3 && fields[1].equals(local) && fields[3].equals("0A")) {
                    return;
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for Postfix", e);
            }
        }
        throw new IOException("Postfix did not listen on 127.0.0.1:" + port + " within " + START_TIMEOUT.toSeconds()
                + " s; its log:\n" + String.join("\n", logLines()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * Runs a command; returns empty on exit 0, else its exit code and output. The output goes through a file: the
     * master daemon that {@code postfix start} leaves behind would hold a pipe open for good.
     */
    private static String run(Duration timeout, String... command) throws IOException {
        Path output = Files.createTempFile("postfix-command", ".txt");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return "timed out after " + timeout.toSeconds() + " s: " + String.join(" ", command);
            }
            return process.exitValue() == 0 ? ""
                    : "exit " + process.exitValue() + ": " + Files.readString(output, StandardCharsets.UTF_8).trim();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static void failUnlessEmpty(String failure, String what, Path dir) throws IOException {
        if (!failure.isEmpty()) {
            Path log = dir.resolve("maillog");
            throw new IOException(what + " failed, " + failure
                    + (Files.exists(log) ? "\nits log:\n" + Files.readString(log, StandardCharsets.UTF_8) : ""));
        }
    }

    private static int fileCount(Path folder) {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(folder)) {
            return (int) files.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
        }
        for (Path path : paths) {
            Files.deleteIfExists(path);
        }
    }
}
