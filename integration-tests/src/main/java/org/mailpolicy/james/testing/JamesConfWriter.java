package org.mailpolicy.james.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Builds James's {@code conf/} from the repository's files, the same files an operator copies:
 * {@code config/mailetcontainer.xml} with its {@code <policy>} pointed at this boot's policy file (absolute), James's
 * server files from {@code config/sandbox/} with the sandbox's fixed ports replaced by the requested ones, and the policy
 * as {@code conf/delivery-policy.yaml}; the setup's extra files (what an operator adds or changes, such as
 * {@code extensions.properties}) are written over the sandbox's before the ports are replaced.
 *
 * <p>Port replacement is literal text and strict: each sandbox value must occur exactly once in its file, so an edit to
 * those files that would silently leave a test on the sandbox's fixed ports fails here with the file's name instead.
 */
final class JamesConfWriter {
    private static final String OPERATOR_POLICY_PARAMETER = "<policy>file://conf/delivery-policy.yaml</policy>";

    private record Substitution(String file, String literal, String replacement) {
    }

    private JamesConfWriter() {
    }

    static Path write(JamesSetup setup) {
        Path conf = setup.workingDirectory().resolve("conf");
        try {
            Files.createDirectories(conf);
            try (Stream<Path> files = Files.list(setup.layout().sandboxConfig())) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    String name = file.getFileName().toString();
                    if (name.endsWith(".xml") || name.endsWith(".properties")) {
                        Files.copy(file, conf.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Path policy = conf.resolve("delivery-policy.yaml");
            String mailetContainer = setup.mailetContainer().isPresent() ? setup.mailetContainer().get()
                    : Files.readString(setup.layout().config().resolve("mailetcontainer.xml"), StandardCharsets.UTF_8);
            // The plugin resolves a relative <policy> against the JVM's working directory, which is James's own in
            // production but not in a test JVM: point it at this James's file explicitly.
            if (setup.mailetContainer().isEmpty() && !mailetContainer.contains(OPERATOR_POLICY_PARAMETER)) {
                throw new IllegalStateException("config/mailetcontainer.xml: expected " + OPERATOR_POLICY_PARAMETER
                        + " (the policy location the harness redirects to " + policy + ")");
            }
            mailetContainer = mailetContainer.replace(OPERATOR_POLICY_PARAMETER, "<policy>" + policy + "</policy>");
            Files.writeString(conf.resolve("mailetcontainer.xml"), mailetContainer, StandardCharsets.UTF_8);
            Files.writeString(policy, setup.policyYaml().replace(JamesSetup.JAMES_HOME_TOKEN, setup.workingDirectory().toString()),
                    StandardCharsets.UTF_8);

            for (Map.Entry<String, String> extra : setup.extraConfFiles().entrySet()) {
                if (extra.getKey().equals("mailetcontainer.xml") || extra.getKey().equals("delivery-policy.yaml")) {
                    throw new IllegalStateException("extra conf file " + extra.getKey()
                            + ": use JamesSetup.withMailetContainer or withPolicy instead");
                }
                Files.writeString(conf.resolve(extra.getKey()), extra.getValue().replace(JamesSetup.JAMES_HOME_TOKEN,
                        setup.workingDirectory().toString()), StandardCharsets.UTF_8);
            }

            JamesPorts sandbox = JamesPorts.SANDBOX;
            JamesPorts wanted = setup.ports();
            for (Substitution substitution : List.of(
                    new Substitution("smtpserver.xml", bind(sandbox.smtp()), bind(wanted.smtp())),
                    new Substitution("imapserver.xml", bind(sandbox.imap()), bind(wanted.imap())),
                    new Substitution("webadmin.properties", "\nport=" + sandbox.webAdmin() + "\n", "\nport=" + wanted.webAdmin() + "\n"))) {
                apply(conf, substitution);
            }
            return conf;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write James's conf/ in " + conf + ": " + e.getMessage(), e);
        }
    }

    private static String bind(int port) {
        return "<bind>127.0.0.1:" + port + "</bind>";
    }

    private static void apply(Path conf, Substitution substitution) throws IOException {
        Path file = conf.resolve(substitution.file());
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int first = text.indexOf(substitution.literal());
        if (first < 0 || text.indexOf(substitution.literal(), first + 1) >= 0) {
            throw new IllegalStateException("config/sandbox/" + substitution.file() + ": expected '" + substitution.literal()
                    + "' exactly once (the sandbox value the tests replace), found it " + (first < 0 ? "nowhere" : "more than once"));
        }
        Files.writeString(file, text.replace(substitution.literal(), substitution.replacement()), StandardCharsets.UTF_8);
    }
}
