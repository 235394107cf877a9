package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * A mode with its parameters: how long it lasts (empty = until changed), the per-client message budget of the rate modes,
 * the greeting delay of {@link Mode#SLOW}, and the seed of {@link Mode#CHAOS}'s random replies. Parameters that do not apply to the mode are rejected rather than ignored,
 * so an operator's typo does not silently do nothing.
 */
public final class ModeSetting {
    static final int RLY_NW_DEFAULT_PER_MINUTE = 2;
    static final int RATE_LIMIT_DEFAULT_PER_MINUTE = 3;
    static final Duration SLOW_DEFAULT_DELAY = Duration.ofSeconds(30);
    static final long CHAOS_DEFAULT_SEED = 1;

    private final Mode mode;
    private final Optional<Duration> duration;
    private final int perMinute;
    private final Duration delay;
    private final long seed;
    private final Optional<String> reply;
    private final ReplyStage stage;
    /** How many times {@link Mode#REPLY} answers its reply before answering as NORMAL does; 0 for no limit. */
    private final int times;
    /** The one client address (the sender's IP) the mode answers; empty for every client. */
    private final Optional<String> client;

    private ModeSetting(Mode mode, Optional<Duration> duration, int perMinute, Duration delay, long seed) {
        this(mode, duration, perMinute, delay, seed, Optional.empty(), ReplyStage.CONNECT, 0, Optional.empty());
    }

    private ModeSetting(Mode mode, Optional<Duration> duration, int perMinute, Duration delay, long seed,
                        Optional<String> reply, ReplyStage stage, int times, Optional<String> client) {
        this.mode = mode;
        this.duration = duration;
        this.perMinute = perMinute;
        this.delay = delay;
        this.seed = seed;
        this.reply = reply;
        this.stage = stage;
        this.times = times;
        this.client = client;
    }

    /** The mode with its default parameters, lasting until changed. */
    public static ModeSetting of(Mode mode) {
        requireNonNull(mode, "mode");
        if (mode == Mode.REPLY) {
            throw new IllegalArgumentException("REPLY needs its reply and stage: use ModeSetting.replying");
        }
        int perMinute = mode == Mode.RLY_NW ? RLY_NW_DEFAULT_PER_MINUTE
                : mode == Mode.RATE_LIMIT ? RATE_LIMIT_DEFAULT_PER_MINUTE : 0;
        Duration delay = mode == Mode.SLOW ? SLOW_DEFAULT_DELAY : Duration.ZERO;
        long seed = mode == Mode.CHAOS ? CHAOS_DEFAULT_SEED : 0;
        return new ModeSetting(mode, Optional.empty(), perMinute, delay, seed);
    }

    /**
     * {@link Mode#REPLY}: {@code reply} (a whole SMTP reply, code first) at {@code stage}, lasting until changed.
     *
     * @throws IllegalArgumentException if the reply does not start with a 4xx or 5xx code
     */
    public static ModeSetting replying(String reply, ReplyStage stage) {
        requireNonNull(reply, "reply");
        requireNonNull(stage, "stage");
        if (!reply.matches("[45][0-9][0-9]([ -].*)?")) {
            throw new IllegalArgumentException("reply must start with a 4xx or 5xx code, was '" + reply + "'");
        }
        return new ModeSetting(Mode.REPLY, Optional.empty(), 0, Duration.ZERO, 0, Optional.of(reply), stage, 0,
                Optional.empty());
    }

    public static ModeSetting normal() {
        return of(Mode.NORMAL);
    }

    /** This setting, reverting to {@link Mode#NORMAL} once {@code duration} has passed. */
    public ModeSetting lasting(Duration duration) {
        requireNonNull(duration, "duration");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, was " + duration);
        }
        return new ModeSetting(mode, Optional.of(duration), perMinute, delay, seed, reply, stage, times, client);
    }

    /** For {@link Mode#RLY_NW} and {@link Mode#RATE_LIMIT}: messages accepted per client in any 60 s window. */
    public ModeSetting perMinute(int messages) {
        if (!mode.isRateLimited()) {
            throw new IllegalArgumentException("perMinute applies only to RLY_NW and RATE_LIMIT, not " + mode);
        }
        if (messages < 1) {
            throw new IllegalArgumentException("perMinute must be at least 1, was " + messages);
        }
        return new ModeSetting(mode, duration, messages, delay, seed, reply, stage, times, client);
    }

    /** For {@link Mode#REPLY}: the reply is given this many times (counted from when the mode is set), then NORMAL's. */
    public ModeSetting times(int count) {
        if (mode != Mode.REPLY) {
            throw new IllegalArgumentException("times applies only to REPLY, not " + mode);
        }
        if (count < 1) {
            throw new IllegalArgumentException("times must be at least 1, was " + count);
        }
        return new ModeSetting(mode, duration, perMinute, delay, seed, reply, stage, count, client);
    }

    /** For {@link Mode#SLOW}: how long the greeting is held back. */
    public ModeSetting delay(Duration greetingDelay) {
        requireNonNull(greetingDelay, "greetingDelay");
        if (mode != Mode.SLOW) {
            throw new IllegalArgumentException("delayMillis applies only to SLOW, not " + mode);
        }
        if (greetingDelay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative, was " + greetingDelay);
        }
        return new ModeSetting(mode, duration, perMinute, greetingDelay, seed, reply, stage, times, client);
    }

    /** For {@link Mode#CHAOS}: the seed its replies are drawn from; the same seed gives the same replies. */
    public ModeSetting seed(long chaosSeed) {
        if (mode != Mode.CHAOS) {
            throw new IllegalArgumentException("seed applies only to CHAOS, not " + mode);
        }
        return new ModeSetting(mode, duration, perMinute, delay, chaosSeed, reply, stage, times, client);
    }

    /**
     * This setting for the client at {@code address} only (its IP as the fake sees it, for example {@code 127.0.0.2}):
     * every other client gets NORMAL's answers. Receivers throttle per sending IP; this is how a test throttles one
     * James node of two that send from different addresses.
     */
    public ModeSetting onlyForClient(String address) {
        requireNonNull(address, "address");
        if (!address.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            throw new IllegalArgumentException("client must be an IP address, was '" + address + "'");
        }
        return new ModeSetting(mode, duration, perMinute, delay, seed, reply, stage, times, Optional.of(address));
    }

    /** The one client the mode answers, or empty for every client. */
    public Optional<String> client() {
        return client;
    }

    /** Whether the mode answers {@code clientAddress} (else NORMAL does). */
    boolean appliesTo(String clientAddress) {
        return client.isEmpty() || client.get().equals(clientAddress);
    }

    public Mode mode() {
        return mode;
    }

    public Optional<Duration> duration() {
        return duration;
    }

    /** Zero for modes without a message budget. */
    public int perMinute() {
        return perMinute;
    }

    /** Zero for modes other than {@link Mode#SLOW}. */
    public Duration delay() {
        return delay;
    }

    /** Zero for modes other than {@link Mode#CHAOS}. */
    public long seed() {
        return seed;
    }

    /** {@link Mode#REPLY}'s reply; empty for the other modes. */
    public Optional<String> reply() {
        return reply;
    }

    /** How many times {@link Mode#REPLY} answers with {@link #reply()}; 0 for as long as the mode lasts. */
    public int times() {
        return times;
    }

    /** Where {@link Mode#REPLY} answers with {@link #reply()}. */
    public ReplyStage stage() {
        return stage;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ModeSetting)) {
            return false;
        }
        ModeSetting that = (ModeSetting) o;
        return mode == that.mode && duration.equals(that.duration) && perMinute == that.perMinute
                && delay.equals(that.delay) && seed == that.seed && reply.equals(that.reply) && stage == that.stage
                && times == that.times && client.equals(that.client);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(mode, duration, perMinute, delay, seed, reply, stage, times, client);
    }

    @Override
    public String toString() {
        return mode + duration.map(d -> " for " + d).orElse("")
                + (mode.isRateLimited() ? " perMinute=" + perMinute : "")
                + (mode == Mode.SLOW ? " delay=" + delay : "")
                + (mode == Mode.CHAOS ? " seed=" + seed : "")
                + client.map(c -> " for client " + c).orElse("")
                + reply.map(r -> " at " + stage + (times > 0 ? " " + times + " time(s)" : "") + ": " + r).orElse("");
    }
}
