package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a James boot needs: where it works, which ports, which DNS table, which delivery policy, and which
 * {@code mailetcontainer.xml} (the repository's own unless a test replaces it, for example to run stock
 * {@code RemoteDelivery} as a baseline).
 *
 * @param workingDirectory James's working directory; {@code conf/} is (re)written in it on every boot, {@code var/} is kept,
 *                         so a second boot on the same folder sees what the first stored
 * @param layout           where the repository's {@code config/} files are
 * @param ports            ports on 127.0.0.1
 * @param dns              the name table James resolves from
 * @param policyYaml       the delivery policy, written to {@code conf/delivery-policy.yaml} with {@value #JAMES_HOME_TOKEN}
 *                         replaced by the working directory (the plugin resolves relative paths against the JVM's
 *                         working directory, which is not James's in a test)
 * @param mailetContainer  a replacement {@code mailetcontainer.xml} text, or empty for {@code config/mailetcontainer.xml}
 * @param extraConfFiles   more files for {@code conf/} by name, for what an operator adds to a stock James (for example
 *                         {@code extensions.properties}); {@value #JAMES_HOME_TOKEN} in them is replaced as in the policy.
 *                         One may replace a sandbox file (ports are still replaced in it, so keep the sandbox's port
 *                         lines), not the mailet container or the policy, which have their own setters
 * @param mailQueue        the mail queue James runs on: {@link MailQueueKind#MEMORY} (the memory app's, the default) or
 *                         {@link MailQueueKind#ACTIVEMQ} (persistent, under {@code var/})
 */
public record JamesSetup(Path workingDirectory, RepoLayout layout, JamesPorts ports, FixedDns dns, String policyYaml,
        Optional<String> mailetContainer, Map<String, String> extraConfFiles, MailQueueKind mailQueue) {
    public static final String JAMES_HOME_TOKEN = "@JAMES_HOME@";

    public JamesSetup {
        workingDirectory = requireNonNull(workingDirectory, "workingDirectory").toAbsolutePath().normalize();
        requireNonNull(layout, "layout");
        requireNonNull(ports, "ports");
        requireNonNull(dns, "dns");
        requireNonNull(policyYaml, "policyYaml");
        requireNonNull(mailetContainer, "mailetContainer");
        extraConfFiles = Map.copyOf(requireNonNull(extraConfFiles, "extraConfFiles"));
        requireNonNull(mailQueue, "mailQueue");
        for (String name : extraConfFiles.keySet()) {
            if (name.isBlank() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw new IllegalArgumentException("extra conf file name must be a plain file name, was '" + name + "'");
            }
        }
    }

    public static JamesSetup of(Path workingDirectory, JamesPorts ports, FixedDns dns, String policyYaml) {
        return new JamesSetup(workingDirectory, RepoLayout.find(), ports, dns, policyYaml, Optional.empty(), Map.of(),
                MailQueueKind.MEMORY);
    }

    public JamesSetup withMailetContainer(String xml) {
        return new JamesSetup(workingDirectory, layout, ports, dns, policyYaml, Optional.of(xml), extraConfFiles, mailQueue);
    }

    public JamesSetup withPolicy(String yaml) {
        return new JamesSetup(workingDirectory, layout, ports, dns, yaml, mailetContainer, extraConfFiles, mailQueue);
    }

    /** With one more file in {@code conf/} (replacing an extra file of that name given before). */
    public JamesSetup withConfFile(String name, String text) {
        Map<String, String> files = new LinkedHashMap<>(extraConfFiles);
        files.put(requireNonNull(name, "name"), requireNonNull(text, "text"));
        return new JamesSetup(workingDirectory, layout, ports, dns, policyYaml, mailetContainer, files, mailQueue);
    }

    /** On this mail queue instead of the memory app's. */
    public JamesSetup withMailQueue(MailQueueKind kind) {
        return new JamesSetup(workingDirectory, layout, ports, dns, policyYaml, mailetContainer, extraConfFiles, kind);
    }
}
