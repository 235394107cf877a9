package org.mailpolicy.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Throw-away certificates for tests and the sandbox, made with the JDK's keytool (and, for Postfix's PEM files,
 * openssl): a self-signed server certificate, or a test CA and server certificates it signs. Nothing here is trusted
 * by anything but the test that made it: the CA's trust store is a file the test names in its policy.
 */
public final class TestCertificates {
    /** The password of every key store made here; they protect nothing but a test's throw-away keys. */
    public static final String PASSWORD = "changeit";
    private static final Path KEYTOOL = Paths.get(System.getProperty("java.home"), "bin", "keytool");

    private final Path directory;

    private TestCertificates(Path directory) {
        this.directory = directory;
    }

    /** Certificates in a new temporary folder. */
    public static TestCertificates inTemporaryFolder() throws IOException {
        return new TestCertificates(Files.createTempDirectory("delivery-policy-tls"));
    }

    public Path directory() {
        return directory;
    }

    /** A server's key and certificate: a PKCS12 key store, and the same as PEM files for Postfix. */
    public static final class ServerCertificate {
        private final Path keyStore;
        private final Path keyPem;
        private final Path certificatePem;

        ServerCertificate(Path keyStore, Path keyPem, Path certificatePem) {
            this.keyStore = keyStore;
            this.keyPem = keyPem;
            this.certificatePem = certificatePem;
        }

        public Path keyStore() {
            return keyStore;
        }

        public Path keyPem() {
            return keyPem;
        }

        public Path certificatePem() {
            return certificatePem;
        }

        /** A server-side TLS context presenting this certificate. */
        public SSLContext serverContext() throws IOException, GeneralSecurityException {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyStore)) {
                store.load(in, PASSWORD.toCharArray());
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, PASSWORD.toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        }
    }

    /**
     * A self-signed certificate for {@code name} (what most MX hosts on the Internet present).
     *
     * @param alternativeNames subject alternative names in keytool's form: {@code dns:mx.example}, {@code ip:127.0.0.1}
     */
    public ServerCertificate selfSigned(String name, String... alternativeNames) throws IOException {
        Path store = directory.resolve(name + "-self-signed.p12");
        List<String> command = new ArrayList<>(List.of("-genkeypair", "-alias", "server", "-keyalg", "RSA",
                "-keysize", "2048", "-validity", "3650", "-dname", "CN=" + name, "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD));
        addNames(command, alternativeNames);
        keytool(command);
        return withPem(store);
    }

    /** A test CA: its key store, and a trust store holding only its certificate (what a verified policy names). */
    public static final class TestCa {
        private final TestCertificates owner;
        private final Path keyStore;
        private final Path certificate;
        private final Path trustStore;

        TestCa(TestCertificates owner, Path keyStore, Path certificate, Path trustStore) {
            this.owner = owner;
            this.keyStore = keyStore;
            this.certificate = certificate;
            this.trustStore = trustStore;
        }

        /** A PKCS12 trust store with the CA's certificate, password {@link #PASSWORD}. */
        public Path trustStore() {
            return trustStore;
        }

        /** A client-side context that trusts this CA only, and checks names as HTTPS does. */
        public SSLContext clientContext() throws IOException, GeneralSecurityException {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(trustStore)) {
                store.load(in, PASSWORD.toCharArray());
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        }

        /** A server certificate signed by this CA for {@code name} and the alternative names given. */
        public ServerCertificate issue(String name, String... alternativeNames) throws IOException {
            return owner.issue(this, name, alternativeNames);
        }
    }

    /** A new CA named {@code name}. */
    public TestCa certificateAuthority(String name) throws IOException {
        Path store = directory.resolve("ca.p12");
        keytool(List.of("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                "-dname", "CN=" + name, "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD));
        Path certificate = directory.resolve("ca.crt");
        keytool(List.of("-exportcert", "-rfc", "-alias", "ca", "-keystore", store.toString(), "-storepass", PASSWORD,
                "-file", certificate.toString()));
        Path trust = directory.resolve("ca-trust.p12");
        keytool(List.of("-importcert", "-noprompt", "-alias", "ca", "-file", certificate.toString(), "-storetype",
                "PKCS12", "-keystore", trust.toString(), "-storepass", PASSWORD));
        return new TestCa(this, store, certificate, trust);
    }

    private ServerCertificate issue(TestCa ca, String name, String... alternativeNames) throws IOException {
        Path store = directory.resolve(name + "-" + System.nanoTime() + ".p12");
        keytool(List.of("-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                "-dname", "CN=" + name, "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD,
                "-keypass", PASSWORD));
        Path request = directory.resolve(store.getFileName() + ".csr");
        keytool(List.of("-certreq", "-alias", "server", "-keystore", store.toString(), "-storepass", PASSWORD,
                "-file", request.toString()));
        Path signed = directory.resolve(store.getFileName() + ".crt");
        List<String> sign = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore",
                ca.keyStore.toString(), "-storepass", PASSWORD, "-validity", "3650", "-infile", request.toString(),
                "-outfile", signed.toString()));
        addNames(sign, alternativeNames);
        keytool(sign);
        keytool(List.of("-importcert", "-noprompt", "-alias", "ca", "-file", ca.certificate.toString(), "-keystore",
                store.toString(), "-storepass", PASSWORD));
        keytool(List.of("-importcert", "-noprompt", "-alias", "server", "-file", signed.toString(), "-keystore",
                store.toString(), "-storepass", PASSWORD));
        return withPem(store);
    }

    private static void addNames(List<String> command, String... alternativeNames) {
        if (alternativeNames.length > 0) {
            command.add("-ext");
            command.add("SAN=" + String.join(",", alternativeNames));
        }
    }

    /** The key and certificate chain as PEM files beside the key store, for Postfix (openssl reads the PKCS12). */
    private ServerCertificate withPem(Path store) throws IOException {
        Path key = directory.resolve(store.getFileName() + ".key.pem");
        Path certificate = directory.resolve(store.getFileName() + ".crt.pem");
        run(List.of("openssl", "pkcs12", "-in", store.toString(), "-passin", "pass:" + PASSWORD, "-nocerts", "-nodes",
                "-out", key.toString()));
        run(List.of("openssl", "pkcs12", "-in", store.toString(), "-passin", "pass:" + PASSWORD, "-nokeys", "-clcerts",
                "-out", certificate.toString()));
        return new ServerCertificate(store, key, certificate);
    }

    private static void keytool(List<String> arguments) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(KEYTOOL.toString());
        command.addAll(arguments);
        run(command);
    }

    private static void run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            p.getOutputStream().close();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command.subList(0, Math.min(2, command.size()))) + " failed: "
                        + new String(output, StandardCharsets.UTF_8).trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + command.get(0), e);
        } finally {
            p.destroy();
        }
    }
}
