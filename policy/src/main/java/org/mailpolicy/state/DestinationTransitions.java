package org.mailpolicy.state;

import com.google.common.base.CharMatcher;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.RateLimit;
import org.mailpolicy.rules.ThrottleEffect;

/**
 * The rules of holds, probes, pacing and limits, written once: pure functions from one
 * destination's {@link DestinationState} (and what its store counts: the attempts in flight, the
 * starts within the rate period) to the next. Every {@link DestinationStateStore} keeps the values
 * and applies these functions under its own lock or transaction; none decides anything itself.
 *
 * <p>In short: no attempt while held; once a hold is over, one probe at a time, and only with
 * nothing else in flight, until an attempt is answered without a throttle; never more attempts in
 * flight than the effective concurrency; starts spaced evenly at the effective rate and never more
 * of them within the rate period than that rate allows, so a cut rate also waits for the period to
 * empty. The effective values move as {@link Pace} says.
 */
public final class DestinationTransitions {
    /** Longest reply text kept: it ends up in logs and WebAdmin. */
    public static final int MAX_REPLY_CHARS = 500;

    private DestinationTransitions() {
    }

    /** The answer to an admission and the state after it. */
    public static final class Admitted {
        private final Admission admission;
        private final DestinationState next;

        Admitted(Admission admission, DestinationState next) {
            this.admission = admission;
            this.next = next;
        }

        public Admission admission() {
            return admission;
        }

        /** The state to store; on a grant, the store also records the start and the slot. */
        public DestinationState next() {
            return next;
        }
    }

    /**
     * Whether one attempt may start now. {@code s.inFlight()} and {@code s.probing()} must be the
     * store's live counts; {@code busyWait} is how long to come back after a refusal whose end is
     * unknown (a slot or the probe held by a running attempt) when there is no rate to pace by.
     *
     * <p>With a rate, the destination keeps a line: {@link DestinationState#nextStartAt()} is the
     * first place not yet given to anyone. A grant takes the place now; a refused attempt is given
     * the next free place ({@link Admission#reserved}), a pace after the one before. Asking again at
     * or after its place with {@code reservation}, it skips the line (the rate was counted when the
     * place was given) but still meets holds, probes, concurrency and the period's count; a refusal
     * then keeps its place, so it is never sent to the back again.
     */
    public static Admitted admit(DestinationState s, DestinationPolicy policy, RecentStarts starts,
                                 Optional<Instant> reservation, Duration busyWait, Instant now) {
        DestinationState active = touched(s, now);
        String key = s.destination();
        Optional<Instant> heldUntil = s.heldUntil();
        if (heldUntil.isPresent() && now.isBefore(heldUntil.get())) {
            return new Admitted(Admission.waitUntil(heldUntil.get(), "destination " + key + " held until "
                    + heldUntil.get() + " after throttling" + s.lastReply().map(r -> ": " + r).orElse("")), active);
        }
        if (reservation.isPresent() && now.isBefore(reservation.get())) {
            return new Admitted(Admission.waitUntil(reservation.get(), "destination " + key
                    + ": waiting for its place in line"), active);
        }
        boolean holder = reservation.isPresent();
        Pace pace = s.paceUnder(policy, now);
        Optional<RateLimit> ceiling = policy.rateLimit();
        double rate = pace.effectiveRate(policy);
        Optional<Duration> spacing = ceiling.map(c -> Duration.ofNanos((long) (c.per().toNanos() / rate)));
        Line line = new Line(active, spacing, pace.doublesAt(policy, now), holder, busyWait, now);
        boolean probe = false;
        if (heldUntil.isPresent()) {
            if (s.probing()) {
                return line.refuse(now, "destination " + key + ": probe after hold in flight");
            }
            if (s.inFlight() > 0) {
                // One probe answers before any other connection: attempts from before the hold finish first.
                return line.refuse(now, "destination " + key + ": attempts from before the hold still in flight");
            }
            probe = true;
        }
        int concurrency = pace.effectiveConcurrency(policy);
        if (s.inFlight() >= concurrency) {
            return line.refuse(now, "destination " + key + ": concurrency limit " + concurrency + " reached");
        }
        DestinationState.Builder next = active.toBuilder().pace(Optional.of(pace));
        if (ceiling.isPresent()) {
            int perPeriod = Math.max(1, (int) Math.floor(rate));
            if (starts.count() >= perPeriod) {
                return line.refuse(starts.whenFewerThan(perPeriod), "destination " + key + ": rate limit "
                        + rateText(rate, ceiling.get()) + " reached");
            }
            Optional<Instant> nextStart = s.nextStartAt().filter(now::isBefore);
            if (!holder && nextStart.isPresent()) {
                return line.refuse(nextStart.get(), "destination " + key + ": starts spaced evenly at "
                        + rateText(rate, ceiling.get()));
            }
            next.nextStartAt(Optional.of(later(nextStart.orElse(now), now.plus(spacing.get()))));
            Instant windowEnd = now.plus(ceiling.get().per());
            if (!s.rateWindowEnd().isPresent() || windowEnd.isAfter(s.rateWindowEnd().get())) {
                next.rateWindowEnd(Optional.of(windowEnd));
            }
        }
        next.inFlight(s.inFlight() + 1).probing(probe);
        return new Admitted(probe ? Admission.probe(concurrency) : Admission.granted(concurrency), next.build());
    }

