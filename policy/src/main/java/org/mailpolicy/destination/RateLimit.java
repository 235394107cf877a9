package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mailpolicy.yaml.Durations;

/** At most {@link #count()} delivery attempts started per {@link #per()} to one destination. */
public final class RateLimit {
    private static final Pattern FORM = Pattern.compile("\\s*(\\d{1,9})\\s*/\\s*(s|m|h|d)\\s*");

    private final int count;
    private final Duration per;

    private RateLimit(int count, Duration per) {
        this.count = count;
        this.per = per;
    }

    public static RateLimit of(int count, Duration per) {
        Preconditions.checkArgument(count >= 1, "rate count must be at least 1: %s", count);
        Preconditions.checkArgument(per != null && !per.isNegative() && !per.isZero(),
                "rate period must be positive: %s", per);
        return new RateLimit(count, per);
    }

    /** Parses {@code 300/m}, {@code 20/h}, {@code 5/s}, {@code 1000/d}. */
    public static RateLimit parse(String text) {
        Preconditions.checkNotNull(text, "rate");
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("malformed rate '" + text + "': expected COUNT/s, COUNT/m, COUNT/h or COUNT/d");
        }
        Duration per;
        switch (m.group(2)) {
            case "s":
                per = Duration.ofSeconds(1);
                break;
            case "m":
                per = Duration.ofMinutes(1);
                break;
            case "h":
                per = Duration.ofHours(1);
                break;
            default:
                per = Duration.ofDays(1);
                break;
        }
        return of(Integer.parseInt(m.group(1)), per);
    }

    public int count() {
        return count;
    }

    public Duration per() {
        return per;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RateLimit && ((RateLimit) o).count == count && ((RateLimit) o).per.equals(per);
    }

    @Override
    public int hashCode() {
        return Objects.hash(count, per);
    }

    @Override
    public String toString() {
        return count + "/" + Durations.format(per);
    }
}
