package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The fake's behaviour, free of any SMTP library: given the mode in force and what the client sent, what AOL would
 * answer. The SubEtha glue ({@link AolSmtpServer}) only carries these decisions to the wire.
 */
final class AolRelay {
    /** "If the client keeps connecting while throttled": the fourth connect over the limit gets the dynamic block. */
    static final int CONNECTS_OVER_LIMIT_BEFORE_BLOCK = 3;

    /** What a client the mode is not set for gets; NORMAL keeps no per-activation state, so one serves all. */
    private static final ActiveMode NORMAL_FOR_OTHER_CLIENTS = ActiveMode.start(ModeSetting.normal(), Instant.EPOCH);

    private final Clock clock;
    private final AtomicReference<ActiveMode> active;
    /** Flaky recipients that have had their one temporary failure; they are accepted from now on. */
    private final Set<String> flakyAlreadyDeferred = ConcurrentHashMap.newKeySet();

    AolRelay(Clock clock) {
        this.clock = requireNonNull(clock, "clock");
        this.active = new AtomicReference<>(ActiveMode.start(ModeSetting.normal(), clock.instant()));
    }

    void setMode(ModeSetting setting) {
        active.set(ActiveMode.start(setting, clock.instant()));
    }

    ModeStatus mode() {
        ActiveMode mode = current();
        return new ModeStatus(mode.setting, mode.until);
    }

    /** Forgets the mode, the rate windows and the flaky recipients' history. */
    void reset() {
        setMode(ModeSetting.normal());
        flakyAlreadyDeferred.clear();
    }

    Instant now() {
        return clock.instant();
    }

    ConnectDecision onConnect(String client) {
        ActiveMode mode = currentFor(client);
        switch (mode.setting.mode()) {
            case DYN_T1:
                return ConnectDecision.reject(ServerAction.replyAndClose(AolReplies.DYN_T1));
            case RTR_BB:
                return ConnectDecision.reject(ServerAction.replyAndClose(AolReplies.RTR_BB));
            case CON_B1:
                return ConnectDecision.reject(ServerAction.replyAndClose(AolReplies.CON_B1));
            case DOWN:
                return ConnectDecision.reject(ServerAction.replyAndClose(AolReplies.DOWN));
            case SLOW:
                return ConnectDecision.greetAfter(mode.setting.delay());
            case REPLY:
                return replyingAt(mode, ReplyStage.CONNECT).map(a -> ConnectDecision.reject(
                        ServerAction.replyAndClose(a.replyText().get()))).orElse(ConnectDecision.greet());
            case RATE_LIMIT:
                int persistence = mode.windows.connectsWhileOverLimit(client, clock.instant());
                if (persistence > CONNECTS_OVER_LIMIT_BEFORE_BLOCK) {
                    return ConnectDecision.reject(ServerAction.replyAndClose(AolReplies.RLY_B1));
                }
                if (persistence > 0) {
                    return ConnectDecision.reject(ServerAction.replyAndClose(AolReplies.DYN_T1));
                }
                return ConnectDecision.greet();
            default:
                return ConnectDecision.greet();
        }
    }

    /** MAIL FROM: where the rate modes count messages, since AOL throttles per message and per client IP. */
    ServerAction onMailFrom(String client) {
        ActiveMode mode = currentFor(client);
        if (mode.setting.mode().isRateLimited() && !mode.windows.tryAdmit(client, clock.instant())) {
            return ServerAction.reply(mode.setting.mode() == Mode.RLY_NW ? AolReplies.RLY_NW : AolReplies.DYN_T1);
        }
        return replyingAt(mode, ReplyStage.MAIL).orElse(ServerAction.reply(AolReplies.OK));
    }

    /** {@link Mode#REPLY}'s reply, when it answers at {@code stage}. */
    private static Optional<ServerAction> replyingAt(ActiveMode mode, ReplyStage stage) {
        if (mode.setting.mode() != Mode.REPLY || mode.setting.stage() != stage) {
            return Optional.empty();
        }
        if (mode.setting.times() > 0 && mode.replies.incrementAndGet() > mode.setting.times()) {
            return Optional.empty();
        }
        return mode.setting.reply().map(ServerAction::reply);
    }

    ServerAction onRecipient(String client, String address) {
        ActiveMode mode = currentFor(client);
        Optional<ServerAction> replying = replyingAt(mode, ReplyStage.RCPT);
        if (replying.isPresent()) {
            return replying.get();
        }
        if (mode.chaos != null) {
            Optional<ServerAction> chaos = mode.chaos.atRecipient(address);
            if (chaos.isPresent()) {
                return chaos.get();
            }
        }
        if (mode.setting.mode() == Mode.DIRECTORY_OUTAGE) {
            return ServerAction.reply(AolReplies.MAILBOX_NOT_FOUND);
        }
        switch (RecipientScenario.of(address)) {
            case UNKNOWN:
                return ServerAction.reply(AolReplies.MAILBOX_NOT_FOUND);
            case REJECTED:
                return ServerAction.reply(AolReplies.RECIPIENT_REJECTED);
            case FULL:
                return ServerAction.reply(AolReplies.MAILBOX_FULL);
            default:
                return ServerAction.reply(AolReplies.OK);
        }
    }

