package org.mailpolicy.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.PolicyException;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.ClassificationJson;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.rules.ReplyRule;
import org.mailpolicy.rules.RuleSet;
import org.mailpolicy.rules.RulesException;
import org.mailpolicy.yaml.Durations;

/**
 * The {@code delivery-policy} command line: classify replies, explain one, list the rules, check
 * a policy file, import suppressions. Exit codes: 0 success, 1 the input, a file or the store is
 * invalid or unusable, 2 usage error.
 */
public final class DeliveryPolicyCli {
    static final int OK = 0;
    static final int INVALID = 1;
    static final int USAGE = 2;
    /** Bytes of one input line that are kept; the rest is read and dropped (the parser looks at less). */
    static final int MAX_LINE_BYTES = 64 * 1024;

    private static final String USAGE_TEXT = String.join("\n",
            "usage: delivery-policy <command> [options]",
            "",
            "commands:",
            "  classify [--stage STAGE] [--rules FILE]...   one reply per line on stdin -> one JSON object per line",
            "  explain [--stage STAGE] [--rules FILE]... REPLY   explain one reply for a person",
            "  rules [--rules FILE]...                      list the rules in effect, in order",
            "  check-config FILE                            validate a delivery policy file",
            "  suppressions import (--policy FILE | --store PATH) [--reason TEXT] [--no-compact] FILE|-",
            "                                               add the addresses in FILE (one a line) to the suppression list",
            "",
            "STAGE: CONNECT, HELO, MAIL, RCPT, DATA, END_OF_DATA",
            "--rules FILE: an override rules file, loaded after the built-in rules (later rules win)",
            "suppressions import: the store of the policy file (a relative H2 path is taken from the current",
            "  directory: run it where James runs) or the H2 file base PATH; the embedded store can only be",
            "  opened while James is stopped. The first field of each line is the address (blank lines and",
            "  # comments are skipped); addresses already listed keep their entry. Prints a JSON summary.",
            "  Afterwards the H2 file is rewritten without the old page copies H2 keeps (a large import",
            "  leaves several times the live data); --no-compact skips that.");

