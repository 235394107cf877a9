package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import com.google.common.net.InternetDomainName;
import java.util.Objects;

/** Where to send a destination's mail instead of its MX hosts: a smarthost or a fallback relay. */
public final class Route {
    public static final int SMTP_PORT = 25;

    private final String host;
    private final int port;

    private Route(String host, int port) {
        this.host = host;
        this.port = port;
    }

    public static Route of(String host, int port) {
        Preconditions.checkArgument(port >= 1 && port <= 65535, "port out of range: %s", port);
        Preconditions.checkNotNull(host, "host");
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        Preconditions.checkArgument(InetAddresses.isInetAddress(h) || isHostName(h),
                "not a host name or IP address: %s", host);
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
