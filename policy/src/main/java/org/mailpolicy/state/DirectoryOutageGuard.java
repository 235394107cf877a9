package org.mailpolicy.state;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.mailpolicy.decision.AttemptOutcome;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.UnknownRecipientGuard;
import org.mailpolicy.rules.Action;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.Scope;
import org.mailpolicy.yaml.Durations;

/**
 * Keeps a receiver's directory outage from emptying a domain. A broken LDAP behind a large receiver
 * answers "user unknown" for everyone; believed, each answer would suppress a real person for good.
 * So each attempt's outcome is reviewed before it is decided: when, within the destination's
 * {@link UnknownRecipientGuard#window()}, enough distinct recipients were answered "user unknown"
 * and they are a large enough share of those it answered about, the destination's directory is
 * suspected, and until {@link UnknownRecipientGuard#quiet()} passes without such a surge its
 * unknown-user replies are retries (reason and rule kept, the explanation saying why), not
 * suppressions. The suppressions the surge itself wrote are named, for the caller to lift. Bounce
 * ingestion reviews each recipient a bounce reports as failed the same way, as a one-recipient
 * outcome: a receiver that accepts everyone and then bounces them is the same outage, found later.
 *
 * <p><b>Per node, in memory.</b> The evidence is one entry per distinct recipient for a few minutes:
 * kept in the shared database it would cost a write per recipient on every attempt, on every node,
 * for a signal that matters a few times a year. A receiver's broken directory answers every node
 * alike, so each node finds it from its own traffic, after at most {@code minRecipients} of its own
 * wrong answers, whose suppressions it then lifts. After a restart the window starts empty: an outage
 * still going is found again the same way. Per {@link DestinationKey}, as holds are: {@code aol} as
 * one, each unlisted domain by itself.
 *
 * <p>Thread-safe: one lock, held for the length of one review (linear in the attempt's recipients).
 */
public final class DirectoryOutageGuard {
    /** Empty windows are dropped at most this often. */
    static final Duration SWEEP_EVERY = Duration.ofMinutes(1);

    private final Object lock = new Object();
    private final Map<DestinationKey, UnknownRecipientWindow> windows = new HashMap<>();
    /** The window length each key was last reviewed with, for the sweep. */
    private final Map<DestinationKey, Duration> windowLengths = new HashMap<>();
    private Instant nextSweep = Instant.MIN;

    /** One attempt's outcome after review, and what changed. */
    public static final class Review {
        private final AttemptOutcome outcome;
        private final DirectoryOutageStatus status;
        private final boolean started;
        private final boolean ended;
        private final int deferred;
        private final List<String> liftable;
        private final Instant liftableSince;

        Review(AttemptOutcome outcome, DirectoryOutageStatus status, boolean started, boolean ended, int deferred,
               List<String> liftable, Instant liftableSince) {
            this.outcome = outcome;
            this.status = status;
            this.started = started;
            this.ended = ended;
            this.deferred = deferred;
            this.liftable = ImmutableList.copyOf(liftable);
            this.liftableSince = liftableSince;
        }

        /** The outcome to decide on: the attempt's own, or with its unknown-user replies made retries. */
        public AttemptOutcome outcome() {
            return outcome;
        }

        public DirectoryOutageStatus status() {
            return status;
        }

        /** Whether this attempt's surge made the suspicion begin. */
        public boolean started() {
            return started;
        }

        /** Whether the suspicion was found over at this review (its end is {@link DirectoryOutageStatus#until()}). */
        public boolean ended() {
            return ended;
        }

        /** How many of this attempt's unknown-user replies became retries. */
        public int deferred() {
            return deferred;
        }

        /**
         * When the suspicion began here: the recipients answered "user unknown" within the window, whose
         * suppressions (those live replies wrote since {@link #liftableSince()}) were probably wrong.
         */
        public List<String> liftable() {
            return liftable;
        }

        public Instant liftableSince() {
            return liftableSince;
        }
    }

