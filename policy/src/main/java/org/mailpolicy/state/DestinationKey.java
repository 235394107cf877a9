package org.mailpolicy.state;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.util.Locale;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.DestinationPolicy;

/**
 * Which delivery state a mail's attempt counts against: the unit that is held after a throttle,
 * probed, and limited in concurrency and rate. As Postfix keeps its state per next hop:
 * <ul>
 * <li>a named destination ({@code aol}: aol.com, aim.com, verizon.net and every vanity domain its MX
 * patterns catch) is one key, its name: those domains share the provider's servers, so a throttle
 * for one holds them all;</li>
 * <li>the default destination is one key per recipient domain ({@code example.org}): each unlisted
 * domain is its own destination with the default's settings, and a {@code 421} from one small domain
 * holds nobody else;</li>
 * <li>except when all of the default's mail goes to one relay (the default's {@code route}, or the
 * delivery mailet's {@code gateway}): then that relay is the one next hop and the key is
 * {@code default}.</li>
 * </ul>
 * Lower case, never empty, at most {@value #MAX_LENGTH} characters (a domain name has at most 253).
 */
public final class DestinationKey implements Comparable<DestinationKey> {
    public static final int MAX_LENGTH = 255;
    /** Nothing a destination name or a domain (ASCII or IDN) contains, and nothing that breaks a URL path or a log line. */
    private static final CharMatcher FORBIDDEN = CharMatcher.javaIsoControl().or(CharMatcher.whitespace())
            .or(CharMatcher.anyOf("/\\\"'?#%@,;"));

    private final String value;

    private DestinationKey(String value) {
        this.value = value;
    }

    /**
     * A key as an operator or a store writes it ({@code aol}, {@code example.org}): trimmed, lower
     * case, without a trailing dot.
     *
     * @throws IllegalArgumentException when empty, too long, or with characters no destination name
     *                                  or domain has (spaces, slashes, control characters)
     */
    public static DestinationKey of(String text) {
        Preconditions.checkArgument(text != null, "destination key must not be null");
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith(".")) {
            t = t.substring(0, t.length() - 1);
        }
        Preconditions.checkArgument(!t.isEmpty(), "destination key must not be empty");
        Preconditions.checkArgument(t.length() <= MAX_LENGTH, "destination key longer than %s characters", MAX_LENGTH);
        Preconditions.checkArgument(FORBIDDEN.matchesNoneOf(t),
                "'%s' is not a destination name or domain", CharMatcher.javaIsoControl().replaceFrom(t, '?'));
        return new DestinationKey(t);
    }

    /** The key of everything that goes to {@code destination} as one unit: its name. */
    public static DestinationKey of(DestinationPolicy destination) {
        Preconditions.checkNotNull(destination, "destination");
        return of(destination.name());
    }

    /**
     * The key of an attempt to deliver to {@code recipientDomain} under {@code destination}: the
     * destination's name for a named destination, the recipient domain for the default one, or
     * {@code default} when the default's mail goes to one relay.
     *
     * @param viaRelay whether the attempt goes to a fixed relay (the mailet's gateway) rather than the
     *                 domain's MX hosts; the destination's own {@code route} counts as such a relay too
     */
    public static DestinationKey forDelivery(DestinationPolicy destination, String recipientDomain, boolean viaRelay) {
        Preconditions.checkNotNull(destination, "destination");
        if (!isDefault(destination) || viaRelay || destination.route().isPresent()) {
            return of(destination);
        }
        return of(recipientDomain);
    }

    /** Whether {@code destination} is the policy's default (its name is reserved for it). */
    public static boolean isDefault(DestinationPolicy destination) {
        return DeliveryPolicy.DEFAULT_NAME.equals(destination.name());
    }

    public String asString() {
        return value;
    }

    @Override
    public int compareTo(DestinationKey o) {
        return value.compareTo(o.value);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DestinationKey && ((DestinationKey) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return value;
    }
}
