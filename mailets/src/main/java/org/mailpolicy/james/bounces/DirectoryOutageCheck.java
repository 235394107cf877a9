package org.mailpolicy.james.bounces;

import org.mailpolicy.rules.Classification;

/**
 * Runs the reading of a recipient that a bounce of ours reports as failed past the directory outage
 * guard of the recipient's destination, the one live replies feed: the answer counts toward the
 * destination's surge of "user unknown", and while its directory is suspect an unknown user is not
 * believed.
 */
@FunctionalInterface
public interface DirectoryOutageCheck {
    /** Believes every bounce: for ingestion without a guard. */
    DirectoryOutageCheck NONE = (recipient, classification) -> classification;

    /**
     * @param recipient      the reported address, normalised
     * @param classification the rules' reading of the reported reply
     * @return the reading to act on: {@code classification}, or, while the destination's directory is
     *         suspect, one that does not suppress (with why in its explanation)
     */
    Classification review(String recipient, Classification classification);
}
