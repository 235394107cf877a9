package org.mailpolicy.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.common.base.CharMatcher;
import com.google.common.collect.AbstractIterator;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.mailpolicy.cli.DeliveryPolicyCli.LineReader;
import org.mailpolicy.cli.DeliveryPolicyCli.UsageException;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.PolicyException;
import org.mailpolicy.destination.StoreSettings;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.SharedDatabase;
import org.mailpolicy.jdbc.StoreException;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;

/**
 * {@code delivery-policy suppressions import}: adds a file of addresses to the suppression list, as
 * an operator does when moving from another MTA or sending service. The file is streamed through
 * {@link SuppressionList#addAll}, so millions of lines need no more memory than one sorted batch.
 *
 * <p>A bad line does not stop the import: it is named on standard error (the first
 * {@value #MAX_REPORTED}; the rest are counted), the good lines are added, and the exit code is 1
 * so that a script notices.
 */
final class SuppressionImport {
    /** The rule id of imported entries: WebAdmin and the DSN text then say where they came from. */
    static final String RULE_ID = "import";
    /** As WebAdmin's PUT without a body. */
    static final String DEFAULT_REASON = "manual";
    static final int MAX_REPORTED = 20;

    /** The address is the first field: a plain list, or the first column of a CSV or TSV export. */
    private static final CharMatcher FIELD_END = CharMatcher.whitespace().or(CharMatcher.anyOf(",;"));

    private SuppressionImport() {
    }

    static int run(List<String> args, InputStream stdin, PrintStream out, PrintStream err)
            throws UsageException, IOException {
        if (args.isEmpty() || !"import".equals(args.get(0))) {
            throw new UsageException("suppressions needs a subcommand: import");
        }
        Path policyFile = null;
        Path store = null;
        String reason = DEFAULT_REASON;
        boolean compact = true;
        List<String> positional = new ArrayList<>();
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            if ("--policy".equals(a)) {
                policyFile = Paths.get(value(args, ++i, a));
            } else if ("--store".equals(a)) {
                store = Paths.get(value(args, ++i, a));
            } else if ("--reason".equals(a)) {
                reason = value(args, ++i, a);
            } else if ("--no-compact".equals(a)) {
                compact = false;
            } else if (a.startsWith("--")) {
                throw new UsageException("unknown option '" + a + "'");
            } else {
                positional.add(a);
            }
        }
        if ((policyFile == null) == (store == null)) {
            throw new UsageException("suppressions import needs either --policy FILE or --store PATH");
        }
        if (positional.size() != 1) {
            throw new UsageException("suppressions import needs exactly one input: a file, or - for standard input");
        }
        if (reason.trim().isEmpty()) {
            throw new UsageException("--reason must not be empty");
        }

