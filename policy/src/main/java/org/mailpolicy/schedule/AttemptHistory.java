package org.mailpolicy.schedule;

import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** What has happened so far to one message (or one recipient group) on its way to one destination. */
public final class AttemptHistory {
    private final String messageKey;
    private final Instant firstQueued;
    private final int failedAttempts;
    private final Instant lastAttempt;
    private final boolean delayWarningSent;

    private AttemptHistory(String messageKey, Instant firstQueued, int failedAttempts, Instant lastAttempt,
                           boolean delayWarningSent) {
        this.messageKey = messageKey;
        this.firstQueued = firstQueued;
        this.failedAttempts = failedAttempts;
        this.lastAttempt = lastAttempt;
        this.delayWarningSent = delayWarningSent;
    }

    /** A message just queued: no attempts yet. */
    public static AttemptHistory start(String messageKey, Instant queued) {
        Preconditions.checkArgument(messageKey != null && !messageKey.isEmpty(), "messageKey must not be empty");
        Preconditions.checkNotNull(queued, "queued");
        return new AttemptHistory(messageKey, queued, 0, null, false);
    }

    /** Restores a history kept elsewhere (for example in mail attributes). */
    public static AttemptHistory of(String messageKey, Instant firstQueued, int failedAttempts,
                                    Optional<Instant> lastAttempt, boolean delayWarningSent) {
        Preconditions.checkArgument(messageKey != null && !messageKey.isEmpty(), "messageKey must not be empty");
        Preconditions.checkNotNull(firstQueued, "firstQueued");
        Preconditions.checkArgument(failedAttempts >= 0, "failedAttempts must not be negative: %s", failedAttempts);
        Preconditions.checkNotNull(lastAttempt, "lastAttempt");
        Preconditions.checkArgument(failedAttempts == 0 || lastAttempt.isPresent(),
                "a history with failed attempts needs the time of the last one");
        return new AttemptHistory(messageKey, firstQueued, failedAttempts, lastAttempt.orElse(null), delayWarningSent);
    }

    /** Identifies the message for jitter: stable across retries, such as the James mail name. */
    public String messageKey() {
        return messageKey;
    }

    public Instant firstQueued() {
        return firstQueued;
    }

    public int failedAttempts() {
        return failedAttempts;
    }

    public Optional<Instant> lastAttempt() {
        return Optional.ofNullable(lastAttempt);
    }

    public boolean delayWarningSent() {
        return delayWarningSent;
    }

    /** This history plus one failed attempt made at {@code at}. */
    public AttemptHistory withFailedAttempt(Instant at) {
        Preconditions.checkNotNull(at, "at");
        return new AttemptHistory(messageKey, firstQueued, failedAttempts + 1, at, delayWarningSent);
    }

    public AttemptHistory withDelayWarningSent() {
        return new AttemptHistory(messageKey, firstQueued, failedAttempts, lastAttempt, true);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof AttemptHistory)) {
            return false;
        }
        AttemptHistory that = (AttemptHistory) o;
        return failedAttempts == that.failedAttempts && delayWarningSent == that.delayWarningSent
                && messageKey.equals(that.messageKey) && firstQueued.equals(that.firstQueued)
                && Objects.equals(lastAttempt, that.lastAttempt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(messageKey, firstQueued, failedAttempts, lastAttempt, delayWarningSent);
    }

    @Override
    public String toString() {
        return "AttemptHistory{" + messageKey + ", queued " + firstQueued + ", failed " + failedAttempts
                + (lastAttempt == null ? "" : ", last " + lastAttempt) + (delayWarningSent ? ", warned" : "") + "}";
    }
}
