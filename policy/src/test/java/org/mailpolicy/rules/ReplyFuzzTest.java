package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Fuzzes the reply parser and the classifier with a million generated and mutated replies: random
 * bytes decoded every which way, real replies (the seed corpus of {@link SeedRepliesTest} and
 * {@code ReplyParserTest}, and replies built from every rule of the built-in rules file) with
 * characters flipped, inserted and deleted, spliced, turned into multi-line replies, stuffed with
 * NUL, lone surrogates, bidi marks and CR/LF followed by header- and MIME-looking text, soups of
 * codes and tokens, regex-stressing repetitions, and now and then a huge input (a 1 MB line, 10,000
 * continuation lines). Every input must get a decision (a {@link Classification} with an action),
 * nothing may escape, and the parsed reply must stay safe to log and to quote in a DSN.
 *
 * <p>Deterministic: input {@code i} is made from its own generator seeded with {@code (seed, i)},
 * so the run is the same on any number of threads and a failure names the index that reproduces
 * it. The seed is printed; {@code -Dfuzz.seed=N -Dfuzz.count=N} change it.
 */
class ReplyFuzzTest {
    static final long SEED = Long.getLong("fuzz.seed", 0x4D41494C_504F4CL);
    static final int COUNT = Integer.getInteger("fuzz.count", 1_000_000);
    /** A single input taking longer than this is a pathology (quadratic regex, unbounded scan), not noise. */
    private static final Duration SLOW = Duration.ofSeconds(3);
    private static final int MAX_REPORTED_FAILURES = 20;

    private static final ReplyClassifier CLASSIFIER = ReplyClassifier.builtIn();
    private static final Stage[] STAGES = Stage.values();

    @Test
    void everyGeneratedReplyGetsADecisionAndNothingEscapes() {
        List<String> seeds = seeds();
        Generator generator = new Generator(seeds);
        System.out.printf(Locale.ROOT, "ReplyFuzzTest: seed=%d count=%d seeds=%d (rerun with -Dfuzz.seed=%d)%n",
                SEED, COUNT, seeds.size(), SEED);

        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        LongAdder failureCount = new LongAdder();
        LongAdder chars = new LongAdder();
        Map<Action, LongAdder> byAction = new EnumMap<>(Action.class);
        for (Action a : Action.values()) {
            byAction.put(a, new LongAdder());
        }
        AtomicLong slowestNanos = new AtomicLong();
        AtomicLong slowestIndex = new AtomicLong(-1);
        long start = System.nanoTime();

        IntStream.range(0, COUNT).parallel().forEach(i -> {
            Generated g = generator.input(i);
            chars.add(g.text == null ? 0 : g.text.length());
            long t0 = System.nanoTime();
            String problem;
            Action action = null;
            try {
                Classification c = CLASSIFIER.classify(SmtpReply.parse(g.text, g.stage));
                // The JSON (CLI, WebAdmin) only re-reads the same fields: every 8th input is enough.
                problem = check(c, i % 8 == 0);
                action = c.action();
            } catch (Throwable e) {
                problem = "threw " + e;
            }
            long took = System.nanoTime() - t0;
            if (took > slowestNanos.get()) {
                synchronized (slowestNanos) {
                    if (took > slowestNanos.get()) {
                        slowestNanos.set(took);
                        slowestIndex.set(i);
                    }
                }
            }
            if (action != null) {
                byAction.get(action).increment();
            }
            if (problem == null && took > SLOW.toNanos()) {
                problem = "took " + Duration.ofNanos(took).toMillis() + " ms";
            }
            if (problem != null) {
                failureCount.increment();
                if (failures.size() < MAX_REPORTED_FAILURES) {
                    failures.add("#" + i + " (" + g.kind + ", stage " + g.stage + ", " + length(g.text) + " chars) "
                            + problem + ": " + excerpt(g.text));
                }
            }
        });

        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        // Compare the rate with bin/bench classify on the same machine: the inputs cost about as much as its mix.
        System.out.printf(Locale.ROOT, "ReplyFuzzTest: %d inputs (%d chars) in %d ms (%d/s on %d threads), actions %s, "
                        + "slowest #%d %d ms, %d failures%n", COUNT, chars.sum(), elapsed.toMillis(),
                COUNT * 1000L / Math.max(1, elapsed.toMillis()), java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1,
                byAction, slowestIndex.get(), Duration.ofNanos(slowestNanos.get()).toMillis(), failureCount.sum());
        assertThat(failures).as("inputs that broke the parser or classifier (seed %d)", SEED).isEmpty();
    }

