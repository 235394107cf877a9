package org.mailpolicy.james.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where the checkout's operator files are. Tests run in the module folder, the sandbox in the repository root; both find
 * the root by walking up to the folder holding {@code config/mailetcontainer.xml}, unless {@code -Dmailpolicy.repo=DIR}
 * says where it is.
 */
public final class RepoLayout {
    public static final String REPO_PROPERTY = "mailpolicy.repo";

    private final Path root;

    private RepoLayout(Path root) {
        this.root = root;
    }

    public static RepoLayout find() {
        String configured = System.getProperty(REPO_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path root = Paths.get(configured).toAbsolutePath().normalize();
            if (!Files.isRegularFile(root.resolve("config/mailetcontainer.xml"))) {
                throw new IllegalStateException("-D" + REPO_PROPERTY + "=" + configured + ": no config/mailetcontainer.xml there");
            }
            return new RepoLayout(root);
        }
        Path start = Paths.get("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("config/mailetcontainer.xml"))) {
                return new RepoLayout(dir);
            }
        }
        throw new IllegalStateException("no config/mailetcontainer.xml in " + start + " or above; pass -D" + REPO_PROPERTY + "=DIR");
    }

    public Path root() {
        return root;
    }

    /** The operator's files: {@code mailetcontainer.xml}, {@code delivery-policy.yaml}. */
    public Path config() {
        return root.resolve("config");
    }

    /** James's other conf files for the sandbox and the tests (SMTP, IMAP, WebAdmin, domains, users). */
    public Path sandboxConfig() {
        return root.resolve("config/sandbox");
    }
}
