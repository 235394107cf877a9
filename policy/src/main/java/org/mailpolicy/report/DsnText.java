package org.mailpolicy.report;

/** The text/plain part of a DSN, written for the person who sent the message. */
public final class DsnText {
    private DsnText() {
    }

    /** What happened to each recipient, why, what to do, and whether delivery goes on and until when. */
    public static String render(DeliveryReport report, String originalSubject) {
        throw new UnsupportedOperationException("not yet written");
    }
}