    /**
     * Counts the attempt's answers in {@code key}'s window and returns the outcome to decide on. A
     * recipient counts when the destination answered about it: delivered, or a failure about the
     * recipient itself; a reply to the whole connection or message says nothing of a directory.
     */
    public Review review(DestinationKey key, DestinationPolicy policy, AttemptOutcome outcome, Instant now) {
        Preconditions.checkNotNull(key, "key");
        Preconditions.checkNotNull(outcome, "outcome");
        Preconditions.checkNotNull(now, "now");
        UnknownRecipientGuard settings = policy.unknownRecipientGuard();
        if (!settings.isEnabled()) {
            return new Review(outcome, DirectoryOutageStatus.none(key), false, false, 0, ImmutableList.of(), now);
        }
        synchronized (lock) {
            sweepIfDue(now);
            UnknownRecipientWindow w = windows.computeIfAbsent(key, k -> new UnknownRecipientWindow());
            windowLengths.put(key, settings.window());
            for (String r : outcome.recipients()) {
                Optional<Classification> c = outcome.failure(r);
                if (!c.isPresent() || c.get().scope() == Scope.RECIPIENT) {
                    w.answered(r, c.isPresent() && c.get().action() == Action.SUPPRESS, now);
                }
            }
            w.trim(settings.window(), now);
            // A suspicion whose quiet period passed is over, even if this very attempt surges again (a new one).
            boolean ended = w.suspectedSince().isPresent() && !w.isSuspectedAt(now);
            if (ended) {
                w.suspicionEnded();
            }
            boolean started = false;
            if (settings.isSurge(w.unknownRecipients(), w.answeredRecipients())) {
                started = !w.suspectedSince().isPresent();
                w.surged(settings.quiet(), now);
            }
            boolean suspected = w.isSuspectedAt(now);
            DirectoryOutageStatus status = status(key, w, now);
            Instant windowStart = now.minus(settings.window());
            List<String> liftable = started ? w.unknownRecipientList() : ImmutableList.of();
            if (!suspected) {
                return new Review(outcome, status, started, ended, 0, liftable, windowStart);
            }
            String why = String.format(Locale.ROOT, "%s answered \"user unknown\" for %d of the %d"
                    + " recipients it answered about within %s, which looks like a failure of its directory rather than"
                    + " that many missing people, so the address is not suppressed.",
                    key, status.unknownRecipients(), status.answeredRecipients(), Durations.format(settings.window()));
            AttemptOutcome.Builder b = AttemptOutcome.builder();
            int deferred = 0;
            for (String r : outcome.recipients()) {
                Optional<Classification> c = outcome.failure(r);
                if (!c.isPresent()) {
                    b.delivered(r);
                } else if (c.get().action() == Action.SUPPRESS) {
                    b.failed(r, c.get().asRetry(why));
                    deferred++;
                } else {
                    b.failed(r, c.get());
                }
            }
            return new Review(b.build(), status, started, ended, deferred, liftable, windowStart);
        }
    }

    /** The destination's status at {@code now}; {@link DirectoryOutageStatus#none} when it has no window. */
    public DirectoryOutageStatus status(DestinationKey key, Instant now) {
        Preconditions.checkNotNull(key, "key");
        synchronized (lock) {
            UnknownRecipientWindow w = windows.get(key);
            return w == null ? DirectoryOutageStatus.none(key) : trimmedStatus(key, w, now);
        }
    }

    /** Every destination with answers within its window or a suspicion, in key order. */
    public List<DirectoryOutageStatus> all(Instant now) {
        synchronized (lock) {
            TreeMap<DestinationKey, DirectoryOutageStatus> sorted = new TreeMap<>();
            windows.forEach((k, w) -> sorted.put(k, trimmedStatus(k, w, now)));
            return ImmutableList.copyOf(sorted.values());
        }
    }

    /** Read between reviews, the counts leave out the answers that left the window since. */
    private DirectoryOutageStatus trimmedStatus(DestinationKey key, UnknownRecipientWindow w, Instant now) {
        w.trim(windowLengths.get(key), now);
        return status(key, w, now);
    }

    private static DirectoryOutageStatus status(DestinationKey key, UnknownRecipientWindow w, Instant now) {
        return new DirectoryOutageStatus(key, w.isSuspectedAt(now), w.suspectedSince(), w.suspectedUntil(),
                w.unknownRecipients(), w.answeredRecipients());
    }

    private void sweepIfDue(Instant now) {
        if (now.isBefore(nextSweep)) {
            return;
        }
        nextSweep = now.plus(SWEEP_EVERY);
        for (Iterator<Map.Entry<DestinationKey, UnknownRecipientWindow>> it = windows.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<DestinationKey, UnknownRecipientWindow> e = it.next();
            e.getValue().trim(windowLengths.get(e.getKey()), now);
            // A suspicion whose end is not yet told stays until the destination's next review tells it.
            if (e.getValue().isEmpty()) {
                windowLengths.remove(e.getKey());
                it.remove();
            }
        }
    }
}
