package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.apache.james.dnsservice.api.DNSService;
import org.mailpolicy.destination.TlsSettings;
import org.mailpolicy.mtasts.MtaStsCache;
import org.mailpolicy.mtasts.MtaStsPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A recipient domain's MTA-STS policy (RFC 8461): the {@code _mta-sts.<domain>} TXT record through James's
 * {@link DNSService}, the policy over HTTPS with the JDK's {@link HttpClient}, its certificate verified against the
 * destination's trust store (the JDK's CAs unless the policy names another), no redirects; kept in a
 * {@link MtaStsCache} for the policy's max_age. A failed fetch falls back to the cached policy, else to none (RFC 8461
 * 5.1: a domain that cannot serve its policy is mailed as if it had none), and is logged.
 */
final class MtaStsLookup {
    private static final Logger LOGGER = LoggerFactory.getLogger(MtaStsLookup.class);
    /** RFC 8461 3.3: a policy larger than 64 KB is not a policy. */
    private static final int MAX_POLICY_BYTES = 64 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final DNSService dns;
    private final MtaStsCache cache;
    private final TrustStores trustStores = new TrustStores();
    private final Map<SSLContext, HttpClient> clients = new IdentityHashMap<>();

    MtaStsLookup(DNSService dns, MtaStsCache cache) {
        this.dns = Preconditions.checkNotNull(dns, "dns");
        this.cache = Preconditions.checkNotNull(cache, "cache");
    }

    /** The policy {@code domain} publishes, if any and if {@code tls} follows MTA-STS. */
    Optional<MtaStsPolicy> policyFor(String domain, TlsSettings tls) {
        if (!tls.mtaSts()) {
            return Optional.empty();
        }
        Optional<String> id = recordId(domain);
        Optional<MtaStsPolicy> cached = cache.usable(domain, id);
        if (cached.isPresent() || !id.isPresent()) {
            return cached;
        }
        try {
            MtaStsPolicy policy = fetch(domain, tls);
            cache.fetched(domain, id.get(), policy);
            LOGGER.info("MTA-STS policy of {} (id {}): {}", domain, id.get(), policy);
            return Optional.of(policy);
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            Optional<MtaStsPolicy> old = cache.unexpired(domain);
            LOGGER.warn("MTA-STS policy of {} could not be fetched ({}); {}", domain, SendFailureReader.describe(e),
                    old.map(p -> "keeping the cached one: " + p).orElse("delivering as if it had none"));
            return old;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return cache.unexpired(domain);
        }
    }

    private Optional<String> recordId(String domain) {
        try {
            for (String txt : dns.findTXTRecords("_mta-sts." + domain)) {
                Optional<String> id = MtaStsPolicy.recordId(txt);
                if (id.isPresent()) {
                    return id;
                }
            }
        } catch (RuntimeException e) {
            LOGGER.debug("no MTA-STS TXT record for {}: {}", domain, e.getMessage());
        }
        return Optional.empty();
    }

    private MtaStsPolicy fetch(String domain, TlsSettings tls)
            throws IOException, GeneralSecurityException, InterruptedException {
        URI uri = URI.create(tls.mtaStsPolicyUrl().replace("{domain}", domain));
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build();
        HttpResponse<byte[]> response = client(trustStores.verifying(tls)).send(request,
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IOException(uri + " answered HTTP " + response.statusCode());
        }
        byte[] body = response.body();
        if (body.length > MAX_POLICY_BYTES) {
            throw new IOException(uri + " sent " + body.length + " bytes, more than a policy may have");
        }
        try {
            return MtaStsPolicy.parse(new String(body, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(uri + ": " + e.getMessage(), e);
        }
    }

    private synchronized HttpClient client(SSLContext context) {
        // RFC 8461 3.3: redirects are not followed; the certificate is checked for the policy host's name (HTTPS).
        return clients.computeIfAbsent(context, c -> HttpClient.newBuilder().sslContext(c)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(TIMEOUT).build());
    }
}
