package org.mailpolicy.james.webadmin;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import java.io.File;
import java.io.FileNotFoundException;
import java.util.Optional;
import javax.mail.MessagingException;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.queue.api.MailQueueFactory;
import org.mailpolicy.james.PolicyRuntime;

/**
 * Provides the {@code /delivery-policy} routes to James's WebAdmin. James 3.8.1 loads route
 * extensions by class name from {@code conf/webadmin.properties}, instantiating them in a child
 * injector that holds the modules of {@code conf/extensions.properties}; an operator enables both:
 * <pre>
 * # conf/extensions.properties
 * guice.extension.module=org.mailpolicy.james.webadmin.DeliveryPolicyWebAdminModule
 * # conf/webadmin.properties
 * extensions.routes=org.mailpolicy.james.webadmin.DeliveryPolicyRoutes
 * </pre>
 * No {@code Multibinder<Routes>} here: in that child injector it clashes with James's own set of
 * routes and James does not start (Guice: "Set&lt;Routes&gt; was bound multiple times"). James's WebAdmin
 * authentication applies to these routes like to its own. The policy file is found by
 * {@link WebAdminSettings}; James does not start if it cannot be loaded, as with the mailets.
 */
public final class DeliveryPolicyWebAdminModule extends AbstractModule {

    @Override
    protected void configure() {
        // Everything is in the provider below: the routes need the policy runtime, built on first use.
    }

    @Provides
    @Singleton
    DeliveryPolicyRoutes routes(FileSystem fileSystem, MailQueueFactory<?> queues) throws MessagingException {
        WebAdminSettings settings = WebAdminSettings.load(System.getProperties(), propertiesFile(fileSystem));
        PolicyRuntime runtime = PolicyRuntime.forPolicyFile(settings.policyLocation());
        return DeliveryPolicyRoutes.of(runtime.suppressions(), runtime.destinations(), runtime.directoryOutages(),
                runtime.policy(),
                (destination, reply) -> destination.map(runtime::classifierFor).orElse(runtime.classifier()).classify(reply),
                runtime.clock(), MailQueueCounter.of(queues, settings.outgoingQueue(), runtime.policy(),
                        MailQueueCounter.DEFAULT_MAX_BROWSED),
                MailQueueRelease.of(queues, settings.outgoingQueue(), runtime.policy(), MailQueueCounter.DEFAULT_MAX_BROWSED),
                runtime.parked());
    }

    private static Optional<java.nio.file.Path> propertiesFile(FileSystem fileSystem) {
        try {
            File f = fileSystem.getFile(FileSystem.FILE_PROTOCOL_AND_CONF + WebAdminSettings.PROPERTIES_FILE);
            return Optional.of(f.toPath());
        } catch (FileNotFoundException e) {
            return Optional.empty();
        }
    }
}
