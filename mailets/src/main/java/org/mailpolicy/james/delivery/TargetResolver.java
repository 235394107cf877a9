package org.mailpolicy.james.delivery;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.apache.james.core.Domain;
import org.apache.james.dnsservice.api.DNSService;
import org.apache.james.dnsservice.api.TemporaryResolutionException;
import org.apache.james.dnsservice.library.MXHostAddressIterator;
import org.apache.mailet.HostAddress;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.TlsSettings;
import org.mailpolicy.destination.Route;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.state.DestinationKey;

/**
 * Where a recipient domain's mail goes: its destination policy and the hosts to try. The policy's
 * route wins, then the mailet's gateway, then the domain's MX hosts through James's DNSService;
 * without a gateway the MX list also selects an MX-pattern destination for domains the policy does
 * not name (a vanity domain hosted by AOL gets AOL's policy).
 */
final class TargetResolver {
    private final DeliveryPolicy policy;
    private final DNSService dns;
    private final ImmutableList<String> gateways;
    private final boolean loadBalancing;
    private final boolean smtps;

    TargetResolver(DeliveryPolicy policy, DNSService dns, Collection<String> gateways, boolean loadBalancing,
                   boolean smtps) {
        this.policy = Preconditions.checkNotNull(policy, "policy");
        this.dns = Preconditions.checkNotNull(dns, "dns");
        this.gateways = ImmutableList.copyOf(gateways);
        this.loadBalancing = loadBalancing;
        this.smtps = smtps;
    }

    /**
     * Where to deliver; a DNS failure is described as a reply to classify, never thrown. The
     * target's {@link Target#key() key} is the state the attempt counts against: see
     * {@link DestinationKey#forDelivery} (with the mailet's gateway as the one relay).
     */
    Target resolve(Domain domain) {
        String name = domain.asString();
        DestinationPolicy byDomain = policy.forRecipientDomain(name);
        if (byDomain.route().isPresent()) {
            return Target.hosts(byDomain, DestinationKey.forDelivery(byDomain, name, true),
                    hostsOf(ImmutableList.of(asHostPort(byDomain.route().get()))));
        }
        if (!gateways.isEmpty()) {
            List<String> order = new ArrayList<>(gateways);
            if (loadBalancing) {
                Collections.shuffle(order);
            }
            return Target.hosts(byDomain, DestinationKey.forDelivery(byDomain, name, true), hostsOf(order));
        }
        List<String> mx;
        try {
            mx = ImmutableList.copyOf(dns.findMXRecords(name));
        } catch (TemporaryResolutionException e) {
            return Target.failed(byDomain, DestinationKey.forDelivery(byDomain, name, false),
                    SmtpReply.parse("Temporary problem looking up mail server for host: " + name + ": " + e.getMessage(),
                            Stage.CONNECT));
        }
        DestinationPolicy destination = policy.resolve(name, withoutTrailingDots(mx));
        DestinationKey key = DestinationKey.forDelivery(destination, name, false);
        if (destination.route().isPresent()) {
            return Target.hosts(destination, key, hostsOf(ImmutableList.of(asHostPort(destination.route().get()))));
        }
        if (mx.isEmpty()) {
            return Target.failed(destination, key, SmtpReply.parse("No mail server found for domain " + name,
                    Stage.CONNECT));
        }
        return Target.hosts(destination, key, hostsOf(mx));
    }

    private Iterator<HostAddress> hostsOf(List<String> hosts) {
        return new MXHostAddressIterator(hosts.iterator(), dns, false, smtps);
    }

    private static String asHostPort(Route route) {
        return route.host() + ":" + route.port();
    }

    private static List<String> withoutTrailingDots(List<String> hosts) {
        List<String> out = new ArrayList<>(hosts.size());
        for (String h : hosts) {
            out.add(h.endsWith(".") ? h.substring(0, h.length() - 1) : h);
        }
        return out;
    }

    /** A destination (its settings and the key of its state) and either the hosts to try or the reason there are none. */
    static final class Target {
        private final DestinationPolicy destination;
        private final DestinationKey key;
        private final Iterator<HostAddress> hosts;
        private final SmtpReply failure;

        private Target(DestinationPolicy destination, DestinationKey key, Iterator<HostAddress> hosts, SmtpReply failure) {
            this.destination = Preconditions.checkNotNull(destination, "destination");
            this.key = Preconditions.checkNotNull(key, "key");
            this.hosts = hosts;
            this.failure = failure;
        }

        static Target hosts(DestinationPolicy destination, DestinationKey key, Iterator<HostAddress> hosts) {
            return new Target(destination, key, Preconditions.checkNotNull(hosts), null);
        }

        static Target failed(DestinationPolicy destination, DestinationKey key, SmtpReply failure) {
            return new Target(destination, key, Collections.emptyIterator(), Preconditions.checkNotNull(failure));
        }

        /** The settings: a named destination's, or the default's. */
        DestinationPolicy destination() {
            return destination;
        }

        /**
         * The state this attempt counts against (holds, probe, concurrency, rate): the destination's
         * name, or the recipient domain under the default.
         */
        DestinationKey key() {
            return key;
        }

        Iterator<HostAddress> hosts() {
            return hosts;
        }

        /** How connections to the hosts use TLS: the destination's settings. */
        TlsSettings tls() {
            return destination.tls();
        }

        /** Why no host could be tried (DNS), to classify like any reply. */
        Optional<SmtpReply> failure() {
            return Optional.ofNullable(failure);
        }
    }
}
