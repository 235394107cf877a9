package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.james.testing.FixedDns;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RunningJames;
import org.mailpolicy.postfix.PostfixReceiver;
import org.mailpolicy.tls.TestCertificates;

/**
 * MTA-STS (RFC 8461) end to end: the recipient domain publishes {@code _mta-sts} in the test DNS and its policy on a
 * local HTTPS server whose certificate a throw-away test CA signed (the policy's trust store names that CA; nothing is
 * trusted blindly); its MX is a real Postfix with a certificate from the same CA. In enforce mode an MX the policy
 * does not list gets nothing; one it lists gets the mail over verified TLS.
 */
class MtaStsTest {
    private static final String DOMAIN = "sts.test";
    private static final String MX = "mx.bad." + DOMAIN;

    @BeforeAll
    static void needsPostfix() {
        Optional<String> whyNot = PostfixReceiver.whyUnavailable();
        Assumptions.assumeTrue(whyNot.isEmpty(), () -> "no Postfix receiver: " + whyNot.get());
    }

    @Test
    void enforceWithAnMxTheDomainsPolicyDoesNotListDeliversNothingThere() throws Exception {
        String[] delivered = deliver("mx: mx.good." + DOMAIN, Duration.ofSeconds(10));
        assertThat(delivered[0]).as("connections to the unlisted MX").isEqualTo("0");
        assertThat(delivered[1]).as("policy fetches").isEqualTo("1");
        assertThat(delivered[2]).contains("MTA-STS policy of " + DOMAIN + " (enforce) lists none of its MX hosts");
    }

    @Test
    void enforceWithAListedMxDeliversOverVerifiedTls() throws Exception {
        String[] delivered = deliver("mx: *.bad." + DOMAIN, Duration.ZERO);
        assertThat(delivered[0]).as("connections").isEqualTo("1");
        assertThat(delivered[3]).contains("(using TLSv");
    }

    /**
     * Sends one mail to ann@sts.test under an enforce policy with this {@code mx} line. With {@code watch} zero, waits
     * for the delivery; otherwise watches for that long that nothing arrives. Returns Postfix's connections, the
     * policy server's fetches, the destination's last reply and the delivered text (or "").
     */
    private static String[] deliver(String mxLine, Duration watch) throws Exception {
        TestCertificates certificates = TestCertificates.inTemporaryFolder();
        TestCertificates.TestCa ca = certificates.certificateAuthority("MTA-STS Test CA");
        TestCertificates.ServerCertificate mx = ca.issue(MX, "dns:" + MX);
        TestCertificates.ServerCertificate web = ca.issue("mta-sts." + DOMAIN, "dns:mta-sts." + DOMAIN, "ip:127.0.0.1");
        AtomicInteger fetches = new AtomicInteger();
        String body = "version: STSv1\r\nmode: enforce\r\n" + mxLine + "\r\nmax_age: 86400\r\n";
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(web.serverContext()));
        https.createContext("/.well-known/mta-sts.txt", exchange -> {
            fetches.incrementAndGet();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        https.start();
        Path workDir = Files.createTempDirectory("james-it-mta-sts-");
        try (PostfixReceiver postfix = PostfixReceiver.builder().domain(DOMAIN).users("ann").connectionCountLimit(0)
                .tls(mx.keyPem(), mx.certificatePem()).start()) {
            FixedDns dns = FixedDns.loopbackMx(List.of()).withMx(DOMAIN, MX + ":" + postfix.port())
                    .withTxt("_mta-sts." + DOMAIN, "v=STSv1; id=20261207T0000;");
            String policy = String.join("\n",
                    "version: 1",
                    "suppression: { store: h2, path: \"" + JamesSetup.JAMES_HOME_TOKEN
                            + "/var/delivery-policy/suppressions\" }",
                    "rules: []",
                    "default:",
                    "  retry: { schedule: [1s, 2s] }",
                    "  maxAge: 60s",
                    "  delayWarning: 50s",
                    "  concurrency: 1",
                    // The domain's certificates come from the test CA: the policy's trust store names it, for the
                    // policy's HTTPS server and the verified SMTP alike. The policy host is 127.0.0.1 here: the JDK's
                    // HTTP client resolves names with the system's resolver, which does not know the test DNS.
                    "  tls: { trustStore: \"" + ca.trustStore() + "\", trustStorePassword: " + TestCertificates.PASSWORD
                            + ", mtaStsPolicyUrl: \"https://127.0.0.1:" + https.getAddress().getPort()
                            + "/.well-known/mta-sts.txt\" }",
                    "");
            try (RunningJames james = RunningJames.start(JamesSetup.of(workDir, JamesPorts.EPHEMERAL, dns, policy))) {
                james.addUser(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD);
                new MailClient(james.smtpPort(), james.imapPort()).send(TestPolicy.ALICE, "hello", "Hello.",
                        "ann@" + DOMAIN);
                if (watch.isZero()) {
                    Poll.until(Duration.ofSeconds(60), "ann's mail", () -> postfix.delivered("ann"), n -> n == 1);
                } else {
                    PolicyRuntime runtime = PolicyRuntime.forPolicyFile(workDir.resolve("conf/delivery-policy.yaml")
                            .toString());
                    Poll.until(Duration.ofSeconds(30), "an attempt on " + DOMAIN,
                            () -> runtime.destinations().get(DOMAIN).flatMap(s -> s.lastReply()), Optional::isPresent);
                    Poll.during(watch, "nothing at the unlisted MX", postfix::connections, n -> n == 0);
                }
                PolicyRuntime runtime = PolicyRuntime.forPolicyFile(workDir.resolve("conf/delivery-policy.yaml")
                        .toString());
                String lastReply = runtime.destinations().get(DOMAIN).flatMap(s -> s.lastReply()).orElse("");
                String text = postfix.deliveredTexts().isEmpty() ? "" : postfix.deliveredTexts().get(0);
                return new String[] {String.valueOf(postfix.connections()), String.valueOf(fetches.get()), lastReply,
                        text};
            }
        } finally {
            https.stop(0);
            try (Stream<Path> files = Files.walk(workDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