    /**
     * End of DATA. SMTP has one reply per message, so content verdicts apply to the whole message: any accepted hvu
     * recipient rejects it, any flaky recipient not yet deferred defers it.
     */
    ServerAction onEndOfData(String client, List<String> acceptedRecipients, boolean tooLarge) {
        ActiveMode mode = currentFor(client);
        if (mode.setting.mode() == Mode.DROP_IN_DATA) {
            return ServerAction.hangUp();
        }
        if (tooLarge) {
            return ServerAction.reply(AolReplies.MESSAGE_TOO_BIG);
        }
        Optional<ServerAction> replying = replyingAt(mode, ReplyStage.DATA);
        if (replying.isPresent()) {
            return replying.get();
        }
        if (mode.chaos != null) {
            Optional<ServerAction> chaos = mode.chaos.atEndOfData(acceptedRecipients);
            if (chaos.isPresent()) {
                return chaos.get();
            }
        }
        if (acceptedRecipients.stream().anyMatch(r -> RecipientScenario.of(r) == RecipientScenario.HVU)) {
            return ServerAction.reply(AolReplies.HVU_B1);
        }
        boolean deferred = false;
        for (String recipient : acceptedRecipients) {
            if (RecipientScenario.of(recipient) == RecipientScenario.FLAKY
                    && flakyAlreadyDeferred.add(recipient.toLowerCase(Locale.ROOT))) {
                deferred = true;
            }
        }
        return ServerAction.reply(deferred ? AolReplies.HVU_B2 : AolReplies.OK);
    }

    /** The mode in force for {@code client}: NORMAL's when the mode is set for another client only. */
    private ActiveMode currentFor(String client) {
        ActiveMode mode = current();
        return mode.setting.appliesTo(client) ? mode : NORMAL_FOR_OTHER_CLIENTS;
    }

    private ActiveMode current() {
        ActiveMode mode = active.get();
        if (mode.until.isPresent() && !clock.instant().isBefore(mode.until.get())) {
            ActiveMode normal = ActiveMode.start(ModeSetting.normal(), mode.until.get());
            // Another thread may have set a new mode meanwhile; that one wins.
            active.compareAndSet(mode, normal);
            return active.get();
        }
        return mode;
    }

    /** The recipient scenarios, chosen by the local part's prefix, case-insensitively. */
    enum RecipientScenario {
        OK, UNKNOWN, REJECTED, FULL, HVU, FLAKY, OTHER;

        static RecipientScenario of(String address) {
            int at = address.lastIndexOf('@');
            String localPart = (at < 0 ? address : address.substring(0, at)).toLowerCase(Locale.ROOT);
            for (RecipientScenario scenario : values()) {
                if (scenario != OTHER && localPart.startsWith(scenario.name().toLowerCase(Locale.ROOT))) {
                    return scenario;
                }
            }
            return OTHER;
        }
    }

    /** Whether to greet a new connection (possibly after a delay) or to reject it with a reply. */
    static final class ConnectDecision {
        private static final ConnectDecision GREET = new ConnectDecision(Duration.ZERO, Optional.empty());

        private final Duration delay;
        private final Optional<ServerAction> rejection;

        private ConnectDecision(Duration delay, Optional<ServerAction> rejection) {
            this.delay = delay;
            this.rejection = rejection;
        }

        static ConnectDecision greet() {
            return GREET;
        }

        static ConnectDecision greetAfter(Duration delay) {
            return new ConnectDecision(delay, Optional.empty());
        }

        static ConnectDecision reject(ServerAction rejection) {
            return new ConnectDecision(Duration.ZERO, Optional.of(rejection));
        }

        Duration delay() {
            return delay;
        }

        Optional<ServerAction> rejection() {
            return rejection;
        }
    }

    private static final class ActiveMode {
        final ModeSetting setting;
        final Optional<Instant> until;
        final RateWindows windows;
        /** CHAOS's draws, counted from this activation: setting the mode again replays the same sequence. */
        final ChaosReplies chaos;
        /** REPLY's replies given since this activation. */
        final AtomicInteger replies = new AtomicInteger();

        private ActiveMode(ModeSetting setting, Optional<Instant> until, RateWindows windows, ChaosReplies chaos) {
            this.setting = setting;
            this.until = until;
            this.windows = windows;
            this.chaos = chaos;
        }

        static ActiveMode start(ModeSetting setting, Instant now) {
            return new ActiveMode(setting, setting.duration().map(now::plus),
                    setting.mode().isRateLimited() ? new RateWindows(setting.perMinute()) : null,
                    setting.mode() == Mode.CHAOS ? new ChaosReplies(setting.seed()) : null);
        }
    }
}
