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
import org.mailpolicy.mtasts.MtaStsPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
    private static final Logger LOGGER = LoggerFactory.getLogger(TargetResolver.class);

    private final DNSService dns;
    private final Optional<MtaStsLookup> mtaSts;
    private final ImmutableList<String> gateways;
    private final boolean loadBalancing;
    private final boolean smtps;

    TargetResolver(DeliveryPolicy policy, DNSService dns, Collection<String> gateways, boolean loadBalancing,
                   boolean smtps) {
        this(policy, dns, gateways, loadBalancing, smtps, Optional.empty());
    }

    /** @param mtaSts looks up recipient domains' MTA-STS policies; empty: none is followed */
    TargetResolver(DeliveryPolicy policy, DNSService dns, Collection<String> gateways, boolean loadBalancing,
                   boolean smtps, Optional<MtaStsLookup> mtaSts) {
        this.mtaSts = Preconditions.checkNotNull(mtaSts, "mtaSts");
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
        Optional<MtaStsPolicy> sts = mtaSts.flatMap(m -> m.policyFor(name, destination.tls()));
        if (sts.isPresent() && sts.get().mode() != MtaStsPolicy.Mode.NONE) {
            return underMtaSts(name, destination, key, mx, sts.get());
        }
        return Target.hosts(destination, key, hostsOf(mx));
    }

    /**
     * RFC 8461 section 4: in enforce mode only the MX hosts the policy lists, and only over verified TLS; in testing
     * mode everything goes as without the policy, and what enforce would have refused is logged.
     */
    private Target underMtaSts(String domain, DestinationPolicy destination, DestinationKey key, List<String> mx,
                               MtaStsPolicy sts) {
        List<String> listed = new ArrayList<>();
        List<String> unlisted = new ArrayList<>();
        for (String host : mx) {
            (sts.allows(hostPart(host)) ? listed : unlisted).add(host);
        }
        if (sts.mode() == MtaStsPolicy.Mode.TESTING) {
            if (!unlisted.isEmpty()) {
                LOGGER.info("MTA-STS testing: {}'s policy does not list MX {}; delivering anyway", domain, unlisted);
            }
            return Target.hosts(destination, key, hostsOf(mx));
        }
        if (listed.isEmpty()) {
            return Target.failed(destination, key, SmtpReply.parse("MTA-STS policy of " + domain + " (enforce) lists"
                    + " none of its MX hosts " + withoutTrailingDots(mx) + " (4.7.10 encryption needed); nothing was"
                    + " sent", Stage.CONNECT));
        }
        if (!unlisted.isEmpty()) {
            LOGGER.info("MTA-STS enforce: {}'s policy does not list MX {}; not delivering there", domain, unlisted);
        }
        TlsSettings tls = destination.tls();
        TlsSettings verified = tls.level() == TlsSettings.Level.VERIFIED ? tls : tls.withLevel(TlsSettings.Level.VERIFIED);
        return Target.hosts(destination, key, hostsOf(listed)).withTls(verified);
    }

    /** A host name without the {@code :port} a test DNS may give. */
    private static String hostPart(String host) {
        int colon = host.lastIndexOf(':');
        return colon > 0 && host.indexOf(':') == colon ? host.substring(0, colon) : host;
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
        private final TlsSettings tls;

        private Target(DestinationPolicy destination, DestinationKey key, Iterator<HostAddress> hosts, SmtpReply failure,
                       TlsSettings tls) {
            this.destination = Preconditions.checkNotNull(destination, "destination");
            this.key = Preconditions.checkNotNull(key, "key");
            this.hosts = hosts;
            this.failure = failure;
            this.tls = Preconditions.checkNotNull(tls, "tls");
        }

        /** This target with other TLS settings than its destination's (MTA-STS enforce: verified). */
        Target withTls(TlsSettings settings) {
            return new Target(destination, key, hosts, failure, settings);
        }

        static Target hosts(DestinationPolicy destination, DestinationKey key, Iterator<HostAddress> hosts) {
            return new Target(destination, key, Preconditions.checkNotNull(hosts), null, destination.tls());
        }

        static Target failed(DestinationPolicy destination, DestinationKey key, SmtpReply failure) {
            return new Target(destination, key, Collections.emptyIterator(), Preconditions.checkNotNull(failure),
                    destination.tls());
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

        /** How connections to the hosts use TLS: the destination's settings, raised to verified by MTA-STS enforce. */
        TlsSettings tls() {
            return tls;
        }

        /** Why no host could be tried (DNS), to classify like any reply. */
        Optional<SmtpReply> failure() {
            return Optional.ofNullable(failure);
        }
    }
}
