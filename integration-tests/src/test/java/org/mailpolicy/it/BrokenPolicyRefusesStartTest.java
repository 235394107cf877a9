package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.mailpolicy.james.testing.JamesPorts;
import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RunningJames;

/**
 * A broken policy stops James 3.8.1 from starting, with every error named as FILE:LINE: FIELD: MESSAGE, instead of
 * James running on defaults the operator did not choose. One boot of the real James with the test policy broken in
 * two places (a throttle growth below 1 and a rules file that does not exist); the harness sets
 * {@code james.exit.on.startup.error=false}, so the start fails with an exception rather than {@code System.exit}.
 */
class BrokenPolicyRefusesStartTest {
    private static final String GOOD_THROTTLE = "throttle: { initial: 4s, growth: 1.5, max: 8s }";
    private static final String BAD_THROTTLE = "throttle: { initial: 4s, growth: 0.5, max: 8s }";

    @Test
    void jamesRefusesToStartAndNamesFileLineAndFieldOfEveryError() throws Exception {
        Path workDir = Files.createTempDirectory("james-broken-policy-");
        String policy = TestPolicy.forFakeAol(freePort());
        assertThat(policy).contains(GOOD_THROTTLE).contains("\nrules: []\n");
        String broken = policy.replace(GOOD_THROTTLE, BAD_THROTTLE)
                .replace("\nrules: []\n", "\nrules: [local-overrides.yaml]\n");
        int smtpPort = freePort();
        JamesSetup setup = JamesSetup.of(workDir, new JamesPorts(smtpPort, 0, 0), TestPolicy.DNS, broken);

        long start = System.nanoTime();
        Throwable failure = catchThrowable(() -> RunningJames.start(setup).close());
        long tookMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(failure).as("James must not start on a broken policy").isNotNull();
        Path file = workDir.resolve("conf/delivery-policy.yaml");
        String messages = String.join("\n", chain(failure));
        System.out.printf("BrokenPolicyRefusesStartTest: start failed after %d ms with %s%n", tookMillis, messages);
        assertThat(messages)
                .contains(file + ":" + lineOf(broken, BAD_THROTTLE) + ": destinations[aol].throttle.growth: must be at least 1, got 0.5")
                .contains(file + ":" + lineOf(broken, "rules: [local-overrides.yaml]") + ": rules[0]: no such file: "
                        + workDir.resolve("conf/local-overrides.yaml"));
        assertThat(accepts(smtpPort)).as("nothing listens on James's SMTP port").isFalse();
    }

    /** The 1-based line of the first line containing {@code text}. */
    private static int lineOf(String document, String text) {
        String[] lines = document.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line with " + text);
    }

    /** The messages of the exception and its causes and suppressed exceptions, as Guice and James wrap them. */
    private static List<String> chain(Throwable top) {
        List<String> out = new ArrayList<>();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Throwable> todo = new ArrayList<>(List.of(top));
        while (!todo.isEmpty()) {
            Throwable t = todo.remove(0);
            if (t == null || !seen.add(t)) {
                continue;
            }
            out.add(t.getClass().getName() + ": " + t.getMessage());
            todo.add(t.getCause());
            todo.addAll(List.of(t.getSuppressed()));
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
