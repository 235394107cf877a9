package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import org.mailpolicy.yaml.Durations;

/**
 * When a destination's "user unknown" replies stop being believed: when, within {@link #window()},
 * at least {@link #minRecipients()} distinct recipients were answered "user unknown" and they are at
 * least {@link #share()} of the distinct recipients the destination answered about, its directory
 * (a broken LDAP behind a large receiver) is suspected rather than that many people missing. Until
 * {@link #quiet()} has passed without such a surge, its unknown-user replies are retried instead of
 * suppressed. {@link #OFF} believes every reply (the behaviour before the guard).
 */
public final class UnknownRecipientGuard {
    /**
     * 20 distinct unknown recipients within 10 minutes that are half or more of the recipients answered.
     * Ordinary traffic meets a few per cent unknown users, a badly kept list perhaps a fifth; a directory
     * outage answers nearly everyone unknown. Half is far from both, so a bad list still suppresses and an
     * outage is caught after about 20 wrong answers, not hundreds. Twenty keeps a small domain's handful of
     * real unknowns from ever looking like an outage. Ten minutes is short enough that the surge is not
     * diluted by the morning's deliveries, long enough to collect twenty recipients at a modest pace. After
     * 30 quiet minutes the replies are believed again: an outage that is over has been over for a while,
     * and retried mail meanwhile only waits.
     */
    public static final UnknownRecipientGuard DEFAULT = new UnknownRecipientGuard(true, Duration.ofMinutes(10), 20, 0.5,
            Duration.ofMinutes(30));
    /** Every unknown-user reply suppresses, however many there are. */
    public static final UnknownRecipientGuard OFF = new UnknownRecipientGuard(false, DEFAULT.window,
            DEFAULT.minRecipients, DEFAULT.share, DEFAULT.quiet);

    private final boolean enabled;
    private final Duration window;
    private final int minRecipients;
    private final double share;
    private final Duration quiet;

    private UnknownRecipientGuard(boolean enabled, Duration window, int minRecipients, double share, Duration quiet) {
        this.enabled = enabled;
        this.window = window;
        this.minRecipients = minRecipients;
        this.share = share;
        this.quiet = quiet;
    }

    /**
     * @throws IllegalArgumentException whose message starts with the setting's name, such as
     *                                  {@code share must be in (0, 1]: 1.5}
     */
    public static UnknownRecipientGuard of(Duration window, int minRecipients, double share, Duration quiet) {
        Preconditions.checkArgument(positive(window), "window must be positive: %s", window);
        Preconditions.checkArgument(minRecipients >= 1, "minRecipients must be at least 1: %s", minRecipients);
        Preconditions.checkArgument(share > 0 && share <= 1, "share must be in (0, 1]: %s", share);
        Preconditions.checkArgument(positive(quiet), "quiet must be positive: %s", quiet);
        return new UnknownRecipientGuard(true, window, minRecipients, share, quiet);
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    /** Whether the guard watches this destination at all. */
    public boolean isEnabled() {
        return enabled;
    }

    /** How far back the distinct recipients are counted. */
    public Duration window() {
        return window;
    }

    /** The fewest distinct unknown recipients within the window that can make a surge. */
    public int minRecipients() {
        return minRecipients;
    }

    /** The least share of the recipients answered within the window that must be unknown. */
    public double share() {
        return share;
    }

    /** How long after the last surge the destination's unknown-user replies are believed again. */
    public Duration quiet() {
        return quiet;
    }

    /** Whether {@code unknown} of {@code answered} distinct recipients within the window make a surge. */
    public boolean isSurge(int unknown, int answered) {
        return enabled && unknown >= minRecipients && answered > 0 && unknown >= share * answered;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof UnknownRecipientGuard)) {
            return false;
        }
        UnknownRecipientGuard g = (UnknownRecipientGuard) o;
        return enabled == g.enabled && window.equals(g.window) && minRecipients == g.minRecipients && share == g.share
                && quiet.equals(g.quiet);
    }

    @Override
    public int hashCode() {
        return Objects.hash(enabled, window, minRecipients, share, quiet);
    }

    @Override
    public String toString() {
        return enabled ? String.format(Locale.ROOT, "{window: %s, minRecipients: %d, share: %s, quiet: %s}",
                Durations.format(window), minRecipients, share, Durations.format(quiet)) : "off";
    }
}
