package org.mailpolicy.mtasts;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A recipient domain's MTA-STS policy (RFC 8461 section 3.2), as read from {@code
 * https://mta-sts.<domain>/.well-known/mta-sts.txt}: its mode, the MX host patterns mail may go to, and how long it may
 * be cached. Immutable.
 */
public final class MtaStsPolicy {
    /** What the policy asks of a sender. */
    public enum Mode {
        /** Only the listed MX hosts, only over TLS verified against a trusted CA and the MX host name. */
        ENFORCE,
        /** Report failures, deliver anyway. */
        TESTING,
        /** The domain withdrew its policy. */
        NONE;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** RFC 8461 3.2: max_age is at most 31557600 seconds (one year). */
    public static final long MAX_AGE_LIMIT_SECONDS = 31_557_600L;
    private static final Pattern MX_PATTERN = Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

    private final Mode mode;
    private final ImmutableList<String> mx;
    private final Duration maxAge;

    private MtaStsPolicy(Mode mode, List<String> mx, Duration maxAge) {
        this.mode = mode;
        this.mx = ImmutableList.copyOf(mx);
        this.maxAge = maxAge;
    }

    /**
     * Parses a policy body: {@code key: value} lines (CRLF or LF), {@code version: STSv1} first, then {@code mode},
     * {@code max_age} and one {@code mx} line per pattern ({@code mx} may be absent only for mode none). Unknown keys
     * are ignored, as RFC 8461 asks.
     *
     * @throws IllegalArgumentException naming the line and what is wrong with it
     */
    public static MtaStsPolicy parse(String body) {
        Preconditions.checkNotNull(body, "body");
        String[] lines = body.split("\r?\n", -1);
        String version = null;
        Mode mode = null;
        Long maxAge = null;
        List<String> mx = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.trim().isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("line " + (i + 1) + ": expected 'key: value', got '" + line + "'");
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (i == 0 || version == null) {
                if (!key.equals("version")) {
                    throw new IllegalArgumentException("line " + (i + 1) + ": the first field must be 'version: STSv1'");
                }
            }
            switch (key) {
                case "version":
                    if (!value.equals("STSv1")) {
                        throw new IllegalArgumentException("line " + (i + 1) + ": version must be STSv1, got '" + value + "'");
                    }
                    version = value;
                    break;
                case "mode":
                    mode = modeOf(value, i + 1);
                    break;
                case "max_age":
                    if (!value.matches("[0-9]{1,10}")) {
                        throw new IllegalArgumentException("line " + (i + 1) + ": max_age must be a number of seconds,"
                                + " got '" + value + "'");
                    }
                    maxAge = Math.min(Long.parseLong(value), MAX_AGE_LIMIT_SECONDS);
                    break;
                case "mx":
                    String pattern = value.toLowerCase(Locale.ROOT);
                    if (pattern.endsWith(".")) {
                        pattern = pattern.substring(0, pattern.length() - 1);
                    }
                    if (!MX_PATTERN.matcher(pattern).matches()) {
                        throw new IllegalArgumentException("line " + (i + 1) + ": '" + value
                                + "' is not an MX host name or a '*.' pattern");
                    }
                    mx.add(pattern);
                    break;
                default:
                    // RFC 8461 3.2: unknown fields are ignored (extensions).
                    break;
            }
        }
        if (version == null) {
            throw new IllegalArgumentException("no 'version: STSv1' line");
        }
        if (mode == null) {
            throw new IllegalArgumentException("no 'mode' line");
        }
        if (maxAge == null) {
            throw new IllegalArgumentException("no 'max_age' line");
        }
        if (mx.isEmpty() && mode != Mode.NONE) {
            throw new IllegalArgumentException("no 'mx' line: a policy in mode " + mode.id() + " must list its MX hosts");
        }
        return new MtaStsPolicy(mode, mx, Duration.ofSeconds(maxAge));
    }

    private static Mode modeOf(String value, int line) {
        for (Mode m : Mode.values()) {
            if (m.id().equals(value)) {
                return m;
            }
        }
        throw new IllegalArgumentException("line " + line + ": mode must be enforce, testing or none, got '" + value + "'");
    }

    public Mode mode() {
        return mode;
    }

    /** The MX patterns, lower case, without a trailing dot: {@code mx1.example.com} or {@code *.example.net}. */
    public List<String> mx() {
        return mx;
    }

    /** How long the policy may be cached (at most a year). */
    public Duration maxAge() {
        return maxAge;
    }

    /**
     * Whether the policy lists {@code host} (RFC 8461 4.1): an exact pattern matches the name, a {@code *.} pattern
     * matches exactly one more label on its left ({@code *.example.com} matches {@code mx.example.com}, not {@code
     * a.mx.example.com} nor {@code example.com}).
     */
    public boolean allows(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        for (String p : mx) {
            if (p.startsWith("*.")) {
                int dot = h.indexOf('.');
                if (dot > 0 && h.substring(dot + 1).equals(p.substring(2))) {
                    return true;
                }
            } else if (p.equals(h)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The policy id of an {@code _mta-sts} TXT record (RFC 8461 3.1: {@code v=STSv1; id=20160831085700Z;}); empty when
     * the record is not an STSv1 record or has no valid id.
     */
    public static Optional<String> recordId(String txt) {
        if (txt == null) {
            return Optional.empty();
        }
        String[] fields = txt.trim().split(";");
        if (fields.length == 0 || !fields[0].trim().equals("v=STSv1")) {
            return Optional.empty();
        }
        for (int i = 1; i < fields.length; i++) {
            String f = fields[i].trim();
            if (f.startsWith("id=")) {
                String id = f.substring(3).trim();
                return id.matches("[A-Za-z0-9]{1,32}") ? Optional.of(id) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "MtaStsPolicy{" + mode.id() + ", mx " + mx + ", max_age " + maxAge.getSeconds() + "s}";
    }
}