    /**
     * How many of {@code wanted} concurrency slots one node of a cluster may lease now, to admit
     * attempts in memory within them ({@link ClusterDestinationStateStore}). None while the
     * destination is held or its probe has not answered (then attempts are admitted one by one, so
     * that one probe runs cluster-wide), none under a rate limit (every start is counted in the
     * shared database), else at most what the effective concurrency leaves free of
     * {@code s.inFlight()}, which counts every node's leases and attempts: the sum of the leases
     * never passes the concurrency.
     */
    public static int leasable(DestinationState s, DestinationPolicy policy, int wanted, Instant now) {
        if (s.heldUntil().isPresent() || s.probing() || policy.rateLimit().isPresent()) {
            return 0;
        }
        int free = s.paceUnder(policy, now).effectiveConcurrency(policy) - s.inFlight();
        return Math.max(0, Math.min(wanted, free));
    }

    /**
     * A node's fair share of a destination's {@code concurrency} among the {@code nodes} that hold or
     * want slots of it (this one included): the concurrency over them rounded down, and one slot more
     * for as many of them as the division leaves over. Which nodes get the slots left over goes round:
     * the node at {@code place} among them (its position in an order all of them agree on) gets one in
     * the {@code turn}s where {@code (place + turn) mod nodes} is below what is left over. So the shares
     * of the nodes add up to the concurrency, never more (a share rounded up let two of three busy
     * nodes hold 2 of 4 slots each and the third wait for as long as they stayed busy), and with fewer
     * slots than nodes every node has one in {@code concurrency} of every {@code nodes} turns. A single
     * node's share is the whole concurrency.
     */
    public static int fairShare(int concurrency, int nodes, int place, long turn) {
        int among = Math.max(1, nodes);
        int leftOver = concurrency % among;
        return concurrency / among + (Math.floorMod(place + turn, among) < leftOver ? 1 : 0);
    }

    /**
     * The turn of the slots left over by {@link #fairShare} at {@code now}: turns of {@code turnEvery}
     * from the epoch, so that nodes whose clocks agree agree on it without asking each other.
     */
    public static long shareTurn(Instant now, Duration turnEvery) {
        return Math.floorDiv(now.toEpochMilli(), turnEvery.toMillis());
    }

    /**
     * Where {@code node} stands among the {@code sharing} nodes (it may or may not be among them): how
     * many of the others sort before it. Every node orders the same ids the same way.
     */
    public static int placeAmong(String node, java.util.Collection<String> sharing) {
        int before = 0;
        for (String other : sharing) {
            if (other.compareTo(node) < 0) {
                before++;
            }
        }
        return before;
    }

    /**
     * How many of the {@code leasable} free slots a node may take while another node waits for slots
     * of the destination: no more than brings what its lease {@code holds} to its {@code share}, so
     * that a node that started later is not starved by one that took the free slots first; but at
     * least {@code forRunning}, the attempts the node runs that its lease no longer counts (it expired
     * while they ran). With nobody waiting, every free slot may be taken.
     */
    public static int leasableWithinShare(int leasable, boolean othersWaiting, int share, int holds, int forRunning) {
        if (!othersWaiting) {
            return leasable;
        }
        return Math.max(0, Math.min(leasable, Math.max(forRunning, share - holds)));
    }

    /** The state after a node leased slots: active now, with the pace its admissions run at, as a grant keeps it. */
    public static DestinationState leased(DestinationState s, DestinationPolicy policy, Instant now) {
        return touched(s, now).toBuilder().pace(Optional.of(s.paceUnder(policy, now))).build();
    }

    /** How a refusal is answered: a place in the destination's line, or (without a rate) a plain wait. */
    private static final class Line {
        /** Places given ahead at most (and at least {@link #MIN_LINE} of time): the rest wait for the line to shorten. */
        static final int LINE_PLACES = 20;
        static final Duration MIN_LINE = Duration.ofSeconds(2);

