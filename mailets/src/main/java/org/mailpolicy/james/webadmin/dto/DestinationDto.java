package org.mailpolicy.james.webadmin.dto;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.DirectoryOutageStatus;
import org.mailpolicy.state.Pace;
import org.mailpolicy.yaml.Durations;

/**
 * One destination as {@code GET /delivery-policy/destinations} lists it: its state at a given instant, whose settings
 * apply, and how much mail the queue holds for it (null when the queue could not be counted).
 */
@JsonPropertyOrder({"name", "policy", "configured", "held", "heldUntil", "currentHold", "currentHoldSeconds",
        "consecutiveThrottles", "attempts", "inFlight", "probing", "lastReply", "lastAttemptAt", "queued",
        "queuedComplete", "pacing", "effectiveConcurrency", "concurrencyCeiling", "effectiveRate", "rateCeiling",
        "paceSignals", "lastPaceSignalAt", "directoryOutageSuspected", "directoryOutageSince", "directoryOutageUntil",
        "unknownRecipients", "answeredRecipients", "tls", "plaintextFallback"})
public final class DestinationDto {
    private final DestinationState state;
    private final String policy;
    private final boolean configured;
    private final boolean held;
    private final Long queued;
    private final Boolean queuedComplete;
    private final DestinationPolicy settings;
    private final Pace pace;
    private final DirectoryOutageStatus directoryOutage;
    private final Map<String, String> plaintextFallback;

    private DestinationDto(DestinationState state, String policy, boolean configured, boolean held, Long queued,
                           Boolean queuedComplete, DestinationPolicy settings, Pace pace,
                           DirectoryOutageStatus directoryOutage, Map<String, String> plaintextFallback) {
        this.state = state;
        this.policy = policy;
        this.configured = configured;
        this.held = held;
        this.queued = queued;
        this.queuedComplete = queuedComplete;
        this.settings = settings;
        this.pace = pace;
        this.directoryOutage = directoryOutage;
        this.plaintextFallback = plaintextFallback;
    }

    /**
     * This destination with the MX hosts it sends plaintext to now, because their STARTTLS handshake failed
     * under opportunistic TLS, each with when TLS is tried again.
     */
    public DestinationDto withPlaintextFallback(Map<String, Instant> untilByHost) {
        Map<String, String> out = new TreeMap<>();
        untilByHost.forEach((host, until) -> out.put(host, until.toString()));
        return new DestinationDto(state, policy, configured, held, queued, queuedComplete, settings, pace,
                directoryOutage, out);
    }

    /**
     * @param policy     the name of the settings that apply: a named destination's, or the default's for an unlisted domain
     * @param configured whether the policy names this destination
     * @param queued     mails queued for it, and whether that count covers the whole queue; empty when not counted
     * @param directoryOutage what the directory outage guard knows of it at {@code now}
     */
    public static DestinationDto of(DestinationState state, Instant now, DestinationPolicy policy, boolean configured,
                                    Optional<QueuedCount> queued, DirectoryOutageStatus directoryOutage) {
        Preconditions.checkNotNull(state, "state");
        Preconditions.checkNotNull(policy, "policy");
        Preconditions.checkNotNull(directoryOutage, "directoryOutage");
        return new DestinationDto(state, policy.name(), configured, state.isHeldAt(now),
                queued.map(QueuedCount::mails).orElse(null), queued.map(QueuedCount::complete).orElse(null), policy,
                state.paceUnder(policy, now), directoryOutage, Map.of());
    }

    /** A destination's share of the outgoing queue. */
    public static final class QueuedCount {
        private final long mails;
        private final boolean complete;

        public QueuedCount(long mails, boolean complete) {
            this.mails = mails;
            this.complete = complete;
        }

        long mails() {
            return mails;
        }

        boolean complete() {
            return complete;
        }
    }

    public String getName() {
        return state.destination();
    }

    public String getPolicy() {
        return policy;
    }

    public boolean isConfigured() {
        return configured;
    }

    public boolean isHeld() {
        return held;
    }

    public String getHeldUntil() {
        return state.heldUntil().map(Instant::toString).orElse(null);
    }

    public String getCurrentHold() {
        return state.currentHold().toString();
    }

    public long getCurrentHoldSeconds() {
        return state.currentHold().getSeconds();
    }

    public int getConsecutiveThrottles() {
        return state.consecutiveThrottles();
    }

    public long getAttempts() {
        return state.attempts();
    }

    public int getInFlight() {
        return state.inFlight();
    }

    public boolean isProbing() {
        return state.probing();
    }

    public String getLastReply() {
        return state.lastReply().orElse(null);
    }

    public String getLastAttemptAt() {
        return state.lastAttemptAt().map(Instant::toString).orElse(null);
    }

    public Long getQueued() {
        return queued;
    }

    public Boolean getQueuedComplete() {
        return queuedComplete;
    }

    /** {@code adaptive} or {@code fixed}: whether the two effective values below move under their ceilings. */
    public String getPacing() {
        return settings.pacing().isAdaptive() ? "adaptive" : "fixed";
    }

    public int getEffectiveConcurrency() {
        return pace.effectiveConcurrency(settings);
    }

    public int getConcurrencyCeiling() {
        return settings.concurrency();
    }

    /** Such as {@code 54.9/1m}; null when the policy sets no rate. */
    public String getEffectiveRate() {
        return settings.rateLimit().map(r -> String.format(Locale.ROOT, "%.1f/%s", pace.effectiveRate(settings),
                Durations.format(r.per()))).orElse(null);
    }

    /** Such as {@code 300/1m}; null when the policy sets no rate. */
    public String getRateCeiling() {
        return settings.rateLimit().map(Object::toString).orElse(null);
    }

    /** Throttle signals within an hour of each other, the last included: each lengthens the quiet before growth. */
    public int getPaceSignals() {
        return pace.recentSignals();
    }

    public String getLastPaceSignalAt() {
        return pace.lastSignalAt().map(Instant::toString).orElse(null);
    }

    /** Whether a surge of "user unknown" replies makes its directory suspect: they are retried, not suppressed. */
    /** The destination's TLS level: none, opportunistic, required or verified. */
    public String getTls() {
        return settings.tls().level().id();
    }

    /** MX host to when TLS is tried again, for hosts sent plaintext now after a failed handshake. */
    public Map<String, String> getPlaintextFallback() {
        return plaintextFallback;
    }

    public boolean isDirectoryOutageSuspected() {
        return directoryOutage.isSuspected();
    }

    public String getDirectoryOutageSince() {
        return directoryOutage.since().map(Instant::toString).orElse(null);
    }

    /** When the suspicion ends (or ended) unless the surge goes on; null when there never was one. */
    public String getDirectoryOutageUntil() {
        return directoryOutage.until().map(Instant::toString).orElse(null);
    }

    /** Distinct recipients answered "user unknown" within the guard's window (this James node's). */
    public int getUnknownRecipients() {
        return directoryOutage.unknownRecipients();
    }

    /** Distinct recipients the destination answered about within the guard's window (this James node's). */
    public int getAnsweredRecipients() {
        return directoryOutage.answeredRecipients();
    }
}
