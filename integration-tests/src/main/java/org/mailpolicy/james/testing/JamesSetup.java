package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
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
 */
public record JamesSetup(Path workingDirectory, RepoLayout layout, JamesPorts ports, FixedDns dns, String policyYaml,
        Optional<String> mailetContainer) {
    public static final String JAMES_HOME_TOKEN = "@JAMES_HOME@";

    public JamesSetup {
        workingDirectory = requireNonNull(workingDirectory, "workingDirectory").toAbsolutePath().normalize();
        requireNonNull(layout, "layout");
        requireNonNull(ports, "ports");
        requireNonNull(dns, "dns");
        requireNonNull(policyYaml, "policyYaml");
        requireNonNull(mailetContainer, "mailetContainer");
    }

    public static JamesSetup of(Path workingDirectory, JamesPorts ports, FixedDns dns, String policyYaml) {
        return new JamesSetup(workingDirectory, RepoLayout.find(), ports, dns, policyYaml, Optional.empty());
    }

    public JamesSetup withMailetContainer(String xml) {
        return new JamesSetup(workingDirectory, layout, ports, dns, policyYaml, Optional.of(xml));
    }

    public JamesSetup withPolicy(String yaml) {
        return new JamesSetup(workingDirectory, layout, ports, dns, yaml, mailetContainer);
    }
}
