package org.mailpolicy.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.mailpolicy.james.testing.JamesSetup;
import org.mailpolicy.james.testing.RepoLayout;
import org.mailpolicy.yaml.Durations;

/**
 * The shipped {@code config/delivery-policy.yaml} as the benchmarks run it: every duration in it and in the built-in reply
 * rules (retry schedules, maxAge, delayWarning, throttle holds, the rules' {@code hold} and {@code retryAfter}) divided by
 * one factor, so that minutes of production pacing play out in seconds; rates and concurrency are left alone, since
 * the fake AOL's rate limit counts real minutes. The suppression database goes under James's working directory, and
 * one destination (or the default) is routed to the fake AOL.
 */
final class BenchPolicy {
    /** The scaled built-in rules, written next to the policy in James's conf/ and named by its {@code rules:}. */
    static final String RULES_FILE = "bench-reply-rules.yaml";
    private static final String BUILT_IN_RULES = "/org/mailpolicy/rules/reply-rules.yaml";
    /** The keys whose values hold durations, in the policy and in rule files. */
    private static final Pattern DURATION_KEY = Pattern.compile(
            "^\\s*(?:-\\s+)?(?:retry|maxAge|delayWarning|throttle|hold|retryAfter)\\s*:");
    /** A duration literal: digits and a unit, possibly combined (1h30m), not part of a word or a rate (120/m). */
    private static final Pattern DURATION = Pattern.compile("(?<![\\w./*-])((?:\\d{1,9}[smhd])+)(?![\\w./-])");

    private BenchPolicy() {
    }

    /** The shipped policy text, durations divided by {@code factor}, reading the scaled rules file. */
    static String shipped(int factor) {
        String text = read(RepoLayout.find().config().resolve("delivery-policy.yaml"));
        text = replaceOnce(text, "\n  path: var/delivery-policy/suppressions\n",
                "\n  path: \"" + JamesSetup.JAMES_HOME_TOKEN + "/var/delivery-policy/suppressions\"\n");
        text = replaceOnce(text, "\nrules: []\n", "\nrules: [" + RULES_FILE + "]\n");
        return scale(text, factor);
    }

    /** {@code policy} (a {@link #shipped} text) with its stores in the PostgreSQL database {@code db} instead of H2. */
    static String onPostgresql(String policy, String url, String user, String password) {
        String h2 = "\nsuppression:\n  store: h2\n  path: \"" + JamesSetup.JAMES_HOME_TOKEN
                + "/var/delivery-policy/suppressions\"\n";
        return replaceOnce(policy, h2, "\nsuppression:\n  store: postgresql\n  url: \"" + url + "\"\n  user: \"" + user
                + "\"\n  password: \"" + password + "\"\n");
    }

    /** The built-in reply rules with their holds and retry hints divided by {@code factor}. */
    static String scaledRules(int factor) {
        try (InputStream in = BenchPolicy.class.getResourceAsStream(BUILT_IN_RULES)) {
            if (in == null) {
                throw new IllegalStateException("no " + BUILT_IN_RULES + " on the class path");
            }
            return scale(new String(in.readAllBytes(), StandardCharsets.UTF_8), factor);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends one named destination's mail to 127.0.0.1:port (a {@code route:} line after its name). */
    static String routeDestination(String policy, String destination, int port) {
        return replaceOnce(policy, "\n  - name: " + destination + "\n",
                "\n  - name: " + destination + "\n    route: 127.0.0.1:" + port + "\n");
    }

    /** Sends the default destination's mail (every domain no destination names) to 127.0.0.1:port. */
    static String routeDefault(String policy, int port) {
        return replaceOnce(policy, "\ndefault:\n", "\ndefault:\n  route: 127.0.0.1:" + port + "\n");
    }

    /**
     * Adds a destination for one domain, sent to 127.0.0.1:port with this concurrency and rate (and the default's other
     * settings), at the end of the destinations list, which must be the policy's last top-level key.
     */
    static String addRoutedDestination(String policy, String name, String domain, int port, int concurrency,
            String rate) {
        int list = policy.indexOf("\ndestinations:\n");
        if (list < 0 || Pattern.compile("(?m)^[A-Za-z]").matcher(policy.substring(list + 1)).results().count() != 1) {
            throw new IllegalStateException("the policy's destinations list is not its last top-level key");
        }
        return policy.stripTrailing() + "\n\n"
                + "  - name: " + name + "\n"
                + "    domains: [" + domain + "]\n"
                + "    route: 127.0.0.1:" + port + "\n"
                + "    concurrency: " + concurrency + "\n"
                + "    rate: " + rate + "\n";
    }

    /** Replaces a whole line starting with {@code indent + key + ":"} inside the named destination's block. */
    static String setInDestination(String policy, String destination, String key, String value) {
        int start = policy.indexOf("\n  - name: " + destination + "\n");
        if (start < 0) {
            throw new IllegalStateException("the policy has no destination " + destination);
        }
        int end = policy.indexOf("\n  - name: ", start + 1);
        String block = policy.substring(start, end < 0 ? policy.length() : end);
        Matcher m = Pattern.compile("\n    " + Pattern.quote(key) + ":[^\n]*").matcher(block);
        String changed = m.find() ? m.replaceFirst(Matcher.quoteReplacement("\n    " + key + ": " + value))
                : block + "\n    " + key + ": " + value;
        return policy.substring(0, start) + changed + (end < 0 ? "" : policy.substring(end));
    }

    /** Divides every duration of a duration key's value (comments aside) by {@code factor}, to at least 1 s. */
    static String scale(String yaml, int factor) {
        if (factor < 1) {
            throw new IllegalArgumentException("scale factor must be at least 1, was " + factor);
        }
        StringBuilder out = new StringBuilder();
        for (String line : yaml.split("\n", -1)) {
            if (!DURATION_KEY.matcher(line).find()) {
                out.append(line).append('\n');
                continue;
            }
            int hash = commentStart(line);
            String value = line.substring(0, hash);
            Matcher m = DURATION.matcher(value);
            StringBuilder scaled = new StringBuilder();
            while (m.find()) {
                Duration d = Durations.parse(m.group(1));
                long seconds = Math.max(1, Math.round(d.getSeconds() / (double) factor));
                m.appendReplacement(scaled, Durations.format(Duration.ofSeconds(seconds)));
            }
            m.appendTail(scaled);
            out.append(scaled).append(line, hash, line.length()).append('\n');
        }
        return out.substring(0, out.length() - 1);
    }

    /** Where a YAML comment starts: a '#' at the line start or after a blank, outside quotes. */
    private static int commentStart(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return i;
            }
        }
        return line.length();
    }

    private static String replaceOnce(String text, String literal, String replacement) {
        int first = text.indexOf(literal);
        if (first < 0 || text.indexOf(literal, first + 1) >= 0) {
            throw new IllegalStateException("config/delivery-policy.yaml: expected '" + literal.strip()
                    + "' exactly once (the benchmark edits it), found it " + (first < 0 ? "nowhere" : "more than once"));
        }
        return text.replace(literal, replacement);
    }

    private static String read(java.nio.file.Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
