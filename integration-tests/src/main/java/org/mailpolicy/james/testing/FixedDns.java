package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.apache.james.dnsservice.api.DNSService;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.net.InetAddresses;

/**
 * James's {@link DNSService} answering from a fixed table instead of the network: this machine has no reachable DNS, and a
 * test must never send mail to a real provider. Domains not in the table have no MX; host names not in the table do not
 * resolve, so mail to them fails the way mail to a non-existent domain does. IP literals resolve to themselves.
 */
public final class FixedDns implements DNSService {
    private static final InetAddress LOOPBACK = InetAddresses.forString("127.0.0.1");

    private final ImmutableMap<String, ImmutableList<String>> mxHostsByDomain;
    private final ImmutableMap<String, InetAddress> addressByHost;
    private final ImmutableMap<String, ImmutableList<String>> txtByName;

    private FixedDns(Map<String, ImmutableList<String>> mxHostsByDomain, Map<String, InetAddress> addressByHost) {
        this(mxHostsByDomain, addressByHost, ImmutableMap.of());
    }

    private FixedDns(Map<String, ImmutableList<String>> mxHostsByDomain, Map<String, InetAddress> addressByHost,
                     Map<String, ImmutableList<String>> txtByName) {
        this.mxHostsByDomain = ImmutableMap.copyOf(mxHostsByDomain);
        this.addressByHost = ImmutableMap.copyOf(addressByHost);
        this.txtByName = ImmutableMap.copyOf(txtByName);
    }

    /**
     * This table with {@code domain}'s MX hosts replaced by {@code hosts}, each resolving to 127.0.0.1. A host may
     * carry a port ({@code mx.example.test:2526}), which James's MX iterator connects to instead of 25: the test's
     * receiver listens on an ephemeral port, and only a name from the MX lookup is treated as an MX host (MTA-STS).
     */
    public FixedDns withMx(String domain, String... hosts) {
        Map<String, ImmutableList<String>> mx = new java.util.HashMap<>(mxHostsByDomain);
        mx.put(normalize(domain), ImmutableList.copyOf(hosts));
        Map<String, InetAddress> addresses = new java.util.HashMap<>(addressByHost);
        for (String host : hosts) {
            int colon = host.lastIndexOf(':');
            addresses.put(normalize(colon > 0 ? host.substring(0, colon) : host), LOOPBACK);
        }
        return new FixedDns(mx, addresses, txtByName);
    }

    /** This table with a TXT record for {@code name} (such as {@code _mta-sts.example.test}). */
    public FixedDns withTxt(String name, String record) {
        Map<String, ImmutableList<String>> txt = new java.util.HashMap<>(txtByName);
        txt.put(normalize(name), ImmutableList.<String>builder()
                .addAll(txtByName.getOrDefault(normalize(name), ImmutableList.of())).add(record).build());
        return new FixedDns(mxHostsByDomain, addressByHost, txt);
    }

    /**
     * Each domain gets one MX host, {@code mx.<domain>}, which resolves to 127.0.0.1; {@code localhost} resolves too.
     * Which port a message really goes to is the delivery policy's {@code route}, or the gateway port of a stock mailet.
     */
    public static FixedDns loopbackMx(Collection<String> domains) {
        ImmutableMap.Builder<String, ImmutableList<String>> mx = ImmutableMap.builder();
        ImmutableMap.Builder<String, InetAddress> hosts = ImmutableMap.builder();
        hosts.put("localhost", LOOPBACK);
        for (String domain : domains) {
            String normalized = normalize(domain);
            String host = "mx." + normalized;
            mx.put(normalized, ImmutableList.of(host));
            hosts.put(host, LOOPBACK);
        }
        return new FixedDns(mx.buildOrThrow(), hosts.buildOrThrow());
    }

    public List<String> domains() {
        return mxHostsByDomain.keySet().asList();
    }

    @Override
    public Collection<String> findMXRecords(String hostname) {
        return mxHostsByDomain.getOrDefault(normalize(hostname), ImmutableList.of());
    }

    @Override
    public Collection<String> findTXTRecords(String hostname) {
        return txtByName.getOrDefault(normalize(hostname), ImmutableList.of());
    }

    @Override
    public Collection<InetAddress> getAllByName(String host) throws UnknownHostException {
        return ImmutableList.of(getByName(host));
    }

    @Override
    public InetAddress getByName(String host) throws UnknownHostException {
        requireNonNull(host, "host");
        String normalized = normalize(host);
        if (InetAddresses.isInetAddress(normalized)) {
            return InetAddresses.forString(normalized);
        }
        return Optional.ofNullable(addressByHost.get(normalized))
                .map(address -> withName(normalized, address))
                .orElseThrow(() -> new UnknownHostException(host + " (not in the test DNS table " + addressByHost.keySet() + ")"));
    }

    @Override
    public InetAddress getLocalHost() throws UnknownHostException {
        return withName("localhost", LOOPBACK);
    }

    @Override
    public String getHostName(InetAddress addr) {
        return addressByHost.entrySet().stream()
                .filter(entry -> entry.getValue().equals(addr))
                .map(Map.Entry::getKey)
                .findFirst()
                .orElse(addr.getHostAddress());
    }

    private static InetAddress withName(String name, InetAddress address) {
        try {
            return InetAddress.getByAddress(name, address.getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4 or 16 byte address was refused: " + address, e);
        }
    }

    private static String normalize(String name) {
        String lower = name.trim().toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    @Override
    public String toString() {
        return "FixedDns" + mxHostsByDomain;
    }
}
