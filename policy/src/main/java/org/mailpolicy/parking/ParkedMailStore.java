package org.mailpolicy.parking;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The schedule of parked mail: what waits, for which destination, until when. The mail's content is
 * not here (it is in a James mail repository under {@link ParkedMail#id()}); this store decides which
 * node releases which mail, and which released copy may be delivered.
 *
 * <p>Life of a parked mail:
 * <ol>
 *   <li>{@link #park}: waits until its due time.</li>
 *   <li>{@link #claim}: a releaser takes it (one node alone: rows are claimed under a lock, skipping
 *   rows another node has locked) and gets a new release token; it then puts a copy on the outgoing
 *   queue carrying the id and the token. If the releaser dies before the copy is on the queue, or the
 *   queue loses the copy (the memory queue on a restart), the row is claimable again after the release
 *   timeout, with a new token.</li>
 *   <li>{@link #take}: the delivery thread that dequeues a copy asks whether it is the latest release's.
 *   A copy of an older release (re-released because it seemed lost) is {@link Take#STALE} and dropped:
 *   this is what keeps a re-release after a crash from delivering a mail twice. The same copy given
 *   back by the queue (an attempt that failed before acknowledging) is taken again.</li>
 *   <li>{@link #finish}: the attempt's follow-ups are stored; the row is gone.</li>
 * </ol>
 * A row taken and never finished (its node died mid-attempt and its queue lost the copy) is released
 * again after the take timeout, longer than any SMTP attempt.
 */
public interface ParkedMailStore {
    /** Whether a dequeued copy may be delivered. */
    enum Take { DELIVER, STALE }

    /** Parks a mail; its content must already be in the repository under its id. */
    void park(ParkedMail mail);

    /** The destinations with at least one mail to release now (due, or released and presumed lost). */
    List<String> destinationsDue(Instant now);

    /** Released and neither finished nor presumed lost: copies on the queue or in an attempt for {@code destination}. */
    int outstanding(String destination, Instant now);

    /** Claims up to {@code max} of {@code destination}'s mail to release now, earliest due first. */
    List<Release> claim(String destination, int max, Instant now);

    /** The claimed copy could not be queued: parked again, due at {@code now}. False if the release is no longer current. */
    boolean unclaim(Release release, Instant now);

    /** Whether the dequeued copy of release {@code token} of {@code id} is the one to deliver (see the class comment). */
    Take take(String id, String token, Instant now);

    /** The delivery of {@code id} is over and its follow-ups stored: forgets it. False if it was gone already. */
    boolean finish(String id);

    /** An operator's "now": every parked, unreleased mail of {@code destination} due later is due at {@code now}. */
    int makeDue(String destination, Instant now);

    /** Per destination with parked or released mail, in destination order. */
    List<ParkedSummary> summaries(Instant now);

    /** The parked mail {@code id}, if still there. */
    Optional<ParkedMail> get(String id);
}
