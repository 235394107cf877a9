package org.mailpolicy.rules;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Optional;
import org.mailpolicy.reply.EnhancedStatus;
import org.mailpolicy.reply.SmtpReply;

/** The engine's reading of one reply: what to do, why, and what a person should know. */
public final class Classification {
    private final SmtpReply reply;
    private final Action action;
    private final String reason;
    private final Scope scope;
    private final String ruleId;
    private final String explanation;
    private final String remedy;
    private final String source;
    private final Duration holdHint;
    private final Duration retryHint;
    private final ThrottleEffect effect;

    /** A classification whose throttle, if it is one, holds the destination. */
    public Classification(SmtpReply reply, Action action, String reason, Scope scope, String ruleId,
                          String explanation, String remedy, String source, Duration holdHint, Duration retryHint) {
        this(reply, action, reason, scope, ruleId, explanation, remedy, source, holdHint, retryHint,
                action == Action.THROTTLE ? ThrottleEffect.HOLD : null);
    }

    /** @param effect for a throttle, what it asks of the destination; null for other actions */
    public Classification(SmtpReply reply, Action action, String reason, Scope scope, String ruleId,
                          String explanation, String remedy, String source, Duration holdHint, Duration retryHint,
                          ThrottleEffect effect) {
        this.reply = Preconditions.checkNotNull(reply, "reply");
        this.action = Preconditions.checkNotNull(action, "action");
        this.reason = Preconditions.checkNotNull(reason, "reason");
        this.scope = Preconditions.checkNotNull(scope, "scope");
        this.ruleId = Preconditions.checkNotNull(ruleId, "ruleId");
        this.explanation = Preconditions.checkNotNull(explanation, "explanation");
        this.remedy = Preconditions.checkNotNull(remedy, "remedy");
        this.source = Preconditions.checkNotNull(source, "source");
        this.holdHint = holdHint;
        this.retryHint = retryHint;
        Preconditions.checkArgument((action == Action.THROTTLE) == (effect != null),
                "a throttle, and only a throttle, has an effect: %s %s", action, effect);
        this.effect = effect;
    }

    public SmtpReply reply() {
        return reply;
    }

    public Action action() {
        return action;
    }

    /** Sisimai's reason vocabulary in lower case: userunknown, mailboxfull, blocked, speeding, ... */
    public String reason() {
        return reason;
    }

    public Scope scope() {
        return scope;
    }

    /** The id of the rule that matched, e.g. {@code aol.dyn-t1}. */
    public String ruleId() {
        return ruleId;
    }

    public String explanation() {
        return explanation;
    }

    public String remedy() {
        return remedy;
    }

    /** Where the knowledge comes from: a document, an RFC, a field report. */
    public String source() {
        return source;
    }

    /** For throttles: how long the rule suggests holding the destination at least. */
    public Optional<Duration> holdHint() {
        return Optional.ofNullable(holdHint);
    }

    /** For throttles: what shrinks (a hold, the rate, the connections); empty for other actions. */
    public Optional<ThrottleEffect> throttleEffect() {
        return Optional.ofNullable(effect);
    }

    /** For retries: how long the rule suggests waiting at least (AOL says 24 h for RTR:GE). */
    public Optional<Duration> retryHint() {
        return Optional.ofNullable(retryHint);
    }

    /**
     * This reading of a failure that is already final, such as a bounce's {@code Action: failed}:
     * the reporting server has given up, so nobody will try again, and a retry or a throttle
     * becomes a bounce with the same reason, scope and rule (without hints, which only a retry or
     * a throttle has). Never a suppression: only a rule's own evidence may suppress. A final
     * reading is returned as it is.
     *
     * @param why why the failure is final; it starts the explanation
     */
    public Classification asFinalFailure(String why) {
        Preconditions.checkNotNull(why, "why");
        if (action.isFinal()) {
            return this;
        }
        return new Classification(reply, Action.BOUNCE, reason, scope, ruleId, why + " " + explanation, remedy, source,
                null, null);
    }

    /**
     * This reading of a failure as a temporary one: a retry with the same reason, scope and rule, for a
     * reply that is not believed now (a "user unknown" while the receiver's directory looks broken).
     *
     * @param why why the reply is not believed; it starts the explanation
     */
    public Classification asRetry(String why) {
        Preconditions.checkNotNull(why, "why");
        return new Classification(reply, Action.RETRY, reason, scope, ruleId, why + " " + explanation, remedy, source,
                null, null);
    }

    /**
     * The RFC 3463 status to report in a DSN: the reply's own enhanced code when it has one, else
     * one derived from the reason and whether the action is final.
     */
    public EnhancedStatus dsnStatus() {
        return DsnStatus.of(this);
    }

    @Override
    public String toString() {
        return action.id() + "/" + reason + " (" + ruleId + "): " + reply.raw();
    }
}
