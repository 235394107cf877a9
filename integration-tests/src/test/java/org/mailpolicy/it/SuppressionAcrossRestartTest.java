package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.stream.Stream;

import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An address AOL said does not exist is never tried again: not by the next mail, and not after James restarts on the
 * same working directory (the suppression database is an H2 file under var/). Each later mail still gets a DSN.
 */
class SuppressionAcrossRestartTest {
    private static final Duration DSN_WAIT = Duration.ofSeconds(30);
    private static final String UNKNOWN = "unknown-s1@aol.com";
    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void suppressedAcrossTwoMailsAndARestart() throws Exception {
        env.send("first-to-unknown", UNKNOWN);
        MimeMessage first = env.awaitDsnAbout("first-to-unknown", DSN_WAIT);
        assertThat(Dsns.status(first).recipient(UNKNOWN).getHeader("Diagnostic-Code", null)).contains("MAILBOX NOT FOUND");
        assertThat(env.rcptsFor(UNKNOWN)).hasSize(1);

        // Second mail: same address and a deliverable one; only the deliverable one reaches AOL.
        env.send("second-to-unknown", UNKNOWN, "ok-s2@aol.com");
        MimeMessage second = env.awaitDsnAbout("second-to-unknown", DSN_WAIT);
        Poll.until(DSN_WAIT, "ok-s2 delivered", env.aol::messages,
                messages -> messages.stream().anyMatch(m -> m.recipients().contains("ok-s2@aol.com")));
        assertThat(env.rcptsFor(UNKNOWN)).as("RCPT TO for the suppressed address at the fake").hasSize(1);
        InternetHeaders suppressed = Dsns.status(second).recipient(UNKNOWN);
        assertThat(suppressed.getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(suppressed.getHeader("Status", null)).startsWith("5.1.");
        assertThat(Dsns.humanText(second)).containsIgnoringCase("suppress");

        try (Stream<java.nio.file.Path> files = Files.walk(env.workDir.resolve("var"))) {
            assertThat(files.map(Object::toString)).as("the suppression database file under James's var/")
                    .anyMatch(name -> name.endsWith(".mv.db"));
        }
        env.restartJames();

        env.send("third-after-restart", UNKNOWN);
        MimeMessage third = env.awaitDsnAbout("third-after-restart", DSN_WAIT);
        assertThat(Dsns.status(third).recipient(UNKNOWN).getHeader("Action", null)).isEqualToIgnoringCase("failed");
        assertThat(env.rcptsFor(UNKNOWN)).as("RCPT TO for the suppressed address after the restart").hasSize(1);
    }
}