    private DeliveryPolicyCli() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
                StandardCharsets.UTF_8);
        int code = run(args, System.in, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command; never calls {@code System.exit}, so tests can call it in-process. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        if (args == null || args.length == 0) {
            err.println(USAGE_TEXT);
            return USAGE;
        }
        String command = args[0];
        List<String> rest = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            rest.add(args[i]);
        }
        try {
            switch (command) {
                case "classify":
                    return classify(rest, in, out, err);
                case "explain":
                    return explain(rest, out, err);
                case "rules":
                    return rules(rest, out, err);
                case "check-config":
                    return checkConfig(rest, out, err);
                case "suppressions":
                    return SuppressionImport.run(rest, in, out, err);
                case "help":
                case "--help":
                case "-h":
                    out.println(USAGE_TEXT);
                    return OK;
                default:
                    err.println("delivery-policy: unknown command '" + command + "'");
                    err.println(USAGE_TEXT);
                    return USAGE;
            }
        } catch (UsageException e) {
            err.println("delivery-policy " + command + ": " + e.getMessage());
            err.println(USAGE_TEXT);
            return USAGE;
        } catch (RulesException e) {
            for (String line : e.errors()) {
                err.println(line);
            }
            return INVALID;
        } catch (IOException e) {
            err.println("delivery-policy " + command + ": " + e.getMessage());
            return INVALID;
        }
    }

    /** Options shared by classify, explain and rules. */
    private static final class Options {
        Stage stage = Stage.UNKNOWN;
        final List<Path> ruleFiles = new ArrayList<>();
        final List<String> positional = new ArrayList<>();

        static Options parse(List<String> args, boolean stageAllowed) throws UsageException {
            Options o = new Options();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if ("--stage".equals(a) && stageAllowed) {
                    o.stage = stage(value(args, ++i, a));
                } else if (a.startsWith("--stage=") && stageAllowed) {
                    o.stage = stage(a.substring("--stage=".length()));
                } else if ("--rules".equals(a)) {
                    o.ruleFiles.add(Paths.get(value(args, ++i, a)));
                } else if (a.startsWith("--rules=")) {
                    o.ruleFiles.add(Paths.get(a.substring("--rules=".length())));
                } else if ("--".equals(a)) {
                    o.positional.addAll(args.subList(i + 1, args.size()));
                    break;
                } else if (a.startsWith("--")) {
                    throw new UsageException("unknown option '" + a + "'");
                } else {
                    o.positional.add(a);
                }
            }
            return o;
        }

        private static String value(List<String> args, int i, String option) throws UsageException {
            if (i >= args.size()) {
                throw new UsageException(option + " needs a value");
            }
            return args.get(i);
        }

        private static Stage stage(String s) throws UsageException {
            try {
                Stage st = Stage.valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
                if (st != Stage.UNKNOWN) {
                    return st;
                }
            } catch (IllegalArgumentException e) {
                // reported below
            }
            throw new UsageException("unknown stage '" + s + "'; expected CONNECT, HELO, MAIL, RCPT, DATA or END_OF_DATA");
        }

        ReplyClassifier classifier() throws RulesException {
            return ReplyClassifier.withOverrides(ruleFiles);
        }
    }

    private static int classify(List<String> args, InputStream in, PrintStream out, PrintStream err)
            throws UsageException, RulesException, IOException {
        Options o = Options.parse(args, true);
        if (!o.positional.isEmpty()) {
            throw new UsageException("classify reads replies from standard input; unexpected '" + o.positional.get(0) + "'");
        }
        ReplyClassifier classifier = o.classifier();
        JsonFactory factory = new JsonFactory();
        LineReader lines = new LineReader(in, MAX_LINE_BYTES);
        String line;
        while ((line = lines.next()) != null) {
            Classification c = classifier.classify(SmtpReply.parse(line, o.stage));
            // One generator per line keeps every object on its own line whatever happens.
            ByteArrayOutputStream buf = new ByteArrayOutputStream(512);
            try (JsonGenerator g = factory.createGenerator(buf, JsonEncoding.UTF8)) {
                ClassificationJson.write(g, c);
            }
            buf.write('\n');
            buf.writeTo(out);
        }
        out.flush();
        return OK;
    }

    private static int explain(List<String> args, PrintStream out, PrintStream err)
            throws UsageException, RulesException {
        Options o = Options.parse(args, true);
        if (o.positional.isEmpty()) {
            throw new UsageException("explain needs the reply text, e.g. explain \"421 4.7.1 : (DYN:T1)\"");
        }
        ReplyClassifier classifier = o.classifier();
        Classification c = classifier.classify(SmtpReply.parse(String.join(" ", o.positional), o.stage));
        out.print(explanation(c, classifier));
        out.flush();
        return OK;
    }

    static String explanation(Classification c, ReplyClassifier classifier) {
        SmtpReply r = c.reply();
        StringBuilder sb = new StringBuilder();
        sb.append("Reply:       ").append(r.raw()).append('\n');
        sb.append("Parsed:      code ").append(r.code().isPresent() ? String.valueOf(r.code().getAsInt()) : "none")
                .append(", enhanced ").append(r.enhancedStatus().map(Object::toString).orElse("none"))
                .append(", token ").append(r.tokens().isEmpty() ? "none" : String.join(" ", r.tokens()))
                .append(", stage ").append(r.stage().name()).append('\n');
        sb.append("Decision:    ").append(decision(c)).append('\n');
        sb.append("Why:         ").append(c.explanation()).append('\n');
        sb.append("What to do:  ").append(c.remedy()).append('\n');
        Optional<ReplyRule> rule = classifier.rules().stream().filter(x -> x.id().equals(c.ruleId())).findFirst();
        sb.append("Rule:        ").append(c.ruleId())
                .append(rule.map(x -> " [" + x.describeMatch() + "] at " + x.origin()).orElse("")).append('\n');
        sb.append("Source:      ").append(c.source()).append('\n');
        sb.append("DSN status:  ").append(c.dsnStatus()).append('\n');
        return sb.toString();
    }

    private static String decision(Classification c) {
        String what;
        switch (c.action()) {
            case RETRY:
                what = "RETRY this message later";
                break;
            case THROTTLE:
                what = "THROTTLE: hold every message to this destination";
                break;
            case BOUNCE:
                what = "BOUNCE: stop and send a failure report to the sender";
                break;
            default:
                what = "SUPPRESS: bounce and never try this recipient again";
                break;
        }
        StringBuilder sb = new StringBuilder(what);
        sb.append(" (reason ").append(c.reason()).append(", about the ").append(c.scope().id());
        c.holdHint().ifPresent(d -> sb.append(", hold at least ").append(Durations.format(d)));
        c.retryHint().ifPresent(d -> sb.append(", wait at least ").append(Durations.format(d)));
        return sb.append(')').toString();
    }

    private static int rules(List<String> args, PrintStream out, PrintStream err) throws UsageException, RulesException {
        Options o = Options.parse(args, false);
        if (!o.positional.isEmpty()) {
            throw new UsageException("unexpected '" + o.positional.get(0) + "'");
        }
        for (ReplyRule r : o.classifier().rules()) {
            out.println(r.id() + "\t" + r.tier().name().toLowerCase(Locale.ROOT) + "\t" + r.describeMatch() + "\t"
                    + r.action().id() + "/" + r.reason() + "/" + r.scope().id() + "\t" + r.origin());
        }
        out.flush();
        return OK;
    }

    private static int checkConfig(List<String> args, PrintStream out, PrintStream err) throws UsageException {
        if (args.size() != 1 || args.get(0).startsWith("--")) {
            throw new UsageException("check-config needs exactly one policy file");
        }
        Path file = Paths.get(args.get(0));
        DeliveryPolicy policy;
        try {
            policy = DeliveryPolicy.load(file);
        } catch (PolicyException e) {
            for (String line : e.errors()) {
                err.println(line);
            }
            return INVALID;
        }
        // The policy names override rule files; a broken one would otherwise surface only in James.
        List<String> ruleErrors = new ArrayList<>();
        for (Path rulesFile : policy.ruleFiles()) {
            try {
                RuleSet.load(rulesFile);
            } catch (RulesException e) {
                ruleErrors.addAll(e.errors());
            }
        }
        if (!ruleErrors.isEmpty()) {
            for (String line : ruleErrors) {
                err.println(line);
            }
            return INVALID;
        }
        out.println("OK: " + file + ": " + policy.destinations().size() + " destinations");
        out.flush();
        return OK;
    }

    /** A usage mistake: exit 2 with the usage text. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /**
     * Reads '\n'-terminated lines of bytes (a trailing '\r' is dropped) as UTF-8, replacing bad bytes.
     * Keeps at most {@code maxBytes} of each line and drops the rest, so a huge line costs no memory;
     * a final line without '\n' still counts.
     */
    static final class LineReader {
        private final InputStream in;
        private final int maxBytes;
        private final byte[] chunk = new byte[8192];
        private int pos;
        private int len;
        private boolean eof;

        LineReader(InputStream in, int maxBytes) {
            this.in = in;
            this.maxBytes = maxBytes;
        }

        String next() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            boolean any = false;
            while (true) {
                if (pos == len) {
                    if (eof) {
                        return any ? decode(line) : null;
                    }
                    len = in.read(chunk);
                    pos = 0;
                    if (len <= 0) {
                        len = 0;
                        eof = true;
                        continue;
                    }
                }
                any = true;
                byte b = chunk[pos++];
                if (b == '\n') {
                    return decode(line);
                }
                if (line.size() < maxBytes) {
                    line.write(b);
                }
            }
        }

        private static String decode(ByteArrayOutputStream line) {
            byte[] bytes = line.toByteArray();
            int n = bytes.length;
            if (n > 0 && bytes[n - 1] == '\r') {
                n--;
            }
            CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE);
            try {
                return d.decode(ByteBuffer.wrap(bytes, 0, n)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
        }
    }
}
