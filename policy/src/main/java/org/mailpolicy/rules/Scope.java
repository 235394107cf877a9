package org.mailpolicy.rules;

import java.util.Locale;

/** What a reply is about: one recipient, the whole message, or every message to the destination. */
public enum Scope {
    RECIPIENT, MESSAGE, DESTINATION;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
