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
import org.apache.james.queue.api.MailQueueName;

/**
 * What the WebAdmin routes need to know about the deployment, from James's
 * {@code conf/delivery-policy.properties} (optional) and system properties:
 * <ul>
 *   <li>the policy file: system property {@value #POLICY_SYSTEM_PROPERTY}, else {@code policy.file},
 *       else {@value #DEFAULT_POLICY}. The value is used exactly as the delivery mailet's
 *       {@code <policy>} parameter is (relative to James's working directory): write the same text in
 *       both places, so that the routes share the mailets' runtime (suppressions, in-memory holds);</li>
 *   <li>the delivery mailet's outgoing queue, for queued counts: {@code outgoing.queue}, else
 *       {@value #DEFAULT_QUEUE} (James's RemoteDelivery default).</li>
 * </ul>
 */
public final class WebAdminSettings {
    public static final String POLICY_SYSTEM_PROPERTY = "delivery-policy.file";
    public static final String PROPERTIES_FILE = "delivery-policy.properties";
    public static final String POLICY_KEY = "policy.file";
    public static final String QUEUE_KEY = "outgoing.queue";
    public static final String DEFAULT_POLICY = "conf/delivery-policy.yaml";
    public static final String DEFAULT_QUEUE = "outgoing";

    private final String policyLocation;
    private final MailQueueName outgoingQueue;

    private WebAdminSettings(String policyLocation, MailQueueName outgoingQueue) {
        this.policyLocation = policyLocation;
        this.outgoingQueue = outgoingQueue;
    }

    /**
     * @param systemProperties normally {@link System#getProperties()}
     * @param propertiesFile   James's {@code conf/delivery-policy.properties}, if it exists
     * @throws IllegalArgumentException naming the file and key when the properties file cannot be used
     */
    public static WebAdminSettings load(Properties systemProperties, Optional<Path> propertiesFile) {
        Preconditions.checkNotNull(systemProperties, "systemProperties");
        Preconditions.checkNotNull(propertiesFile, "propertiesFile");
        Properties file = new Properties();
        Optional<Path> existing = propertiesFile.filter(Files::isRegularFile);
        if (existing.isPresent()) {
            try (InputStream in = Files.newInputStream(existing.get());
                 Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                file.load(reader);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(existing.get() + ": cannot be read: " + e.getMessage(), e);
            }
            for (String key : file.stringPropertyNames()) {
                if (!key.equals(POLICY_KEY) && !key.equals(QUEUE_KEY)) {
                    throw new IllegalArgumentException(existing.get() + ": unknown key '" + key + "'; known: "
                            + POLICY_KEY + ", " + QUEUE_KEY);
                }
            }
        }
        String policy = systemProperties.getProperty(POLICY_SYSTEM_PROPERTY);
        if (policy == null || policy.trim().isEmpty()) {
            policy = nonEmpty(file, POLICY_KEY, existing).orElse(DEFAULT_POLICY);
        }
        String queue = nonEmpty(file, QUEUE_KEY, existing).orElse(DEFAULT_QUEUE);
        return new WebAdminSettings(policy.trim(), MailQueueName.of(queue));
    }

    private static Optional<String> nonEmpty(Properties p, String key, Optional<Path> file) {
        String value = p.getProperty(key);
        if (value == null) {
            return Optional.empty();
        }
        if (value.trim().isEmpty()) {
            throw new IllegalArgumentException(file.map(Path::toString).orElse(PROPERTIES_FILE) + ": " + key + " is empty");
        }
        return Optional.of(value.trim());
    }

    public String policyLocation() {
        return policyLocation;
    }

    public MailQueueName outgoingQueue() {
        return outgoingQueue;
    }

    @Override
    public String toString() {
        return "{policy: " + policyLocation + ", outgoing queue: " + outgoingQueue.asString() + "}";
    }
}
