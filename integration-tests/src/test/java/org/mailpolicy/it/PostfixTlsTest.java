package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import javax.mail.internet.MimeMessage;
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
 * TLS to a real Postfix 3.7 receiver: STARTTLS with the self-signed certificate most MX hosts have, a receiver whose
 * handshake breaks (it speaks only TLS versions the JDK refuses), and a certificate naming another host under {@code
 * verified}. Postfix's log and the {@code Received} header it writes ("using TLSv1.3 with cipher ...") tell which
 * connections and which mails were encrypted.
 */
class PostfixTlsTest {
    private static final String DOMAIN = "postfix.test";
    private static final String MX = "mx." + DOMAIN;
    private static final FixedDns DNS = FixedDns.loopbackMx(List.of(DOMAIN));
    /** Postfix's mark of a mail that came over TLS, in the Received header it adds. */
    private static final String OVER_TLS = "(using TLSv";
    /** TLS versions Debian's OpenSSL and the JDK both refuse: Postfix offers STARTTLS and every handshake fails. */
    private static final String ONLY_OLD_TLS = "<=TLSv1.1";

    @BeforeAll
    static void needsPostfix() {
        Optional<String> whyNot = PostfixReceiver.whyUnavailable();
        Assumptions.assumeTrue(whyNot.isEmpty(), () -> "no Postfix receiver: " + whyNot.get());
    }

    private static String policy(PostfixReceiver postfix, String destinationExtra) {
        return String.join("\n",
                "version: 1",
                "suppression: { store: h2, path: \"" + JamesSetup.JAMES_HOME_TOKEN
                        + "/var/delivery-policy/suppressions\" }",
                "rules: []",
                "default: { retry: { schedule: [1s, 2s] }, maxAge: 60s, delayWarning: 50s,"
                        + " throttle: { initial: 1s, growth: 1.0, max: 1s }, concurrency: 1 }",
                "destinations:",
                "  - name: postfix",
                "    domains: [" + DOMAIN + "]",
                // By the MX name, which the test DNS resolves to 127.0.0.1: the name a verified certificate must carry.
                "    route: " + MX + ":" + postfix.port(),
                "    concurrency: 1",
                "    connections: { maxMessages: 20, idleTimeout: 30s }",
                destinationExtra,
                "");
    }

    @Test
    void aSelfSignedCertificateIsTakenAndTheSecondMailOnTheCachedConnectionIsEncryptedToo() throws Exception {
        TestCertificates certificates = TestCertificates.inTemporaryFolder();
        TestCertificates.ServerCertificate selfSigned = certificates.selfSigned(MX, "dns:" + MX);
        try (PostfixReceiver postfix = PostfixReceiver.builder().domain(DOMAIN).users("ann", "ben")
                .connectionCountLimit(0).tls(selfSigned.keyPem(), selfSigned.certificatePem()).start();
             Booted james = Booted.with(policy(postfix, ""))) {
            james.client.send(TestPolicy.ALICE, "first", "Hello.", "ann@" + DOMAIN);
            Poll.until(Duration.ofSeconds(60), "ann's mail at Postfix", () -> postfix.delivered("ann"), n -> n == 1);
            james.client.send(TestPolicy.ALICE, "second", "Hello again.", "ben@" + DOMAIN);
            Poll.until(Duration.ofSeconds(60), "ben's mail at Postfix", () -> postfix.delivered("ben"), n -> n == 1);

            assertThat(postfix.deliveredTexts()).hasSize(2).allSatisfy(text -> assertThat(text).contains(OVER_TLS));
            assertThat(postfix.connections()).as("the second mail went on the first mail's connection").isEqualTo(1);
            assertThat(postfix.tlsConnections()).isEqualTo(1);
        }
    }

    @Test
    void aBrokenHandshakeUnderOpportunisticTlsIsFollowedByPlaintextOnTheNextAttempt() throws Exception {
        TestCertificates certificates = TestCertificates.inTemporaryFolder();
        TestCertificates.ServerCertificate selfSigned = certificates.selfSigned(MX, "dns:" + MX);
        try (PostfixReceiver postfix = PostfixReceiver.builder().domain(DOMAIN).users("ann").connectionCountLimit(0)
                .tls(selfSigned.keyPem(), selfSigned.certificatePem()).tlsProtocols(ONLY_OLD_TLS).start();
             Booted james = Booted.with(policy(postfix, ""))) {
            james.client.send(TestPolicy.ALICE, "hello", "Hello.", "ann@" + DOMAIN);
            Poll.until(Duration.ofSeconds(60), "ann's mail at Postfix", () -> postfix.delivered("ann"), n -> n == 1);

            assertThat(postfix.failedHandshakes()).as("the first attempt's handshake").isGreaterThanOrEqualTo(1);
            assertThat(postfix.deliveredTexts()).singleElement().satisfies(text -> assertThat(text).doesNotContain(OVER_TLS));
            assertThat(james.runtime().plaintextFallbacks().current()).containsKey(MX);
        }
    }

