package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.util.regex.Pattern;

/**
 * Where a James node's mail leaves from, as receivers see it: receivers such as AOL throttle per
 * sending IP, so holds, probes and rate counts are kept per destination <em>and</em> egress. Nodes
 * that send from one IP (or one NAT address) share an egress and so share their holds; a node with
 * an IP of its own names its own egress in its policy file ({@code egress: a}), and a throttle that
 * receivers give that IP holds that node only. Without the setting every node is in
 * {@link #DEFAULT}: one egress for the whole cluster.
 *
 * <p>A name as a destination's: lower-case letters, digits, {@code .}, {@code _}, {@code -}, at
 * most 64 characters (so an IP address such as {@code 192.0.2.10} is a name too).
 */
public final class Egress {
    public static final int MAX_LENGTH = 64;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    /** The one egress of a cluster whose nodes do not name theirs (and of every single node). */
    public static final Egress DEFAULT = new Egress("default");

    private final String name;

    private Egress(String name) {
        this.name = name;
    }

    /**
     * @throws IllegalArgumentException when {@code name} is not a lower-case name of at most 64
     *                                  characters (letters, digits, {@code . _ -})
     */
    public static Egress of(String name) {
        Preconditions.checkArgument(name != null, "egress must not be null");
        Preconditions.checkArgument(isName(name),
                "'%s' is not an egress name: use lower-case letters, digits, '.', '_', '-' (at most 64)", name);
        return name.equals(DEFAULT.name) ? DEFAULT : new Egress(name);
    }

    static boolean isName(String name) {
        return NAME.matcher(name).matches();
    }

    public String name() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Egress && ((Egress) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
