package org.mailpolicy.parking;

import com.google.common.base.Preconditions;
import java.util.Objects;

/**
 * A parked mail claimed for release: put a copy of its content on the outgoing queue carrying
 * {@link #id()} and {@link #token()}. The token is new for every release, so that the store can tell
 * the copy of the latest release from an older one ({@link ParkedMailStore#take}).
 */
public final class Release {
    private final String id;
    private final String destination;
    private final String token;

    private Release(String id, String destination, String token) {
        this.id = id;
        this.destination = destination;
        this.token = token;
    }

    public static Release of(String id, String destination, String token) {
        Preconditions.checkArgument(id != null && !id.isEmpty(), "id must not be empty");
        Preconditions.checkArgument(destination != null && !destination.isEmpty(), "destination must not be empty");
        Preconditions.checkArgument(token != null && !token.isEmpty() && token.indexOf(' ') < 0, "token: no spaces: %s", token);
        return new Release(id, destination, token);
    }

    public String id() {
        return id;
    }

    public String destination() {
        return destination;
    }

    public String token() {
        return token;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Release && ((Release) o).id.equals(id) && ((Release) o).token.equals(token)
                && ((Release) o).destination.equals(destination);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, token, destination);
    }

    @Override
    public String toString() {
        return "Release{" + id + " to " + destination + ", token " + token + "}";
    }
}
