package org.mailpolicy.james.bounces;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Objects;

/**
 * What a bounce message says, read but not yet believed: the recipients it reports on, and the
 * Message-IDs it claims to be about (from the returned message or headers, In-Reply-To,
 * References), to be checked against what this server really sent.
 */
public final class Bounce {
    /** How the bounce was written. */
    public enum Form {
        /** RFC 3464: multipart/report with a message/delivery-status part. */
        DELIVERY_STATUS,
        /** AOL's mailer-daemon text: "The following message to &lt;x&gt; was undeliverable." */
        AOL_TEXT,
        /** Exim's own text bounce: "The following address(es) failed:", each address with its reason. */
        EXIM_TEXT,
        /** qmail's bounce (QSBMF): "Hi. This is the qmail-send program", a paragraph per "&lt;address&gt;:". */
        QMAIL_TEXT
    }

    private final Form form;
    private final ImmutableList<BouncedRecipient> recipients;
    private final ImmutableList<String> originalMessageIds;

    private Bounce(Form form, List<BouncedRecipient> recipients, List<String> originalMessageIds) {
        this.form = form;
        this.recipients = ImmutableList.copyOf(recipients);
        this.originalMessageIds = ImmutableList.copyOf(originalMessageIds);
    }

    public static Bounce of(Form form, List<BouncedRecipient> recipients, List<String> originalMessageIds) {
        Preconditions.checkNotNull(form, "form");
        Preconditions.checkNotNull(recipients, "recipients");
        Preconditions.checkNotNull(originalMessageIds, "originalMessageIds");
        return new Bounce(form, recipients, originalMessageIds);
    }

    public Form form() {
        return form;
    }

    public List<BouncedRecipient> recipients() {
        return recipients;
    }

    /** Normalised ids (no angle brackets), most trustworthy first: the returned message's own id. */
    public List<String> originalMessageIds() {
        return originalMessageIds;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Bounce)) {
            return false;
        }
        Bounce that = (Bounce) o;
        return form == that.form && recipients.equals(that.recipients) && originalMessageIds.equals(that.originalMessageIds);
    }

    @Override
    public int hashCode() {
        return Objects.hash(form, recipients, originalMessageIds);
    }

    @Override
    public String toString() {
        return form + " about " + originalMessageIds + ": " + recipients;
    }
}
