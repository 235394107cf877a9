package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import com.google.inject.multibindings.Multibinder;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.RawMailQueueItemDecoratorFactory;
import org.apache.james.queue.memory.MemoryMailQueueFactory;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.WebAdminServer;
import org.apache.james.webadmin.WebAdminUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.state.DestinationKey;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSentMessageLedger;
import org.mailpolicy.suppression.JdbcSuppressionList;

/**
 * The Guice module as James 3.8.1's extension loader uses it (a child injector of James's, which already binds a set
 * of routes): the routes are built there and share the mailets' runtime. The whole boot is in the integration tests'
 * OperatingTest.
 */
class DeliveryPolicyWebAdminModuleTest {
    @TempDir
    Path dir;
    private String location;
    private PolicyRuntime runtime;

    @BeforeEach
    void registerRuntime() {
        location = dir.resolve("conf/delivery-policy.yaml").toString();
        Path base = dir.resolve("suppressions");
        runtime = PolicyRuntime.of(DeliveryPolicy.builtInDefault(), ReplyClassifier.builtIn(),
                JdbcSuppressionList.openH2(base), JdbcSentMessageLedger.openH2(base),
                new InMemoryDestinationStateStore(), Clock.systemUTC());
        PolicyRuntime.registerForTesting(location, runtime);
    }

    @AfterEach
    void forget() {
        PolicyRuntime.forgetForTesting(location);
    }

    /** James's FileSystem, rooted at the test folder. */
    private FileSystem fileSystem() {
        return new FileSystem() {
            @Override
            public InputStream getResource(String url) throws java.io.IOException {
                return Files.newInputStream(getFile(url).toPath());
            }

            @Override
            public File getFile(String url) throws FileNotFoundException {
                File f = dir.resolve(url.replace(FileSystem.FILE_PROTOCOL, "")).toFile();
                if (!f.exists()) {
                    throw new FileNotFoundException(url);
                }
                return f;
            }

            @Override
            public File getBasedir() {
                return dir.toFile();
            }
        };
    }

    @Test
    void bindsRoutesOverThePolicyNamedInConf() throws Exception {
        Files.createDirectories(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/delivery-policy.properties"), "policy.file=" + location + "\n");
        MemoryMailQueueFactory queues = new MemoryMailQueueFactory(new RawMailQueueItemDecoratorFactory());
        // James's injector: its own WebAdmin routes in a Multibinder set (as TaskRoutesModule binds them).
        Injector james = Guice.createInjector(binder -> {
            Multibinder.newSetBinder(binder, Routes.class);
            binder.bind(FileSystem.class).toInstance(fileSystem());
            binder.bind(new TypeLiteral<MailQueueFactory<?>>() { }).toInstance(queues);
        });
        // GuiceGenericLoader: the modules of extensions.properties in a child injector, from which the classes named
        // by webadmin.properties' extensions.routes are instantiated.
        Injector extensions = james.createChildInjector(new DeliveryPolicyWebAdminModule());

        Routes routes = extensions.getInstance(DeliveryPolicyRoutes.class);

        assertThat(extensions.getInstance(DeliveryPolicyRoutes.class)).isSameAs(routes);
        assertThat(james.getInstance(Key.get(new TypeLiteral<Set<Routes>>() { }))).isEmpty();
        WebAdminServer server = WebAdminUtils.createWebAdminServer(routes).start();
        try {
            HttpResponse<String> put = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.getPort().getValue() + "/delivery-policy/suppressions/bob@aol.com"))
                    .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).isEqualTo(201);
            // The same list the delivery mailets of this policy file consult.
            assertThat(runtime.suppressions().find("bob@aol.com")).isPresent();
            runtime.destinations().admit(DestinationKey.of("example.org"), runtime.policy().defaultDestination(),
                    runtime.clock().instant());
            HttpResponse<String> destinations = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.getPort().getValue() + "/delivery-policy/destinations"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            // The same destination state: an unlisted domain the mailets' store knows, with the queue's count.
            assertThat(destinations.body()).contains("\"name\":\"example.org\"").contains("\"policy\":\"default\"")
                    .contains("\"inFlight\":1").contains("\"queued\":0");
        } finally {
            server.destroy();
        }
    }
}