        private final DestinationState active;
        private final Optional<Duration> spacing;
        private final Optional<Instant> paceDoublesAt;
        private final boolean holder;
        private final Duration busyWait;
        private final Instant now;

        Line(DestinationState active, Optional<Duration> spacing, Optional<Instant> paceDoublesAt, boolean holder,
             Duration busyWait, Instant now) {
            this.active = active;
            this.spacing = spacing;
            this.paceDoublesAt = paceDoublesAt;
            this.holder = holder;
            this.busyWait = busyWait;
            this.now = now;
        }

        /**
         * Not before {@code earliest} (now: as soon as a slot may free). A holder keeps its place and
         * comes back a pace later; anyone else gets the next free place at or after {@code earliest}.
         */
        Admitted refuse(Instant earliest, String reason) {
            if (!spacing.isPresent()) {
                return new Admitted(Admission.waitUntil(later(earliest, now.plus(busyWait)), reason), active);
            }
            Duration pace = spacing.get();
            Optional<Instant> lineEnd = active.nextStartAt().filter(now::isBefore);
            if (holder) {
                // A slot held by a running attempt frees within about a pace.
                return new Admitted(Admission.waitUntil(earliest.isAfter(now) ? earliest : now.plus(pace), reason),
                        active);
            }
            // The next free place, not before earliest; a busy slot alone waits for the line's next place.
            Instant base = earliest.isAfter(now) ? earliest : lineEnd.orElse(now.plus(pace));
            Instant place = later(base, lineEnd.orElse(base));
            boolean longLine = place.isAfter(now.plus(pace.multipliedBy(LINE_PLACES))) && place.isAfter(now.plus(MIN_LINE));
            // In slow start the pace doubles within seconds: places at today's spacing beyond that would keep the
            // destination at half its pace until they are used, so none is given past the doubling (one at least).
            boolean pastDoubling = paceDoublesAt.isPresent() && place.isAfter(later(paceDoublesAt.get(), now.plus(pace)));
            if (longLine || pastDoubling) {
                // A place given now would fix the pace of today for mail sent later, and the pace may grow
                // meanwhile. Come back when the line is shorter and take a place then: each refused attempt at
                // its own time, half a pace after the one before, so that a backlog comes back at twice the pace
                // (room for the pace to double) rather than all at once at the line's end, round after round.
                Instant lineEndOrPlace = lineEnd.orElse(place);
                Instant comeBack = later(lineEndOrPlace, active.overflowEndAt().orElse(lineEndOrPlace));
                return new Admitted(Admission.waitUntil(comeBack, reason),
                        active.toBuilder().overflowEndAt(Optional.of(comeBack.plus(pace.dividedBy(2)))).build());
            }
            return new Admitted(Admission.reserved(place, reason),
                    active.toBuilder().nextStartAt(Optional.of(place.plus(pace))).build());
        }
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    /** An admitted attempt gave its slot back. A probe that finishes unrecorded is inconclusive: the next admission probes again. */
    public static DestinationState finished(DestinationState s, Instant now) {
        return touched(s, now).toBuilder().inFlight(Math.max(0, s.inFlight() - 1)).probing(false).build();
    }

    /**
     * The destination throttled us. What changes follows {@code effect}: a hold starts (the
     * policy's initial hold) or grows (times growth, up to max), and at least {@code hint}; a rate
     * signal cuts the rate ({@code starts} tells what the receiver took) and, when it repeats
     * within the hour, pauses before the probe; a connection signal cuts the concurrency. A throttle
     * received while a hold is already running (from a connection that started before it) extends
     * nothing but the hint: simultaneous connections must not multiply the hold.
     */
    public static DestinationState throttled(DestinationState s, DestinationPolicy policy, ThrottleEffect effect,
                                             String reply, Optional<Duration> hint, RecentStarts starts, Instant now) {
        DestinationState.Builder b = counted(s, reply, now).probing(false);
        Pace pace = s.paceUnder(policy, now);
        boolean alreadyHeld = s.isHeldAt(now);
        if (effect.slows()) {
            // Without a rate there is nothing to count (and counting costs the SQL store two statements).
            int counted = policy.rateLimit().isPresent() ? starts.count() : 0;
            pace = alreadyHeld ? pace.signalled(now) : pace.rateCut(policy, counted, now);
        } else if (effect == ThrottleEffect.FEWER_CONNECTIONS) {
            if (pace.effectiveConcurrency(policy) <= 1 && s.inFlight() <= 1) {
                // One connection is already too many: someone else uses the receiver's allowance.
                // Retrying at once would be refused again and again, so this one holds.
                effect = ThrottleEffect.HOLD;
            }
            pace = pace.connectionsCut(policy, s.inFlight(), now);
        } else {
            pace = pace.signalled(now);
        }
        b.pace(Optional.of(pace));
        if (alreadyHeld) {
            Instant byHint = now.plus(policy.throttleHold().boundedHint(hint));
            if (byHint.isAfter(s.heldUntil().get())) {
                b.heldUntil(Optional.of(byHint));
            }
        } else if (effect.holds()) {
            Duration hold = policy.throttleHold().next(s.currentHold(), hint);
            b.currentHold(hold).heldUntil(Optional.of(now.plus(hold))).holdStartedAt(Optional.of(now))
                    .consecutiveThrottles(s.consecutiveThrottles() + 1);
        } else if (effect.slows()) {
            // No hold, but the next attempt is a probe, after a pause only if the signal repeats.
            b.heldUntil(Optional.of(now.plus(pace.pauseBeforeProbe(policy, policy.throttleHold().max()))))
                    .holdStartedAt(Optional.of(now)).consecutiveThrottles(s.consecutiveThrottles() + 1);
        }
        return b.build();
    }

