package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The socket factory JavaMail's STARTTLS goes through ({@code mail.smtp.ssl.socketFactory}), so that this plugin, not
 * JavaMail, decides how the server's certificate is judged and can tell what was negotiated.
 *
 * <p>JavaMail hands the factory the reverse-resolved name of the socket's address, not the MX host name, and its own
 * {@code checkserveridentity} checks against the address James connected to. So each attempt says, before it connects,
 * which MX host name the TLS session is for and whether the certificate must be verified ({@link #begin}); the
 * handshake is done here, on the delivery thread, and its outcome is read back after the connect ({@link Handshake}).
 * A JavaMail session is only configuration, shared by every thread: what belongs to one connection lives in a
 * thread-local for the length of one connect.
 */
final class StartTlsSocketFactory extends SSLSocketFactory {
    private static final ThreadLocal<Handshake> CURRENT = new ThreadLocal<>();

    private final SSLContext anyCertificate;

    StartTlsSocketFactory() {
        this.anyCertificate = anyCertificateContext();
    }

    /** What one connect asks of STARTTLS, and what came of it. */
    static final class Handshake implements AutoCloseable {
        private final String peerName;
        private final Optional<SSLContext> verifying;
        private boolean started;
        private TlsUsed used;
        private String failure;

        private Handshake(String peerName, Optional<SSLContext> verifying) {
            this.peerName = peerName;
            this.verifying = verifying;
        }

        /** Whether STARTTLS got as far as a TLS handshake. */
        boolean started() {
            return started;
        }

        /** The negotiated session, when the handshake succeeded. */
        Optional<TlsUsed> used() {
            return Optional.ofNullable(used);
        }

        /** Why the handshake failed, when it did. */
        Optional<String> failure() {
            return Optional.ofNullable(failure);
        }

        @Override
        public void close() {
            CURRENT.remove();
        }
    }

    /**
     * The next STARTTLS on this thread is with {@code peerName} (the MX host name, or the route's address); its
     * certificate is checked with {@code verifying} (chain and name), or accepted whatever it is when empty.
     * Close the result after the connect.
     */
    static Handshake begin(String peerName, Optional<SSLContext> verifying) {
        Handshake h = new Handshake(Preconditions.checkNotNull(peerName, "peerName"), verifying);
        CURRENT.set(h);
        return h;
    }

    @Override
    public Socket createSocket(Socket plain, String host, int port, boolean autoClose) throws IOException {
        Handshake h = CURRENT.get();
        if (h == null) {
            throw new SSLException("STARTTLS outside a delivery attempt: no MX host name to check the certificate for");
        }
        SSLContext context = h.verifying.orElse(anyCertificate);
        SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(plain, h.peerName, port, autoClose);
        SSLParameters parameters = ssl.getSSLParameters();
        if (h.verifying.isPresent()) {
            // The chain is checked by the trust manager; this adds the RFC 6125 name check against the MX host name.
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
        }
        if (isHostName(h.peerName)) {
            parameters.setServerNames(List.of(new SNIHostName(h.peerName)));
        }
        ssl.setSSLParameters(parameters);
        h.started = true;
        try {
            // Here, not later in JavaMail: the failure is recorded as a handshake failure, whatever JavaMail makes of it.
            ssl.startHandshake();
        } catch (IOException | RuntimeException e) {
            h.failure = SendFailureReader.describe(e);
            throw e;
        }
        h.used = TlsUsed.of(ssl.getSession().getProtocol(), ssl.getSession().getCipherSuite(), h.verifying.isPresent());
        return ssl;
    }

    private static boolean isHostName(String name) {
        return name.indexOf(':') < 0 && !name.matches("[0-9.]+") && name.indexOf('.') > 0;
    }

    // Sockets not made by STARTTLS are never asked of this factory (smtps uses JavaMail's own); the JDK's are fine.

    @Override
    public String[] getDefaultCipherSuites() {
        return anyCertificate.getSocketFactory().getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return anyCertificate.getSocketFactory().getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return anyCertificate.getSocketFactory().createSocket(host, port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return anyCertificate.getSocketFactory().createSocket(host, port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return anyCertificate.getSocketFactory().createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return anyCertificate.getSocketFactory().createSocket(address, port, localAddress, localPort);
    }

    /**
     * A TLS context that accepts any server certificate: what {@code opportunistic} and {@code required} mean (RFC
     * 7435, and Postfix's {@code may} and {@code encrypt}). Most MX certificates are self-signed, expired or name
     * another host; encryption without authentication still keeps the mail from passive eavesdroppers, and refusing
     * it would only send the mail in plaintext or not at all. {@code verified} uses a checking context instead.
     */
    private static SSLContext anyCertificateContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new AnyCertificate()}, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK offers no TLS context", e);
        }
    }

    private static final class AnyCertificate extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