    /** The kinds the generator makes, by index; a cheap check that the mix holds what it claims. */
    @Test
    void theGeneratorMakesEveryKindIncludingHugeOnes() {
        Generator generator = new Generator(seeds());
        Set<String> kinds = new LinkedHashSet<>();
        long hugeChars = 0;
        int huge = 0;
        for (int i = 0; i < COUNT; i++) {
            if (generator.isHuge(i)) {
                Generated g = generator.input(i);
                huge++;
                hugeChars = Math.max(hugeChars, length(g.text));
                kinds.add(g.kind);
            }
        }
        for (int i = 0; i < 20_000; i++) {
            kinds.add(generator.input(i).kind);
        }
        assertThat(kinds).contains("random-bytes", "mutated-seed", "splice", "multi-line", "header-injection",
                "code-soup", "regex-stress", "long-line", "huge-line", "huge-continuation");
        assertThat(huge).as("huge inputs are few").isBetween(5, 60);
        assertThat(hugeChars).as("and capped").isLessThanOrEqualTo(Generator.HUGE_CAP + 64);
    }

    /**
     * The inputs that make a naive parser or a careless rule quadratic, each classified within a
     * bound that holds on a loaded two-core machine (a linear pass over them takes milliseconds).
     */
    @Test
    void hugeRepliesAreClassifiedInBoundedTime() {
        StringBuilder megabyteLine = new StringBuilder("550 5.1.1 ");
        while (megabyteLine.length() < 1 << 20) {
            megabyteLine.append("mailbox ");
        }
        StringBuilder continuations = new StringBuilder();
        for (int k = 0; k < 10_000; k++) {
            continuations.append("550-5.1.1 The email account that you tried to reach does not exist.\r\n");
        }
        continuations.append("550 5.1.1 https://support.google.com/mail/?p=NoSuchUser");
        StringBuilder digits = new StringBuilder();
        while (digits.length() < 1 << 20) {
            digits.append("550 5.1.1 ");
        }
        StringBuilder breaks = new StringBuilder();
        while (breaks.length() < 1 << 20) {
            breaks.append("\r\n");
        }
        breaks.append("421 4.7.1 : (DYN:T1)");
        StringBuilder noSpace = new StringBuilder("550 ");
        while (noSpace.length() < 1 << 20) {
            noSpace.append('a');
        }
        StringBuilder rejectedCodes = new StringBuilder();
        while (rejectedCodes.length() < 1 << 20) {
            rejectedCodes.append("waited 300 seconds on port 465, ");
        }
        StringBuilder distinctTokens = new StringBuilder("421 ");
        for (int k = 0; distinctTokens.length() < 1 << 20; k++) {
            distinctTokens.append((char) ('A' + k % 26)).append((char) ('A' + k / 26 % 26)).append(':')
                    .append((char) ('A' + k / 676 % 26)).append(k / 17576 % 10).append(' ');
        }
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("1 MB of numbers that are not codes", rejectedCodes.toString());
        cases.put("1 MB of distinct provider tokens", distinctTokens.toString());
        cases.put("1 MB line of words", megabyteLine.toString());
        cases.put("10,000 continuation lines", continuations.toString());
        cases.put("1 MB of codes", digits.toString());
        cases.put("1 MB of line breaks, then the reply", breaks.toString());
        cases.put("1 MB word", noSpace.toString());

        for (Map.Entry<String, String> e : cases.entrySet()) {
            CLASSIFIER.classify(e.getValue()); // warm up
            long t0 = System.nanoTime();
            Classification c = CLASSIFIER.classify(e.getValue(), Stage.RCPT);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            System.out.printf(Locale.ROOT, "ReplyFuzzTest: %s (%d chars): %s in %d ms%n", e.getKey(),
                    e.getValue().length(), c.ruleId(), took.toMillis());
            assertThat(check(c, true)).as(e.getKey()).isNull();
            assertThat(took).as(e.getKey()).isLessThan(Duration.ofSeconds(1));
        }
        assertThat(CLASSIFIER.classify(continuations.toString()).action()).isEqualTo(Action.SUPPRESS);
        assertThat(SmtpReply.parse(distinctTokens.toString()).tokens()).hasSize(16).startsWith("AA:A0", "BA:A0");
        // The reply after a megabyte of empty lines is past what is examined: classified, not read whole.
        assertThat(CLASSIFIER.classify(breaks.toString()).action()).isNotNull();
    }

