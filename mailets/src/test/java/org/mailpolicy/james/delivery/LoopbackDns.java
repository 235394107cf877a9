package org.mailpolicy.james.delivery;

import com.google.common.collect.ImmutableList;
import java.net.InetAddress;
import java.util.Collection;
import java.util.Map;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.dnsservice.api.TemporaryResolutionException;

/** MX records from a fixed table; every host is the loopback address. */
final class LoopbackDns implements DNSService {
    private final Map<String, ImmutableList<String>> mx;

    LoopbackDns(Map<String, ImmutableList<String>> mx) {
        this.mx = mx;
    }

    @Override
    public Collection<String> findMXRecords(String hostname) throws TemporaryResolutionException {
        if (hostname.equals("dns-broken.test")) {
            throw new TemporaryResolutionException("SERVFAIL");
        }
        return mx.getOrDefault(hostname, ImmutableList.of());
    }

    @Override
    public Collection<String> findTXTRecords(String hostname) {
        return ImmutableList.of();
    }

    @Override
    public Collection<InetAddress> getAllByName(String host) {
        return ImmutableList.of(InetAddress.getLoopbackAddress());
    }

    @Override
    public InetAddress getByName(String host) {
        return InetAddress.getLoopbackAddress();
    }

    @Override
    public InetAddress getLocalHost() {
        return InetAddress.getLoopbackAddress();
    }

    @Override
    public String getHostName(InetAddress addr) {
        return "localhost";
    }
}
