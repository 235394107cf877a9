package org.mailpolicy.parking;

import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * A mail parked in the plugin's schedule: its {@link #id()} (also the name of its content in the
 * parked-mail repository), the destination key it waits for ({@code aol}, {@code example.org}),
 * when it is due, when it was parked and why (the admission refusal or retry reason, for operators).
 */
public final class ParkedMail {
    /** Longest reason kept; the rest is cut (the mail's history keeps every reply). */
    public static final int MAX_REASON_CHARS = 500;

    private final String id;
    private final String destination;
    private final Instant due;
    private final Instant parkedAt;
    private final String reason;

    private ParkedMail(String id, String destination, Instant due, Instant parkedAt, String reason) {
        this.id = id;
        this.destination = destination;
        this.due = due;
        this.parkedAt = parkedAt;
        this.reason = reason;
    }

    public static ParkedMail of(String id, String destination, Instant due, Instant parkedAt, String reason) {
        Preconditions.checkArgument(id != null && !id.isEmpty() && id.length() <= 64, "id: 1 to 64 characters: %s", id);
        Preconditions.checkArgument(destination != null && !destination.isEmpty(), "destination must not be empty");
        Preconditions.checkNotNull(due, "due");
        Preconditions.checkNotNull(parkedAt, "parkedAt");
        String r = reason == null ? "" : reason;
        return new ParkedMail(id, destination, due, parkedAt,
                r.length() > MAX_REASON_CHARS ? r.substring(0, MAX_REASON_CHARS) : r);
    }

    /** A fresh id for a mail about to be parked. */
    public static String newId() {
        return "parked-" + UUID.randomUUID();
    }

    public String id() {
        return id;
    }

    public String destination() {
        return destination;
    }

    public Instant due() {
        return due;
    }

    public Instant parkedAt() {
        return parkedAt;
    }

    public String reason() {
        return reason;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ParkedMail)) {
            return false;
        }
        ParkedMail p = (ParkedMail) o;
        return id.equals(p.id) && destination.equals(p.destination) && due.equals(p.due) && parkedAt.equals(p.parkedAt)
                && reason.equals(p.reason);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, destination, due, parkedAt, reason);
    }

    @Override
    public String toString() {
        return "ParkedMail{" + id + " to " + destination + " due " + due + "}";
    }
}
