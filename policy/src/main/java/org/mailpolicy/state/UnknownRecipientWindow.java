package org.mailpolicy.state;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One destination's recent answers about its recipients, for {@link DirectoryOutageGuard}: for each
 * distinct recipient answered within the window, its last answer and whether that was "user
 * unknown"; and the suspicion of a directory outage they raised. A recipient tried again counts
 * once, with its latest answer: a retry is not more evidence. Not thread-safe (the guard locks);
 * time comes in as a parameter.
 */
final class UnknownRecipientWindow {
    /**
     * The most recipients remembered: the oldest go first beyond it. Ten minutes of a very busy
     * destination stay under it, and the share of unknown ones is still read from the most recent.
     */
    static final int MAX_RECIPIENTS = 50_000;

    /** Distinct recipients, lower case, oldest answer first. */
    private final LinkedHashMap<String, Answer> answers = new LinkedHashMap<>();
    private int unknown;
    /** Since when an outage is suspected; set until a review notices that the suspicion ended. */
    private Instant suspectedSince;
    /** When the suspicion ends unless another surge extends it. */
    private Instant suspectedUntil;

    private static final class Answer {
        final Instant at;
        final boolean unknown;

        Answer(Instant at, boolean unknown) {
            this.at = at;
            this.unknown = unknown;
        }
    }

    /** The destination answered about {@code recipient} at {@code at}: "user unknown", or anything else. */
    void answered(String recipient, boolean userUnknown, Instant at) {
        String r = recipient.toLowerCase(Locale.ROOT);
        Answer before = answers.remove(r);
        if (before != null && before.unknown) {
            unknown--;
        }
        answers.put(r, new Answer(at, userUnknown));
        if (userUnknown) {
            unknown++;
        }
        if (answers.size() > MAX_RECIPIENTS) {
            drop(answers.entrySet().iterator());
        }
    }

    /** Forgets the answers given at or before {@code now - window}. */
    void trim(Duration window, Instant now) {
        Instant oldestKept = now.minus(window);
        Iterator<Map.Entry<String, Answer>> it = answers.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Answer> e = it.next();
            if (e.getValue().at.isAfter(oldestKept)) {
                // Answers are in the order given: the rest are younger.
                return;
            }
            drop(it, e);
        }
    }

    private void drop(Iterator<Map.Entry<String, Answer>> it) {
        drop(it, it.next());
    }

    private void drop(Iterator<Map.Entry<String, Answer>> it, Map.Entry<String, Answer> e) {
        if (e.getValue().unknown) {
            unknown--;
        }
        it.remove();
    }

    int unknownRecipients() {
        return unknown;
    }

    int answeredRecipients() {
        return answers.size();
    }

    /** The recipients answered "user unknown" within the window, oldest first. */
    List<String> unknownRecipientList() {
        ImmutableList.Builder<String> out = ImmutableList.builder();
        answers.forEach((r, a) -> {
            if (a.unknown) {
                out.add(r);
            }
        });
        return out.build();
    }

    /** A surge at {@code now}: suspected from now (or since the suspicion began) until {@code now + quiet}. */
    void surged(Duration quiet, Instant now) {
        if (suspectedSince == null) {
            suspectedSince = now;
        }
        suspectedUntil = now.plus(quiet);
    }

    boolean isSuspectedAt(Instant now) {
        return suspectedUntil != null && now.isBefore(suspectedUntil);
    }

    /** When the current (or last, not yet noticed as ended) suspicion began. */
    Optional<Instant> suspectedSince() {
        return Optional.ofNullable(suspectedSince);
    }

    Optional<Instant> suspectedUntil() {
        return Optional.ofNullable(suspectedUntil);
    }

    /** The end of the suspicion has been noticed (and told): the next surge starts a new one. */
    void suspicionEnded() {
        suspectedSince = null;
    }

    /** Nothing to remember: no answer within the window and no suspicion whose end is still to be told. */
    boolean isEmpty() {
        return answers.isEmpty() && suspectedSince == null;
    }
}
