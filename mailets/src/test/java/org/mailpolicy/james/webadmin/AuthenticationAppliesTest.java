package org.mailpolicy.james.webadmin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.WebAdminConfiguration;
import org.apache.james.webadmin.WebAdminServer;
import org.apache.james.webadmin.authentication.AuthenticationFilter;
import org.apache.james.webadmin.mdc.LoggingRequestFilter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.state.InMemoryDestinationStateStore;
import org.mailpolicy.suppression.JdbcSuppressionList;
import spark.Spark;

/**
 * James applies its WebAdmin authentication filter to every path of a (non-public) Routes bean:
 * with a filter that demands a token, as JwtFilter does, our routes refuse anonymous calls and
 * change nothing.
 */
class AuthenticationAppliesTest {
    private static final String TOKEN = "Bearer good-token";

    @TempDir
    Path dir;
    private JdbcSuppressionList suppressions;
    private WebAdminServer server;

    @BeforeEach
    void start() throws Exception {
        suppressions = JdbcSuppressionList.openH2(dir.resolve("suppressions"));
        Routes routes = DeliveryPolicyRoutes.of(suppressions, new InMemoryDestinationStateStore(),
                DeliveryPolicy.builtInDefault(), (d, r) -> { throw new AssertionError("not reached"); },
                Clock.systemUTC(), QueuedMailCounter.UNKNOWN);
        AuthenticationFilter demandsToken = (request, response) -> {
            if (!TOKEN.equals(request.headers("Authorization"))) {
                Spark.halt(401, "{\"message\":\"no token\"}");
            }
        };
        server = new WebAdminServer(WebAdminConfiguration.TEST_CONFIGURATION, List.of(routes), demandsToken,
                new RecordingMetricFactory(), LoggingRequestFilter.create()) { }.start();
    }

    @AfterEach
    void stop() {
        server.destroy();
        suppressions.close();
    }

    private int put(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort().getValue() + path))
                .PUT(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void anonymousCallsAreRefusedAndChangeNothing() throws Exception {
        assertThat(put("/delivery-policy/suppressions/bob@aol.com", null)).isEqualTo(401);
        assertThat(suppressions.find("bob@aol.com")).isEmpty();

        assertThat(put("/delivery-policy/suppressions/bob@aol.com", TOKEN)).isEqualTo(201);
        assertThat(suppressions.find("bob@aol.com")).isPresent();
    }
}