        Optional<SharedDatabase> shared = Optional.empty();
        Path h2 = store;
        if (policyFile != null) {
            try {
                // The store James would use with this policy, a relative H2 path taken from here.
                StoreSettings settings = DeliveryPolicy.load(policyFile).suppression();
                shared = settings.database();
                h2 = settings.resolvedPath(Paths.get("").toAbsolutePath());
            } catch (PolicyException e) {
                e.errors().forEach(err::println);
                return DeliveryPolicyCli.INVALID;
            }
        }
        boolean embedded = !shared.isPresent();
        JdbcSuppressionList list;
        try {
            list = embedded ? JdbcSuppressionList.openH2(h2) : JdbcSuppressionList.open(Database.open(shared.get()));
        } catch (StoreException e) {
            err.println("delivery-policy suppressions import: cannot open the suppression store: " + e.getMessage());
            if (embedded) {
                err.println("(the embedded store belongs to one process: stop James first, or add addresses through"
                        + " WebAdmin)");
            }
            return DeliveryPolicyCli.INVALID;
        }
        String input = positional.get(0);
        try (JdbcSuppressionList l = list; InputStream in = open(input, stdin)) {
            Lines lines = new Lines(new LineReader(in, DeliveryPolicyCli.MAX_LINE_BYTES), reason, Instant.now(), err);
            long start = System.nanoTime();
            long added;
            try {
                added = l.addAll(lines);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (StoreException e) {
                err.println("delivery-policy suppressions import: stopped after line " + lines.lineNumber + ": "
                        + e.getMessage());
                err.println("(addresses before it may have been added; importing the file again is harmless)");
                return DeliveryPolicyCli.INVALID;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            OptionalDouble compactSeconds = OptionalDouble.empty();
            if (embedded && compact && added > 0) {
                long compactStart = System.nanoTime();
                l.compactAndClose();
                compactSeconds = OptionalDouble.of((System.nanoTime() - compactStart) / 1e9);
            }
            out.println(summary(l, lines, added, seconds, compactSeconds));
            out.flush();
            return lines.invalid == 0 ? DeliveryPolicyCli.OK : DeliveryPolicyCli.INVALID;
        }
    }

    private static InputStream open(String input, InputStream stdin) throws IOException {
        if ("-".equals(input)) {
            return new NonClosing(stdin);
        }
        try {
            return Files.newInputStream(Paths.get(input));
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(input, null, "no such file");
        }
    }

    private static String value(List<String> args, int i, String option) throws UsageException {
        if (i >= args.size()) {
            throw new UsageException(option + " needs a value");
        }
        return args.get(i);
    }

    private static String summary(SuppressionList list, Lines lines, long added, double seconds,
                                  OptionalDouble compactSeconds) throws IOException {
        StringWriter json = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(json)) {
            g.writeStartObject();
            g.writeStringField("store", list.toString());
            g.writeNumberField("addresses", lines.valid);
            g.writeNumberField("added", added);
            // Already on the list, or repeated in the file: either way the first entry stays.
            g.writeNumberField("already_listed", lines.valid - added);
            g.writeNumberField("invalid_lines", lines.invalid);
            g.writeNumberField("seconds", Math.round(seconds * 10) / 10.0);
            if (compactSeconds.isPresent()) {
                g.writeNumberField("compact_seconds", Math.round(compactSeconds.getAsDouble() * 10) / 10.0);
            }
            g.writeEndObject();
        }
        return json.toString();
    }

    /** The entries of the input, read as {@code addAll} asks for them; bad lines are reported and skipped. */
    private static final class Lines implements Iterable<SuppressionEntry> {
        private final LineReader reader;
        private final String reason;
        private final Instant since;
        private final PrintStream err;
        long lineNumber;
        long valid;
        long invalid;

        Lines(LineReader reader, String reason, Instant since, PrintStream err) {
            this.reader = reader;
            this.reason = reason;
            this.since = since;
            this.err = err;
        }

        @Override
        public Iterator<SuppressionEntry> iterator() {
            return new AbstractIterator<SuppressionEntry>() {
                @Override
                protected SuppressionEntry computeNext() {
                    String line;
                    while ((line = readLine()) != null) {
                        lineNumber++;
                        Optional<SuppressionEntry> entry = entry(line);
                        if (entry.isPresent()) {
                            valid++;
                            return entry.get();
                        }
                    }
                    return endOfData();
                }
            };
        }

        private String readLine() {
            try {
                return reader.next();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private Optional<SuppressionEntry> entry(String line) {
            // A spreadsheet's export may start with a byte order mark.
            String text = (lineNumber == 1 ? CharMatcher.is('\uFEFF').trimLeadingFrom(line) : line).trim();
            if (text.isEmpty() || text.startsWith("#")) {
                return Optional.empty();
            }
            int end = FIELD_END.indexIn(text);
            String field = CharMatcher.is('"').trimFrom(end < 0 ? text : text.substring(0, end));
            try {
                return Optional.of(SuppressionEntry.of(field, since, reason, "", RULE_ID,
                        SuppressionEntry.Source.MANUAL, Optional.empty()));
            } catch (IllegalArgumentException e) {
                invalid++;
                if (invalid <= MAX_REPORTED) {
                    err.println("line " + lineNumber + ": " + e.getMessage());
                } else if (invalid == MAX_REPORTED + 1) {
                    err.println("(further invalid lines are only counted)");
                }
                return Optional.empty();
            }
        }
    }

    /** Standard input stays open for the caller. */
    private static final class NonClosing extends java.io.FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
        }
    }
}
