package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import javax.mail.MessagingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.james.PolicyRuntime;

/**
 * A policy file choosing the shared PostgreSQL store reaches the database at load (James then
 * refuses to start with a clear message, as for any unusable store). The store's behaviour on a
 * real PostgreSQL is tested in the policy module (PostgresSharedStoreTest).
 */
class SharedStoreRuntimeTest {
    @TempDir
    Path dir;

    @Test
    void unreachableSharedStoreFailsLoadNamingTheDatabaseButNotThePassword() throws Exception {
        Path policy = Files.writeString(dir.resolve("delivery-policy.yaml"), "version: 1\n"
                + "suppression:\n"
                + "  store: postgresql\n"
                + "  url: jdbc:postgresql://127.0.0.1:1/mail\n"
                + "  user: james\n"
                + "  password: s3cret\n");
        try {
            assertThatThrownBy(() -> PolicyRuntime.forPolicyFile(policy.toString()))
                    .isInstanceOf(MessagingException.class)
                    .hasMessageContaining("cannot be used: cannot open the suppression list in jdbc:postgresql://127.0.0.1:1/mail as james: Connection to 127.0.0.1:1 refused")
                    .hasMessageContaining(policy.toString())
                    .hasMessageNotContaining("s3cret");
        } finally {
            PolicyRuntime.forgetForTesting(policy.toString());
        }
    }
}
