package org.mailpolicy.yaml;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The duration syntax of the policy file: {@code 30s}, {@code 10m}, {@code 4h}, {@code 5d}, {@code 1h30m}. */
public final class Durations {
    private static final Pattern WHOLE = Pattern.compile("(?:\\d{1,9}[smhd])+");
    private static final Pattern PART = Pattern.compile("(\\d{1,9})([smhd])");

    private Durations() {
    }

    /**
     * Parses a positive duration.
     *
     * @throws IllegalArgumentException saying what form is expected
     */
    public static Duration parse(String text) {
        Duration total = parseAllowingZero(text);
        if (total.isZero()) {
            throw new IllegalArgumentException("duration must be positive: '" + text + "'");
        }
        return total;
    }

    /**
     * Parses a duration that may be zero ({@code 0s}), in the same syntax as {@link #parse}: for settings where zero
     * means "always" or "never".
     *
     * @throws IllegalArgumentException saying what form is expected
     */
    public static Duration parseAllowingZero(String text) {
        Preconditions.checkNotNull(text, "duration");
        String t = text.trim();
        if (!WHOLE.matcher(t).matches()) {
            throw new IllegalArgumentException("malformed duration '" + text
                    + "': expected a number and a unit s, m, h or d, such as 30s, 10m, 4h, 5d");
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(t);
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "s":
                    total = total.plusSeconds(n);
                    break;
                case "m":
                    total = total.plusMinutes(n);
                    break;
                case "h":
                    total = total.plusHours(n);
                    break;
                default:
                    total = total.plusDays(n);
                    break;
            }
        }
        return total;
    }

    /** The shortest form {@link #parse} reads back, e.g. {@code 1h30m}; sub-second parts are dropped. */
    public static String format(Duration d) {
        long s = d.getSeconds();
        if (s == 0) {
            return "0s";
        }
        StringBuilder sb = new StringBuilder();
        long days = s / 86400;
        long hours = (s % 86400) / 3600;
        long minutes = (s % 3600) / 60;
        long seconds = s % 60;
        if (days > 0) {
            sb.append(days).append('d');
        }
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (minutes > 0) {
            sb.append(minutes).append('m');
        }
        if (seconds > 0) {
            sb.append(seconds).append('s');
        }
        return sb.toString();
    }
}
