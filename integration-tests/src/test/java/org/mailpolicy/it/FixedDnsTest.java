package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mailpolicy.james.testing.FixedDns;

/** The test DNS table: listed domains reach loopback, nothing else resolves, so no test can mail a real provider. */
class FixedDnsTest {
    private final FixedDns dns = FixedDns.loopbackMx(List.of("aol.com", "AIM.com."));

    @Test
    void listedDomainsHaveOneLoopbackMx() throws Exception {
        assertThat(dns.findMXRecords("aol.com")).containsExactly("mx.aol.com");
        assertThat(dns.findMXRecords("aim.com.")).containsExactly("mx.aim.com");
        assertThat(dns.getByName("MX.AOL.COM").getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(dns.getAllByName("mx.aim.com")).extracting(InetAddress::getHostAddress).containsExactly("127.0.0.1");
    }

    @Test
    void otherNamesDoNotResolve() {
        assertThat(dns.findMXRecords("gmail.com")).isEmpty();
        assertThat(dns.findTXTRecords("aol.com")).isEmpty();
        assertThatThrownBy(() -> dns.getByName("gmail-smtp-in.l.google.com"))
                .isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("gmail-smtp-in.l.google.com");
    }

    @Test
    void ipLiteralsAndTheLocalHostResolveToThemselves() throws Exception {
        assertThat(dns.getByName("127.0.0.1").getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(dns.getByName("::1").isLoopbackAddress()).isTrue();
        assertThat(dns.getLocalHost().getHostName()).isEqualTo("localhost");
        assertThat(dns.getHostName(InetAddress.getByName("127.0.0.1"))).isEqualTo("localhost");
    }
}
