package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Lists;
import java.util.List;
import org.apache.james.core.Domain;
import org.apache.mailet.HostAddress;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.Route;
import org.mailpolicy.destination.StoreSettings;
import org.mailpolicy.reply.Stage;

class TargetResolverTest {
    private static final DestinationPolicy AOL = DestinationPolicy.builder("aol").domains(ImmutableList.of("aol.com"))
            .mx(ImmutableList.of("*.mx.aol.test")).build();
    private static final DestinationPolicy RELAYED = DestinationPolicy.builder("relayed")
            .domains(ImmutableList.of("relayed.test")).route(Route.of("smarthost.test", 2525)).build();
    private static final DeliveryPolicy POLICY = DeliveryPolicy.of(StoreSettings.defaults(), ImmutableList.of(),
            ImmutableList.of(AOL, RELAYED), DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME).build());
    private static final LoopbackDns DNS = new LoopbackDns(ImmutableMap.of(
            "aol.com", ImmutableList.of("mx1.mx.aol.test.", "mx2.mx.aol.test."),
            "vanity.test", ImmutableList.of("mx9.mx.aol.test."),
            "plain.test", ImmutableList.of("mail.plain.test")));

    private static List<String> hosts(TargetResolver.Target t) {
        List<String> out = Lists.newArrayList();
        t.hosts().forEachRemaining((HostAddress h) -> out.add(h.getHostName() + ":" + h.getPort()));
        return out;
    }

    @Test
    void mxHostsInPreferenceOrderForANamedDomain() {
        TargetResolver.Target t = new TargetResolver(POLICY, DNS, ImmutableList.of(), true, false).resolve(Domain.of("aol.com"));

        assertThat(t.destination().name()).isEqualTo("aol");
        assertThat(t.failure()).isEmpty();
        assertThat(hosts(t)).containsExactly("mx1.mx.aol.test.:25", "mx2.mx.aol.test.:25");
    }

    @Test
    void anMxPatternSelectsTheDestinationOfAnUnnamedDomain() {
        TargetResolver resolver = new TargetResolver(POLICY, DNS, ImmutableList.of(), true, false);

        assertThat(resolver.resolve(Domain.of("vanity.test")).destination().name()).isEqualTo("aol");
        assertThat(resolver.resolve(Domain.of("plain.test")).destination().name()).isEqualTo(DeliveryPolicy.DEFAULT_NAME);
    }

    @Test
    void thePolicysRouteBeatsTheGatewayWhichBeatsMx() {
        TargetResolver withGateway = new TargetResolver(POLICY, DNS, ImmutableList.of("gw.test:2526"), false, false);

        assertThat(hosts(withGateway.resolve(Domain.of("relayed.test")))).containsExactly("smarthost.test:2525");
        TargetResolver.Target aol = withGateway.resolve(Domain.of("aol.com"));
        assertThat(aol.destination().name()).isEqualTo("aol");
        assertThat(hosts(aol)).containsExactly("gw.test:2526");
    }

    @Test
    void dnsProblemsAreRepliesToClassifyNotExceptions() {
        TargetResolver resolver = new TargetResolver(POLICY, DNS, ImmutableList.of(), true, false);

        TargetResolver.Target broken = resolver.resolve(Domain.of("dns-broken.test"));
        assertThat(broken.failure()).hasValueSatisfying(r -> {
            assertThat(r.stage()).isEqualTo(Stage.CONNECT);
            assertThat(r.raw()).contains("Temporary problem looking up mail server").contains("dns-broken.test");
        });
        assertThat(resolver.resolve(Domain.of("nomx.test")).failure())
                .hasValueSatisfying(r -> assertThat(r.raw()).contains("No mail server found for domain nomx.test"));
    }

    @Test
    void theStateKeyIsTheNamedDestinationOrTheRecipientDomain() {
        TargetResolver resolver = new TargetResolver(POLICY, DNS, ImmutableList.of(), true, false);

        assertThat(resolver.resolve(Domain.of("aol.com")).key().asString()).isEqualTo("aol");
        // A vanity domain AOL hosts shares AOL's state: the same servers.
        assertThat(resolver.resolve(Domain.of("vanity.test")).key().asString()).isEqualTo("aol");
        assertThat(resolver.resolve(Domain.of("relayed.test")).key().asString()).isEqualTo("relayed");
        // Each domain under the default is its own destination, DNS failures included.
        assertThat(resolver.resolve(Domain.of("Plain.TEST")).key().asString()).isEqualTo("plain.test");
        assertThat(resolver.resolve(Domain.of("dns-broken.test")).key().asString()).isEqualTo("dns-broken.test");
        assertThat(resolver.resolve(Domain.of("nomx.test")).key().asString()).isEqualTo("nomx.test");
    }

    @Test
    void throughOneRelayTheDefaultIsOneDestination() {
        // The mailet's gateway: every unlisted domain goes to the same next hop, which throttles for all of them.
        TargetResolver withGateway = new TargetResolver(POLICY, DNS, ImmutableList.of("gw.test:2526"), false, false);
        assertThat(withGateway.resolve(Domain.of("plain.test")).key().asString()).isEqualTo(DeliveryPolicy.DEFAULT_NAME);
        assertThat(withGateway.resolve(Domain.of("aol.com")).key().asString()).isEqualTo("aol");

        // The default's own route, likewise.
        DeliveryPolicy routed = DeliveryPolicy.of(StoreSettings.defaults(), ImmutableList.of(), ImmutableList.of(AOL),
                DestinationPolicy.builder(DeliveryPolicy.DEFAULT_NAME).route(Route.of("smarthost.test", 25)).build());
        TargetResolver viaRoute = new TargetResolver(routed, DNS, ImmutableList.of(), false, false);
        assertThat(viaRoute.resolve(Domain.of("plain.test")).key().asString()).isEqualTo(DeliveryPolicy.DEFAULT_NAME);
        assertThat(viaRoute.resolve(Domain.of("aol.com")).key().asString()).isEqualTo("aol");
    }
}