    /** The invariants of one classification; null when all hold. */
    static String check(Classification c, boolean json) {
        if (c == null) {
            return "no classification";
        }
        if (c.action() == null || c.reason() == null || c.scope() == null || c.ruleId() == null || c.ruleId().isEmpty()) {
            return "incomplete classification " + c;
        }
        SmtpReply r = c.reply();
        String raw = r.raw();
        String text = r.text();
        if (raw.length() > 1000 || text.length() > 1000) {
            return "unbounded: raw " + raw.length() + ", text " + text.length();
        }
        String unsafe = unsafeCharacter(raw);
        if (unsafe != null) {
            return "raw() is not safe to log: " + unsafe;
        }
        unsafe = unsafeCharacter(text);
        if (unsafe != null) {
            return "text() is not one safe line: " + unsafe;
        }
        if (r.code().isPresent() && (r.code().getAsInt() < 200 || r.code().getAsInt() > 599)) {
            return "code out of range " + r.code().getAsInt();
        }
        int statusClass = c.dsnStatus().statusClass();
        if (statusClass != (c.action().isFinal() ? 5 : 4)) {
            return "DSN status " + c.dsnStatus() + " disagrees with action " + c.action();
        }
        if (c.action() == Action.SUPPRESS) {
            // A reply that is not a permanent failure must never take a person off the list for good.
            if (!"userunknown".equals(c.reason()) || c.scope() != Scope.RECIPIENT) {
                return "suppress for reason " + c.reason() + " scope " + c.scope();
            }
            if (r.code().isPresent() && r.code().getAsInt() < 500) {
                return "suppress on a " + r.code().getAsInt() + " reply (" + c.ruleId() + ")";
            }
        }
        if (json) {
            String line = ClassificationJson.toJson(c);
            if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
                return "JSON spans lines";
            }
        }
        return null;
    }

    /** A control character, a line separator or a lone surrogate; null when the text has none. */
    static String unsafeCharacter(String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029') {
                return String.format(Locale.ROOT, "U+%04X at %d", (int) ch, i);
            }
            if (Character.isHighSurrogate(ch)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return String.format(Locale.ROOT, "lone surrogate U+%04X at %d", (int) ch, i);
                }
                i++;
            } else if (Character.isLowSurrogate(ch)) {
                return String.format(Locale.ROOT, "lone surrogate U+%04X at %d", (int) ch, i);
            }
        }
        return null;
    }

    private static long length(String s) {
        return s == null ? 0 : s.length();
    }

    /** The start of an input, escaped, for a failure message. */
    static String excerpt(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < Math.min(s.length(), 160); i++) {
            char ch = s.charAt(i);
            if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"') {
                sb.append(ch);
            } else {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
            }
        }
        return sb.append(s.length() > 160 ? "...\"" : "\"").toString();
    }

    // ---- the corpus -------------------------------------------------------------------------------

    /**
     * Real replies: the first column of the seed tests' tables (read from their annotations, so the
     * corpus grows with them), and one reply built from each rule of the built-in rules file.
     */
    static List<String> seeds() {
        Set<String> out = new LinkedHashSet<>();
        List<Class<?>> tables = new ArrayList<>();
        tables.add(SeedRepliesTest.class);
        try {
            tables.add(Class.forName("org.mailpolicy.reply.ReplyParserTest"));
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        for (Class<?> testClass : tables) {
            for (Method m : testClass.getDeclaredMethods()) {
                CsvSource csv = m.getAnnotation(CsvSource.class);
                if (csv != null) {
                    for (String row : csv.value()) {
                        String first = row.split("\\|", -1)[0].trim().replace("`", "");
                        out.add(first);
                    }
                }
                ValueSource values = m.getAnnotation(ValueSource.class);
                if (values != null) {
                    out.addAll(List.of(values.strings()));
                }
            }
        }
        out.addAll(fromRulesFile());
        out.add("421 4.7.1 : (DYN:T1)");
        out.add("421-4.7.28 [203.0.113.9] Our system has detected an unusual rate of\r\n421-4.7.28 unsolicited mail"
                + " originating from your IP address.\r\n421 4.7.28 users from spam.");
        out.add("550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1"
                + " double-checking the recipient's email address for typos or\r\n550 5.1.1 unnecessary spaces.");
        assertThat(out).as("seed corpus").hasSizeGreaterThan(300);
        return new ArrayList<>(out);
    }

    /** A plausible reply per rule: its code, enhanced code and token, and words from its text pattern. */
    @SuppressWarnings("unchecked")
    private static List<String> fromRulesFile() {
        List<String> out = new ArrayList<>();
        Map<String, Object> doc;
        try (InputStream in = ReplyClassifier.class.getResourceAsStream(ReplyClassifier.BUILT_IN_RESOURCE)) {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (Map<String, Object> rule : (List<Map<String, Object>>) doc.get("rules")) {
            Map<String, Object> match = (Map<String, Object>) rule.get("match");
            if (match == null) {
                continue;
            }
            StringBuilder sb = new StringBuilder();
            String code = first(match.get("code"));
            if (code != null && !code.equals("none")) {
                sb.append(code.replace("xx", "50")).append(' ');
            }
            String enhanced = first(match.get("enhanced"));
            if (enhanced != null) {
                sb.append(enhanced.replace("X", "5").replace("*", "1")).append(' ');
            }
            String token = first(match.get("token"));
            if (token != null) {
                sb.append(token).append(' ');
            }
            Object text = match.get("text");
            if (text != null) {
                // 'mailbox (is )?(full|over quota)' -> "mailbox is full over quota": close enough to mutate from.
                sb.append(text.toString().replaceAll("\\\\[bsSdwW]|[\\\\()?*+^$\\[\\]{}]", " ")
                        .replace('|', ' ').replaceAll(" {2,}", " ").trim());
            }
            out.add(sb.toString().trim());
        }
        return out;
    }

    private static String first(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Collection) {
            Collection<?> c = (Collection<?>) value;
            return c.isEmpty() ? null : String.valueOf(c.iterator().next());
        }
        return String.valueOf(value);
    }

    // ---- the generator ----------------------------------------------------------------------------

    static final class Generated {
        final String kind;
        final String text;
        final Stage stage;

        Generated(String kind, String text, Stage stage) {
            this.kind = kind;
            this.text = text;
            this.stage = stage;
        }
    }

    /** Makes input {@code i} from its own random source, so any thread makes the same input. */
    static final class Generator {
        /** Huge inputs: about one in 50,000 (some twenty in a million), each at most this many chars. */
        static final int HUGE_CAP = 1 << 20;
        private static final int HUGE_ONE_IN = 50_000;

        private static final Charset[] CHARSETS = {StandardCharsets.UTF_8, StandardCharsets.ISO_8859_1,
            Charset.forName("windows-1252"), StandardCharsets.UTF_16BE, StandardCharsets.US_ASCII};
        /** Characters that matter to the parser and to anyone quoting the reply. */
        private static final String NASTY = "\u0000\r\n\t\u000b\u000c\u0007\u001b\u007f\u0085\u00a0\u2028\u2029"
                + "\u200e\u200f\u202a\u202e\u2066\ufeff\ufffd\ud800\udc00\udbff\udfff\u00e9\u00fc\u4e2d\u201c\u201d"
                + "0123456789.-:;#()[]<>@/=+'\" _";
        private static final String[] HEADERISH = {
            "\r\nBcc: victim@example.net", "\r\nTo: someone@example.org", "\r\nSubject: you won",
            "\r\nContent-Type: text/html", "\r\n--boundary\r\nContent-Type: text/html\r\n\r\n<b>hi</b>",
            "\r\n------=_Part_0_1.1\r\n", "\r\nMIME-Version: 1.0", "\r\n\r\nbody after a blank line",
            "\nX-Injected: 1", "\rFinal-Recipient: rfc822; mallory@evil.example", "\r\n.\r\n",
            "\r\nDiagnostic-Code: smtp; 250 ok", "\r\nAction: delivered\r\nStatus: 2.0.0", "\n\n\n",
            "\r\n Folded continuation", "\r\n\tContent-Transfer-Encoding: base64"};
        private static final String[] FRAGMENTS = {
            "550", "421", "554", "250", "452", "5.1.1", "4.7.1", "#5.1.1", "(5.7.1)", "(#5.7.1)", "X.1.1",
            "5.999.999", "5.1000.1", "9.9.9", "DYN:T1", "RTR:GE", "RTRU", "HVU:B1", "RLY:CH2", "CON:B1", "[421]",
            "port 25", "port: 465", "300 seconds", "1.2.3.550", "13:46:10", "2001:DB8::1", "smtp;", "#5.5.0 smtp;",
            "Diagnostic-Code:", "after RCPT TO:<x@aol.com>:", "after end of data:", "refused to talk to me:",
            "550-", "550 ", "-", ":", "'MAILBOX NOT FOUND'", "user unknown", "mailbox full", "try again later",
            "blocked using zen.spamhaus.org", "TempFail", "\u201cTempFail\u201d", "RCPT TO:X1", "MAIL FROM:A",
            "http://postmaster.info.aol.com/errors/554rlyb1.html", "<x@example.com>...", "nested exception is:",
            "Could not connect to SMTP host: mx, port: 25, response:", "Connection refused", "Read timed out",
            "5.", "5.1.", ".1.1", "55", "5500", "599", "600", "199", "000"};
        private static final String[] STRESS = {"a", " ", "mailbox ", "user ", "deferred ", "retry ",
            "try again in 5 ", "550-", "5.1.1 ", "DYN:T1 ", "x@", "(", "'", "\u201c", "over ", "too many ",
            "exceed", "relay ", "not ", "is ", "the ", "ptr ", "0", ".", "-", ":", "#", "550 550 "};

        private final List<String> seeds;

        Generator(List<String> seeds) {
            this.seeds = seeds;
        }

        private static SplittableRandom random(int i) {
            return new SplittableRandom(SEED * 0x9E3779B97F4A7C15L + i);
        }

        boolean isHuge(int i) {
            return random(i).nextInt(HUGE_ONE_IN) == 0;
        }

        Generated input(int i) {
            SplittableRandom r = random(i);
            boolean huge = r.nextInt(HUGE_ONE_IN) == 0;
            Stage stage = r.nextInt(3) == 0 ? Stage.UNKNOWN : STAGES[r.nextInt(STAGES.length)];
            if (huge) {
                return huge(r, stage);
            }
            int roll = r.nextInt(1000);
            if (roll < 20) {
                return new Generated("seed", r.nextInt(50) == 0 ? null : seed(r), stage);
            }
            if (roll < 370) {
                return new Generated("mutated-seed", mutate(r, seed(r), 1 + r.nextInt(6)), stage);
            }
            if (roll < 490) {
                return new Generated("splice", splice(r), stage);
            }
            if (roll < 570) {
                return new Generated("multi-line", multiLine(r, 2 + r.nextInt(r.nextInt(50) == 0 ? 60 : 4)), stage);
            }
            if (roll < 670) {
                return new Generated("header-injection", headerInjection(r), stage);
            }
            if (roll < 820) {
                return new Generated("random-bytes", randomBytes(r, r.nextInt(r.nextInt(50) == 0 ? 2000 : 200)), stage);
            }
            if (roll < 950) {
                return new Generated("code-soup", codeSoup(r), stage);
            }
            if (roll < 997) {
                // Rules see at most 1,000 characters of text: longer says nothing more about them.
                return new Generated("regex-stress", regexStress(r, 20 + r.nextInt(r.nextInt(10) == 0 ? 1200 : 160)),
                        stage);
            }
            // Past the parser's 8 KB scan window now and then; truly huge inputs are the huge kinds.
            return new Generated("long-line", longLine(r, 1000 + r.nextInt(12_000)), stage);
        }

        private String seed(SplittableRandom r) {
            return seeds.get(r.nextInt(seeds.size()));
        }

        private static char nasty(SplittableRandom r) {
            return NASTY.charAt(r.nextInt(NASTY.length()));
        }

        private static char anyChar(SplittableRandom r) {
            switch (r.nextInt(4)) {
                case 0:
                    return nasty(r);
                case 1:
                    return (char) (0x20 + r.nextInt(0x5f));
                case 2:
                    return (char) r.nextInt(0x100);
                default:
                    return (char) r.nextInt(0x10000);
            }
        }

        /** Point mutations: flip, insert, delete, duplicate a run, truncate, swap case. */
        static String mutate(SplittableRandom r, String s, int edits) {
            StringBuilder sb = new StringBuilder(s);
            for (int e = 0; e < edits; e++) {
                int at = sb.length() == 0 ? 0 : r.nextInt(sb.length() + 1);
                switch (r.nextInt(8)) {
                    case 0:
                        if (at < sb.length()) {
                            sb.setCharAt(at, anyChar(r));
                        }
                        break;
                    case 1:
                        sb.insert(at, anyChar(r));
                        break;
                    case 2:
                        if (at < sb.length()) {
                            sb.delete(at, Math.min(sb.length(), at + 1 + r.nextInt(8)));
                        }
                        break;
                    case 3:
                        if (at < sb.length()) {
                            int end = Math.min(sb.length(), at + 1 + r.nextInt(20));
                            String run = sb.substring(at, end);
                            for (int k = r.nextInt(5); k >= 0; k--) {
                                sb.insert(at, run);
                            }
                        }
                        break;
                    case 4:
                        sb.setLength(at);
                        break;
                    case 5:
                        sb.insert(at, FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
                        break;
                    case 6:
                        sb.insert(at, HEADERISH[r.nextInt(HEADERISH.length)]);
                        break;
                    default:
                        String upper = sb.toString();
                        sb.setLength(0);
                        sb.append(r.nextBoolean() ? upper.toUpperCase(Locale.ROOT) : upper.toLowerCase(Locale.ROOT));
                        break;
                }
            }
            return sb.toString();
        }

        private String splice(SplittableRandom r) {
            String[] separators = {"\r\n", " ", "-", ": ", "\n550-", "\r\n421 ", "", "; nested exception is: ", "\u0000"};
            StringBuilder sb = new StringBuilder();
            for (int k = 2 + r.nextInt(3); k > 0; k--) {
                String s = seed(r);
                int from = s.isEmpty() ? 0 : r.nextInt(s.length());
                int to = from + r.nextInt(s.length() - from + 1);
                sb.append(r.nextBoolean() ? s : s.substring(from, to));
                sb.append(separators[r.nextInt(separators.length)]);
            }
            return sb.toString();
        }

        private String multiLine(SplittableRandom r, int lines) {
            String[] codes = {"550", "421", "554", "452", "250"};
            String code = codes[r.nextInt(codes.length)];
            String enhanced = r.nextBoolean() ? "" : code.charAt(0) + ".1." + r.nextInt(30) + " ";
            String[] breaks = {"\r\n", "\n", "\r", "\r\n\r\n"};
            String lineBreak = breaks[r.nextInt(breaks.length)];
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < lines; k++) {
                boolean last = k == lines - 1;
                String thisCode = r.nextInt(20) == 0 ? codes[r.nextInt(codes.length)] : code;
                sb.append(thisCode).append(last ? ' ' : '-').append(enhanced);
                String s = seed(r);
                sb.append(r.nextInt(4) == 0 ? mutate(r, s, 1) : s);
                if (!last) {
                    sb.append(lineBreak);
                }
            }
            return sb.toString();
        }

        private String headerInjection(SplittableRandom r) {
            StringBuilder sb = new StringBuilder(seed(r));
            for (int k = 1 + r.nextInt(4); k > 0; k--) {
                int at = r.nextInt(sb.length() + 1);
                sb.insert(at, HEADERISH[r.nextInt(HEADERISH.length)]);
            }
            return sb.toString();
        }

        private static String randomBytes(SplittableRandom r, int length) {
            Charset cs = CHARSETS[r.nextInt(CHARSETS.length)];
            if (r.nextInt(4) == 0) {
                // Straight UTF-16 units: lone surrogates, noncharacters, anything.
                char[] chars = new char[length];
                for (int k = 0; k < length; k++) {
                    chars[k] = anyChar(r);
                }
                return new String(chars);
            }
            byte[] bytes = new byte[length];
            for (int k = 0; k < length; k++) {
                bytes[k] = (byte) r.nextInt(256);
            }
            // Malformed sequences become U+FFFD in UTF-8; Latin-1 keeps every byte as a char.
            return new String(bytes, cs);
        }

        private static String codeSoup(SplittableRandom r) {
            String[] separators = {" ", "", "-", ":", "\r\n", ".", ";", "\u0000", "  ", "\t", ","};
            StringBuilder sb = new StringBuilder();
            for (int k = 1 + r.nextInt(14); k > 0; k--) {
                sb.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]).append(separators[r.nextInt(separators.length)]);
            }
            return sb.toString();
        }

        private static String regexStress(SplittableRandom r, int length) {
            StringBuilder sb = new StringBuilder(r.nextBoolean() ? "550 " : r.nextBoolean() ? "421 4.7.0 " : "");
            String unit = STRESS[r.nextInt(STRESS.length)];
            String other = STRESS[r.nextInt(STRESS.length)];
            while (sb.length() < length) {
                sb.append(r.nextInt(10) == 0 ? other : unit);
            }
            return sb.toString();
        }

        private String longLine(SplittableRandom r, int length) {
            StringBuilder sb = new StringBuilder(seed(r));
            while (sb.length() < length) {
                switch (r.nextInt(3)) {
                    case 0:
                        sb.append(' ').append(seed(r));
                        break;
                    case 1:
                        sb.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
                        break;
                    default:
                        for (int k = 0; k < 64; k++) {
                            sb.append((char) ('a' + r.nextInt(26)));
                        }
                        break;
                }
            }
            return sb.toString();
        }

        /** The inputs that must not make the parser or a rule quadratic: capped at about a megabyte. */
        private Generated huge(SplittableRandom r, Stage stage) {
            StringBuilder sb = new StringBuilder(HUGE_CAP + 64);
            switch (r.nextInt(6)) {
                case 0: {
                    sb.append("550 5.1.1 ");
                    while (sb.length() < HUGE_CAP) {
                        sb.append((char) ('a' + r.nextInt(26)));
                    }
                    return new Generated("huge-line", sb.toString(), stage);
                }
                case 1: {
                    for (int k = 0; k < 10_000 && sb.length() < HUGE_CAP; k++) {
                        sb.append("550-5.1.1 ").append(seed(r)).append("\r\n");
                    }
                    sb.append("550 5.1.1 end");
                    return new Generated("huge-continuation", sb.toString(), stage);
                }
                case 2: {
                    while (sb.length() < HUGE_CAP) {
                        sb.append("\r\n");
                    }
                    return new Generated("huge-line-breaks", sb.toString(), stage);
                }
                case 3: {
                    String unit = STRESS[r.nextInt(STRESS.length)];
                    while (sb.length() < HUGE_CAP) {
                        sb.append(unit);
                    }
                    return new Generated("huge-repetition", sb.toString(), stage);
                }
                case 4: {
                    while (sb.length() < HUGE_CAP) {
                        sb.append(anyChar(r));
                    }
                    return new Generated("huge-random", sb.toString(), stage);
                }
                default: {
                    sb.append("421 ");
                    while (sb.length() < HUGE_CAP) {
                        sb.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]).append(' ');
                    }
                    return new Generated("huge-soup", sb.toString(), stage);
                }
            }
        }
    }
}
