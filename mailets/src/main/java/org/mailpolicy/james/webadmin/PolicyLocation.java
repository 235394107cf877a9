package org.mailpolicy.james.webadmin;

import com.google.common.base.Preconditions;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * Where the WebAdmin routes find the policy file, so that they share the delivery mailets' runtime
 * (same file, same suppression list, same in-memory holds). In order:
 * <ol>
 *   <li>the system property {@value #SYSTEM_PROPERTY} ({@code -Ddelivery-policy.file=conf/delivery-policy.yaml});</li>
 *   <li>{@code policy.file} in James's {@code conf/delivery-policy.properties};</li>
 *   <li>{@value #DEFAULT_LOCATION}.</li>
 * </ol>
 * The value is used exactly as the delivery mailet's {@code <policy>} parameter is (relative to
 * James's working directory): write the same text in both places.
 */
public final class PolicyLocation {
    public static final String SYSTEM_PROPERTY = "delivery-policy.file";
    public static final String PROPERTIES_FILE = "delivery-policy.properties";
    public static final String PROPERTY_KEY = "policy.file";
    public static final String DEFAULT_LOCATION = "conf/delivery-policy.yaml";

    private PolicyLocation() {
    }

    /**
     * @param systemProperties normally {@link System#getProperties()}
     * @param propertiesFile   James's {@code conf/delivery-policy.properties}, if it exists
     * @throws IllegalArgumentException naming the file and key when the properties file cannot be used
     */
    public static String find(Properties systemProperties, Optional<Path> propertiesFile) {
        Preconditions.checkNotNull(systemProperties, "systemProperties");
        Preconditions.checkNotNull(propertiesFile, "propertiesFile");
        String fromSystem = systemProperties.getProperty(SYSTEM_PROPERTY);
        if (fromSystem != null && !fromSystem.trim().isEmpty()) {
            return fromSystem.trim();
        }
        if (propertiesFile.isPresent() && Files.isRegularFile(propertiesFile.get())) {
            Path file = propertiesFile.get();
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(file);
                 Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                p.load(reader);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": cannot be read: " + e.getMessage(), e);
            }
            String value = p.getProperty(PROPERTY_KEY);
            if (value == null || value.trim().isEmpty()) {
                throw new IllegalArgumentException(file + ": " + PROPERTY_KEY
                        + " is missing or empty (the delivery policy file, as in the delivery mailet's <policy>)");
            }
            return value.trim();
        }
        return DEFAULT_LOCATION;
    }
}
