package org.mailpolicy.state;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link DirectoryOutageGuard} knows of one destination at an instant: the distinct recipients
 * it answered about within the window, how many of them "user unknown", and whether an outage of its
 * directory is suspected (from when, until when unless the surge goes on). Immutable.
 */
public final class DirectoryOutageStatus {
    private final DestinationKey key;
    private final boolean suspected;
    private final Instant since;
    private final Instant until;
    private final int unknownRecipients;
    private final int answeredRecipients;

    DirectoryOutageStatus(DestinationKey key, boolean suspected, Optional<Instant> since, Optional<Instant> until,
                          int unknownRecipients, int answeredRecipients) {
        this.key = key;
        this.suspected = suspected;
        this.since = since.orElse(null);
        this.until = until.orElse(null);
        this.unknownRecipients = unknownRecipients;
        this.answeredRecipients = answeredRecipients;
    }

    /** Nothing seen: no answer within the window, nothing suspected. */
    public static DirectoryOutageStatus none(DestinationKey key) {
        return new DirectoryOutageStatus(key, false, Optional.empty(), Optional.empty(), 0, 0);
    }

    public DestinationKey key() {
        return key;
    }

    /** Whether the destination's unknown-user replies are retried instead of suppressed now. */
    public boolean isSuspected() {
        return suspected;
    }

    /** When the suspicion began; empty when none is in force. */
    public Optional<Instant> since() {
        return suspected ? Optional.ofNullable(since) : Optional.empty();
    }

    /** When the suspicion ends (or ended) unless another surge extends it; empty when there never was one. */
    public Optional<Instant> until() {
        return Optional.ofNullable(until);
    }

    /** Distinct recipients answered "user unknown" within the window. */
    public int unknownRecipients() {
        return unknownRecipients;
    }

    /** Distinct recipients the destination answered about within the window (delivered, refused, unknown). */
    public int answeredRecipients() {
        return answeredRecipients;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DirectoryOutageStatus)) {
            return false;
        }
        DirectoryOutageStatus s = (DirectoryOutageStatus) o;
        return key.equals(s.key) && suspected == s.suspected && Objects.equals(since, s.since)
                && Objects.equals(until, s.until) && unknownRecipients == s.unknownRecipients
                && answeredRecipients == s.answeredRecipients;
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, suspected, since, until, unknownRecipients, answeredRecipients);
    }

    @Override
    public String toString() {
        return key + ": " + unknownRecipients + " of " + answeredRecipients + " unknown"
                + (suspected ? ", directory outage suspected since " + since + " until " + until : "");
    }
}