    /** An attempt got through: ends a hold whose time is over, shrinks the next hold, and lets the pace grow. */
    public static DestinationState succeeded(DestinationState s, DestinationPolicy policy, String reply, Instant now) {
        DestinationState.Builder b = counted(s, reply, now);
        if (s.isHeldAt(now)) {
            // An attempt from before the hold got through: good news, but the throttle is newer.
            return b.build();
        }
        boolean wasProbe = s.heldUntil().isPresent();
        Pace pace = s.paceUnder(policy, now);
        // The probe's success only reopens the destination; growth waits for ordinary traffic.
        return b.heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0)
                .currentHold(policy.throttleHold().shrink(s.currentHold()))
                .pace(Optional.of(wasProbe ? pace : pace.grown(policy, now))).build();
    }

    /**
     * Any other outcome (a bounce, a retry, a connection failure): counted, and the reply kept. A
     * probe that ends this way ends the hold, since the destination answered without throttling.
     */
    public static DestinationState failed(DestinationState s, String reply, Instant now) {
        DestinationState.Builder b = counted(s, reply, now);
        if (s.probing() && !s.isHeldAt(now)) {
            b.heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0);
        }
        return b.build();
    }

    /** An operator ends the hold now; the pace stays as learned. */
    public static DestinationState released(DestinationState s) {
        return s.toBuilder().heldUntil(Optional.empty()).probing(false).consecutiveThrottles(0).build();
    }

    /**
     * Whether a key can be forgotten: no hold in force (none, or one that ended at least
     * {@code idleAfter} ago), nothing in flight, no probe, no start still within its rate period,
     * and no activity for {@code idleAfter}. It comes back as {@link DestinationState#initial}.
     */
    public static boolean isIdle(DestinationState s, Duration idleAfter, Instant now) {
        Instant cutoff = now.minus(idleAfter);
        return s.inFlight() == 0 && !s.probing()
                && (!s.heldUntil().isPresent() || !s.heldUntil().get().isAfter(cutoff))
                && (!s.lastActivity().isPresent() || !s.lastActivity().get().isAfter(cutoff))
                && (!s.rateWindowEnd().isPresent() || !s.rateWindowEnd().get().isAfter(now));
    }

    /** Remote text ends up in logs and WebAdmin: no control characters, bounded. */
    public static String sanitise(String reply) {
        String t = CharMatcher.javaIsoControl().replaceFrom(reply, ' ').trim();
        return t.length() > MAX_REPLY_CHARS ? t.substring(0, MAX_REPLY_CHARS) + "..." : t;
    }

    private static DestinationState.Builder counted(DestinationState s, String reply, Instant now) {
        // A reply-less outcome (an exception without text) keeps the last reply: it says more than nothing.
        return touched(s, now).toBuilder().attempts(s.attempts() + 1).lastAttemptAt(Optional.of(now))
                .lastReply(reply == null ? s.lastReply() : Optional.of(sanitise(reply)));
    }

    private static DestinationState touched(DestinationState s, Instant now) {
        if (s.lastActivity().isPresent() && !now.isAfter(s.lastActivity().get())) {
            return s;
        }
        return s.toBuilder().lastActivity(Optional.of(now)).build();
    }

    /** {@code 3/1m}, or {@code 1.5/1m (paced down from 3/1m)} below the ceiling. */
    private static String rateText(double rate, RateLimit ceiling) {
        if (rate >= ceiling.count()) {
            return ceiling.toString();
        }
        String period = ceiling.toString().substring(ceiling.toString().indexOf('/'));
        return String.format(java.util.Locale.ROOT, "%.1f%s (paced down from %s)", rate, period, ceiling);
    }
}