    @Test
    void aBrokenHandshakeUnderRequiredTlsHoldsTheMailThenReturnsItWith5710() throws Exception {
        TestCertificates certificates = TestCertificates.inTemporaryFolder();
        TestCertificates.ServerCertificate selfSigned = certificates.selfSigned(MX, "dns:" + MX);
        String required = String.join("\n",
                "    tls: required",
                "    maxAge: 12s",
                "    delayWarning: 11s",
                // The built-in hold is 5 minutes; this test's mail lives 12 seconds.
                "    rules:",
                "      - id: tls.policy-unmet",
                "        match: {code: none, text: 'TLS (required|verified) by the delivery policy'}",
                "        action: throttle",
                "        effect: hold",
                "        hold: 1s",
                "        reason: securityerror",
                "        scope: destination",
                "        explanation: The policy requires TLS and none could be set up.",
                "        remedy: Fix the receiver's TLS.",
                "        source: test");
        try (PostfixReceiver postfix = PostfixReceiver.builder().domain(DOMAIN).users("ann").connectionCountLimit(0)
                .tls(selfSigned.keyPem(), selfSigned.certificatePem()).tlsProtocols(ONLY_OLD_TLS).start();
             Booted james = Booted.with(policy(postfix, required))) {
            james.client.send(TestPolicy.ALICE, "hello", "Hello.", "ann@" + DOMAIN);
            List<MimeMessage> dsns = Poll.until(Duration.ofSeconds(60), "a failure DSN in alice's INBOX",
                    () -> james.client.inbox(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD), m -> hasStatus(m, "5.7.10"));

            String dsn = textWithStatus(dsns, "5.7.10");
            assertThat(dsn).contains("ann@" + DOMAIN).contains("TLS required by the delivery policy");
            assertThat(postfix.deliveredMessages()).as("never sent in plaintext").isZero();
            assertThat(postfix.failedHandshakes()).isGreaterThanOrEqualTo(2);
            assertThat(james.runtime().plaintextFallbacks().current()).doesNotContainKey(MX);
        }
    }

    @Test
    void underVerifiedTlsACertificateNamingAnotherHostGetsNoMailAndTheRightNameDoes() throws Exception {
        TestCertificates certificates = TestCertificates.inTemporaryFolder();
        TestCertificates.TestCa ca = certificates.certificateAuthority("Delivery Policy Test CA");
        TestCertificates.ServerCertificate otherName = ca.issue("mx.elsewhere.test", "dns:mx.elsewhere.test");
        TestCertificates.ServerCertificate rightName = ca.issue(MX, "dns:" + MX);
        String verified = "    tls: { level: verified, trustStore: \"" + ca.trustStore() + "\", trustStorePassword: "
                + TestCertificates.PASSWORD + " }";
        try (PostfixReceiver wrong = PostfixReceiver.builder().domain(DOMAIN).users("ann").connectionCountLimit(0)
                .tls(otherName.keyPem(), otherName.certificatePem()).start();
             Booted james = Booted.with(policy(wrong, verified))) {
            james.client.send(TestPolicy.ALICE, "hello", "Hello.", "ann@" + DOMAIN);
            Poll.until(Duration.ofSeconds(30), "a refused handshake", wrong::failedHandshakes, n -> n >= 1);
            Poll.during(Duration.ofSeconds(5), "nothing delivered", wrong::deliveredMessages, n -> n == 0);
        }
        try (PostfixReceiver right = PostfixReceiver.builder().domain(DOMAIN).users("ann").connectionCountLimit(0)
                .tls(rightName.keyPem(), rightName.certificatePem()).start();
             Booted james = Booted.with(policy(right, verified))) {
            james.client.send(TestPolicy.ALICE, "hello", "Hello.", "ann@" + DOMAIN);
            Poll.until(Duration.ofSeconds(60), "ann's mail at Postfix", () -> right.delivered("ann"), n -> n == 1);
            assertThat(right.deliveredTexts()).singleElement().satisfies(text -> assertThat(text).contains(OVER_TLS));
        }
    }

    static boolean hasStatus(List<MimeMessage> messages, String status) {
        return textWithStatus(messages, status) != null;
    }

    static String textWithStatus(List<MimeMessage> messages, String status) {
        for (MimeMessage m : messages) {
            try {
                String text = Dsns.text(m);
                if (text.contains("Status: " + status)) {
                    return text;
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        return null;
    }

    /** James with the plugin and this policy, alice as a local user; its folder is deleted on close. */
    static final class Booted implements AutoCloseable {
        final Path workDir;
        final RunningJames james;
        final MailClient client;

        private Booted(Path workDir, RunningJames james) {
            this.workDir = workDir;
            this.james = james;
            this.client = new MailClient(james.smtpPort(), james.imapPort());
        }

        static Booted with(String policy) throws Exception {
            Path workDir = Files.createTempDirectory("james-it-tls-");
            RunningJames james = RunningJames.start(JamesSetup.of(workDir, JamesPorts.EPHEMERAL, DNS, policy));
            james.addUser(TestPolicy.ALICE, TestPolicy.ALICE_PASSWORD);
            return new Booted(workDir, james);
        }

        PolicyRuntime runtime() throws Exception {
            return PolicyRuntime.forPolicyFile(workDir.resolve("conf/delivery-policy.yaml").toString());
        }

        @Override
        public void close() throws Exception {
            try {
                james.close();
            } finally {
                try (Stream<Path> files = Files.walk(workDir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}
