package org.mailpolicy.fakeaol;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/** The mode in force and, if it was set for a duration, when it returns to {@link Mode#NORMAL}. */
public record ModeStatus(ModeSetting setting, Optional<Instant> until) {
    public ModeStatus {
        requireNonNull(setting, "setting");
        requireNonNull(until, "until");
    }

    public Mode mode() {
        return setting.mode();
    }
}
