package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebAdminSettingsTest {
    @TempDir
    Path dir;

    private static Properties system(String policy) {
        Properties p = new Properties();
        if (policy != null) {
            p.setProperty(WebAdminSettings.POLICY_SYSTEM_PROPERTY, policy);
        }
        return p;
    }

    @Test
    void systemPropertyWinsOverTheConfFile() throws Exception {
        Path conf = Files.writeString(dir.resolve("delivery-policy.properties"), "policy.file=conf/from-file.yaml\n");
        assertThat(WebAdminSettings.load(system(" /etc/james/policy.yaml "), Optional.of(conf)).policyLocation())
                .isEqualTo("/etc/james/policy.yaml");
    }

    @Test
    void confFileWhenNoSystemProperty() throws Exception {
        Path conf = Files.writeString(dir.resolve("delivery-policy.properties"),
                "# where the policy is\npolicy.file = conf/my-policy.yaml\noutgoing.queue = relay-out\n");
        WebAdminSettings s = WebAdminSettings.load(system(null), Optional.of(conf));
        assertThat(s.policyLocation()).isEqualTo("conf/my-policy.yaml");
        assertThat(s.outgoingQueue().asString()).isEqualTo("relay-out");
    }

    @Test
    void defaultsWhenNeitherIsThere() {
        WebAdminSettings s = WebAdminSettings.load(system(""), Optional.of(dir.resolve("absent.properties")));
        assertThat(s.policyLocation()).isEqualTo("conf/delivery-policy.yaml");
        assertThat(s.outgoingQueue().asString()).isEqualTo("outgoing");
        assertThat(WebAdminSettings.load(system(null), Optional.empty()).policyLocation())
                .isEqualTo(WebAdminSettings.DEFAULT_POLICY);
    }

    @Test
    void misspeltOrEmptyKeysAreErrorsNamingTheFile() throws Exception {
        Path misspelt = Files.writeString(dir.resolve("a.properties"), "policy.fiel=conf/x.yaml\n");
        assertThatThrownBy(() -> WebAdminSettings.load(system(null), Optional.of(misspelt)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(misspelt.toString()).hasMessageContaining("unknown key 'policy.fiel'");
        Path empty = Files.writeString(dir.resolve("b.properties"), "policy.file=\n");
        assertThatThrownBy(() -> WebAdminSettings.load(system(null), Optional.of(empty)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(empty.toString()).hasMessageContaining("policy.file is empty");
    }
}
