package org.mailpolicy.james.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.mailpolicy.destination.TlsSettings;

/**
 * TLS contexts that check a server's certificate chain against a destination's trust store (a PKCS12 or JKS file the
 * policy names) or the JDK's own; each file is read once, and read again when it changed on disk.
 */
final class TrustStores {
    private final Map<String, Loaded> byPath = new HashMap<>();
    private SSLContext jdkDefault;

    private static final class Loaded {
        final long modified;
        final SSLContext context;

        Loaded(long modified, SSLContext context) {
            this.modified = modified;
            this.context = context;
        }
    }

    /** The checking context for {@code tls}'s trust store; the failure names the file. */
    synchronized SSLContext verifying(TlsSettings tls) throws IOException, GeneralSecurityException {
        Optional<String> path = tls.trustStore();
        if (!path.isPresent()) {
            if (jdkDefault == null) {
                jdkDefault = context(null);
            }
            return jdkDefault;
        }
        Path file = Paths.get(path.get());
        long modified = Files.getLastModifiedTime(file).toMillis();
        Loaded loaded = byPath.get(path.get());
        if (loaded == null || loaded.modified != modified) {
            KeyStore store = KeyStore.getInstance(file.toString().endsWith(".jks") ? "JKS" : "PKCS12");
            char[] password = tls.trustStorePassword().map(String::toCharArray).orElse(null);
            try (InputStream in = Files.newInputStream(file)) {
                store.load(in, password);
            } catch (IOException e) {
                throw new IOException("trust store " + file + " could not be read: " + e.getMessage(), e);
            }
            loaded = new Loaded(modified, context(store));
            byPath.put(path.get(), loaded);
        }
        return loaded.context;
    }

    private static SSLContext context(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
