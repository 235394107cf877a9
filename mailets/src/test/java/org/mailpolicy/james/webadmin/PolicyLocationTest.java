package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLocationTest {
    @TempDir
    Path dir;

    private static Properties system(String value) {
        Properties p = new Properties();
        if (value != null) {
            p.setProperty(PolicyLocation.SYSTEM_PROPERTY, value);
        }
        return p;
    }

    @Test
    void systemPropertyWinsOverTheConfFile() throws Exception {
        Path conf = Files.writeString(dir.resolve("delivery-policy.properties"), "policy.file=conf/from-file.yaml\n");
        assertThat(PolicyLocation.find(system(" /etc/james/policy.yaml "), Optional.of(conf))).isEqualTo("/etc/james/policy.yaml");
    }

    @Test
    void confFileWhenNoSystemProperty() throws Exception {
        Path conf = Files.write(dir.resolve("delivery-policy.properties"),
                "# where the policy is\npolicy.file = conf/my-policy.yaml\n".getBytes(StandardCharsets.UTF_8));
        assertThat(PolicyLocation.find(system(null), Optional.of(conf))).isEqualTo("conf/my-policy.yaml");
    }

    @Test
    void defaultWhenNeitherIsThere() {
        assertThat(PolicyLocation.find(system(null), Optional.empty())).isEqualTo("conf/delivery-policy.yaml");
        assertThat(PolicyLocation.find(system(""), Optional.of(dir.resolve("absent.properties"))))
                .isEqualTo(PolicyLocation.DEFAULT_LOCATION);
    }

    @Test
    void confFileWithoutTheKeyIsAnErrorNamingFileAndKey() throws Exception {
        Path conf = Files.writeString(dir.resolve("delivery-policy.properties"), "policy.fiel=conf/x.yaml\n");
        assertThatThrownBy(() -> PolicyLocation.find(system(null), Optional.of(conf)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(conf.toString()).hasMessageContaining("policy.file is missing");
    }
}
