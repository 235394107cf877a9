package org.mailpolicy.report;

import java.util.Locale;
import java.util.Optional;

/** The {@code Action} field of an RFC 3464 per-recipient report. */
public enum DsnAction {
    FAILED, DELAYED, DELIVERED, RELAYED, EXPANDED;

    /** As RFC 3464 writes it: lower case. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The action for an id, any case. */
    public static Optional<DsnAction> fromId(String id) {
        if (id == null) {
            return Optional.empty();
        }
        for (DsnAction a : values()) {
            if (a.id().equalsIgnoreCase(id.trim())) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
