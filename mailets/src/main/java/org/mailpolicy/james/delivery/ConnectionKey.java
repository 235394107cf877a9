package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import java.util.Locale;
import java.util.Objects;
import org.apache.mailet.HostAddress;
import org.mailpolicy.destination.TlsSettings;

/**
 * Which open connections are interchangeable: same destination (the state key concurrency is counted
 * by), same MX host name and resolved address, port, protocol and TLS level (a host in plaintext fallback
 * never gets a connection opened with TLS, nor a {@code verified} attempt one opened under {@code opportunistic}). Two destinations sharing one MX
 * host keep separate connections, so each one's concurrency bound stays its own.
 */
final class ConnectionKey {
    private final String destination;
    private final String hostName;
    private final String address;
    private final int port;
    private final String protocol;
    private final String tls;

    private ConnectionKey(String destination, String hostName, String address, int port, String protocol, String tls) {
        this.destination = destination;
        this.hostName = hostName;
        this.address = address;
        this.port = port;
        this.protocol = protocol;
        this.tls = tls;
    }

    /** @param tls the TLS level the connection is opened under ({@code none} for a host in plaintext fallback) */
    static ConnectionKey of(String destination, HostAddress host, TlsSettings.Level tls) {
        Preconditions.checkNotNull(destination, "destination");
        return new ConnectionKey(destination, host.getHostName().toLowerCase(Locale.ROOT), String.valueOf(host.getHost()),
                host.getPort(), String.valueOf(host.getProtocol()).toLowerCase(Locale.ROOT), tls.id());
    }

    String destination() {
        return destination;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ConnectionKey)) {
            return false;
        }
        ConnectionKey that = (ConnectionKey) o;
        return port == that.port && destination.equals(that.destination) && hostName.equals(that.hostName)
                && address.equals(that.address) && protocol.equals(that.protocol) && tls.equals(that.tls);
    }

    @Override
    public int hashCode() {
        return Objects.hash(destination, hostName, address, port, protocol, tls);
    }

    @Override
    public String toString() {
        return destination + " " + protocol + "://" + hostName + "[" + address + "]:" + port + " tls " + tls;
    }
}
