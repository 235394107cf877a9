package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import com.google.common.net.InternetDomainName;
import java.net.InetAddress;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Where to send a destination's mail instead of its MX hosts: a smarthost or a fallback relay. */
public final class Route {
    public static final int SMTP_PORT = 25;
    /** The digits after the last colon, which Guava's parser calls malformed when they exceed 65535. */
    private static final Pattern TRAILING_PORT = Pattern.compile(":(\\d+)$");

    private final String host;
    private final int port;

    private Route(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /**
     * What can be known without the network: a host name (RFC 1123 syntax) or an IP literal a
     * connection can go to, and a port from 1 to 65535. Whether the host resolves or answers is
     * not checked when the policy loads: DNS or the relay may be down at that moment, and a route
     * that fails at delivery is a reply like any other (retried, held, reported).
     */
    public static Route of(String host, int port) {
        Preconditions.checkArgument(port >= 1 && port <= 65535, "port %s out of range: use 1 to 65535", port);
        Preconditions.checkNotNull(host, "host");
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        Preconditions.checkArgument(InetAddresses.isInetAddress(h) || isHostName(h),
                "not a host name or IP address: %s", host);
        if (InetAddresses.isInetAddress(h)) {
            InetAddress address = InetAddresses.forString(h);
            Preconditions.checkArgument(!address.isAnyLocalAddress() && !address.isMulticastAddress(),
                    "%s is not an address a connection can go to (unspecified or multicast)", host);
        }
        return new Route(h, port);
    }

    /**
     * Parses {@code host:port}, {@code [ipv6]:port}, or a bare host (port 25).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Route parse(String text) {
        Preconditions.checkNotNull(text, "route");
        HostAndPort hp;
        try {
            hp = HostAndPort.fromString(text.trim());
        } catch (IllegalArgumentException e) {
            Matcher port = TRAILING_PORT.matcher(text.trim());
            if (port.find() && (port.group(1).length() > 5 || Integer.parseInt(port.group(1)) > 65535)) {
                // Guava refuses 99999 as "malformed"; the operator needs to hear it is the port.
                throw new IllegalArgumentException("route '" + text + "': port " + port.group(1)
                        + " out of range: use 1 to 65535");
            }
            throw new IllegalArgumentException("malformed route '" + text + "': expected host:port or [ipv6]:port");
        }
        if (hp.getHost().isEmpty()) {
            throw new IllegalArgumentException("malformed route '" + text + "': no host");
        }
        return of(hp.getHost(), hp.getPortOrDefault(SMTP_PORT));
    }

    private static boolean isHostName(String h) {
        return !h.isEmpty() && InternetDomainName.isValid(h);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Route && ((Route) o).host.equals(host) && ((Route) o).port == port;
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port);
    }

    /** The form {@link #parse} reads back. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
