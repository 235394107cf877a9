package org.mailpolicy.james.metrics;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.util.Locale;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.suppression.SuppressionEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugin's counters and timers, through James's {@link MetricFactory} (so they appear wherever
 * James's metrics go: its Dropwizard registry, JMX, WebAdmin's /metrics), and the one structured log
 * line per attempt outcome that operators grep. Metric names start with {@value #PREFIX}; the parts
 * taken from rules and the policy file (destination, action, reason) are reduced to
 * {@code [a-z0-9_-]} so that no reply text ever becomes a metric name.
 *
 * <pre>
 * delivery-policy.attempts                         every attempt started
 * delivery-policy.attempts.DESTINATION             per destination
 * delivery-policy.attempt-time                     timer per attempt (connect to outcome)
 * delivery-policy.outcome.delivered                a recipient accepted
 * delivery-policy.outcome.ACTION.REASON            retry|throttle|bounce|suppress by reason
 * delivery-policy.holds.started.DESTINATION        a throttle started (not extended) a hold
 * delivery-policy.connections.opened.DESTINATION   an SMTP connection was opened (greeted)
 * delivery-policy.connections.reused.DESTINATION   an open idle connection was taken for another mail
 * delivery-policy.suppressions.added.SOURCE        live_reply|bounce|manual
 * delivery-policy.suppressions.lifted              removed again because a directory outage wrote them
 * delivery-policy.directory-outage.started.DESTINATION   a surge of unknown users began a suspicion
 * delivery-policy.directory-outage.deferred.DESTINATION  an unknown-user reply retried instead of suppressed
 * delivery-policy.dsn.sent.ACTION                  failed|delayed|...
 * </pre>
 */
public final class DeliveryMetrics {
    public static final String PREFIX = "delivery-policy.";
    static final String ATTEMPT_TIMER = PREFIX + "attempt-time";
    private static final Logger LOGGER = LoggerFactory.getLogger("org.mailpolicy.delivery.outcome");
    private static final CharMatcher NAME_CHARS = CharMatcher.inRange('a', 'z').or(CharMatcher.inRange('0', '9'))
            .or(CharMatcher.anyOf("_-"));
    private static final int MAX_NAME_PART = 64;

    private final MetricFactory factory;

    private DeliveryMetrics(MetricFactory factory) {
        this.factory = factory;
    }

    public static DeliveryMetrics of(MetricFactory factory) {
        return new DeliveryMetrics(Preconditions.checkNotNull(factory, "factory"));
    }

    /**
     * An attempt to {@code destination} starts: counted now, timed until {@link Attempt#stop()}
     * (call it in a {@code finally}).
     */
    public Attempt attemptStarted(String destination) {
        factory.generate(PREFIX + "attempts").increment();
        factory.generate(PREFIX + "attempts." + namePart(destination)).increment();
        return new Attempt(factory.timer(ATTEMPT_TIMER));
    }

    /** A recipient was accepted; logged with the reply that accepted it. */
    public void delivered(String messageId, String destination, String recipient, String reply) {
        factory.generate(PREFIX + "outcome.delivered").increment();
        LOGGER.info("delivery outcome messageId={} destination={} recipient={} action=delivered rule=- reason=- reply={}",
                quoted(messageId), quoted(destination), quoted(recipient), quoted(reply));
    }

    /**
     * A recipient's attempt ended with a classified reply (retry, throttle, bounce, suppress):
     * counted by action and reason, and logged with message id, destination, recipient, reply,
     * action and rule.
     */
    public void outcome(String messageId, String destination, String recipient, Classification c) {
        Preconditions.checkNotNull(c, "classification");
        factory.generate(PREFIX + "outcome." + c.action().id() + "." + namePart(c.reason())).increment();
        LOGGER.info("delivery outcome messageId={} destination={} recipient={} action={} rule={} reason={} reply={}",
                quoted(messageId), quoted(destination), quoted(recipient), c.action().id(), quoted(c.ruleId()),
                quoted(c.reason()), quoted(c.reply().raw()));
    }

    /** A throttle started a new hold on {@code destination} (not one that only extended a running hold). */
    public void holdStarted(String destination) {
        factory.generate(PREFIX + "holds.started." + namePart(destination)).increment();
    }

    /** An SMTP connection to {@code destination} was opened and greeted. */
    public void connectionOpened(String destination) {
        factory.generate(PREFIX + "connections.opened." + namePart(destination)).increment();
    }

    /** An idle SMTP connection to {@code destination} was taken for another mail. */
    public void connectionReused(String destination) {
        factory.generate(PREFIX + "connections.reused." + namePart(destination)).increment();
    }

    /** An address was newly added to the suppression list. */
    public void suppressionAdded(SuppressionEntry.Source source) {
        factory.generate(PREFIX + "suppressions.added." + source.name().toLowerCase(Locale.ROOT)).increment();
    }

    /** Suppressions a directory outage wrote were lifted. */
    public void suppressionsLifted(int count) {
        factory.generate(PREFIX + "suppressions.lifted").add(count);
    }

    /** A surge of unknown-user replies made {@code destination}'s directory suspect. */
    public void directoryOutageStarted(String destination) {
        factory.generate(PREFIX + "directory-outage.started." + namePart(destination)).increment();
    }

    /** {@code count} unknown-user replies of {@code destination} were retried instead of suppressed. */
    public void unknownUsersDeferred(String destination, int count) {
        factory.generate(PREFIX + "directory-outage.deferred." + namePart(destination)).add(count);
    }

    /** A DSN was stored for sending (one per DSN message, whatever its number of recipients). */
    public void dsnSent(DsnAction action) {
        factory.generate(PREFIX + "dsn.sent." + action.id()).increment();
    }

    public static String namePart(String text) {
        if (text == null || text.isEmpty()) {
            return "unknown";
        }
        String lower = text.toLowerCase(Locale.ROOT);
        String kept = NAME_CHARS.negate().replaceFrom(lower, '_');
        return kept.length() > MAX_NAME_PART ? kept.substring(0, MAX_NAME_PART) : kept;
    }

    /** A log value in double quotes, with quotes, backslashes and control characters escaped: one line, parseable. */
    static String quoted(String value) {
        if (value == null) {
            return "-";
        }
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '"' || ch == '\\') {
                out.append('\\').append(ch);
            } else if (Character.isISOControl(ch)) {
                out.append(String.format("\\u%04x", (int) ch));
            } else {
                out.append(ch);
            }
        }
        return out.append('"').toString();
    }

    /** One attempt's timer. */
    public static final class Attempt {
        private final TimeMetric timer;
        private boolean stopped;

        private Attempt(TimeMetric timer) {
            this.timer = timer;
        }

        /** Publishes the attempt's duration; later calls do nothing. */
        public synchronized void stop() {
            if (!stopped) {
                stopped = true;
                timer.stopAndPublish();
            }
        }
    }
}
