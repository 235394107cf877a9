package org.mailpolicy.rules;

import java.util.Locale;

/** What the engine decides to do about a reply. The names in the rules file are the lower-case forms. */
public enum Action {
    /** Try this message again later, per the destination's schedule. */
    RETRY,
    /** The destination asked us to back off: hold every message for it, not only this one. */
    THROTTLE,
    /** Permanent failure: stop and send a DSN to the sender. */
    BOUNCE,
    /** The recipient does not exist: send a DSN and never try that address again. */
    SUPPRESS;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isFinal() {
        return this == BOUNCE || this == SUPPRESS;
    }
}
