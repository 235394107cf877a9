package org.mailpolicy.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.mailpolicy.suppression.JdbcSuppressionList;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionList;

/**
 * The suppression list at scale, on the embedded H2 store the plugin uses by default: load time,
 * size on disk (as loaded, and compacted as {@code delivery-policy suppressions import} leaves it),
 * start-up time, lookups per second and heap per entry. A plain harness, not a test:
 * {@code mvn test} never runs it ({@code bin/bench suppression [options]} does). Progress goes to
 * standard error as it goes; the figures go to standard output at the end, one JSON object a line.
 *
 * <p>Entries are realistic: random local parts at a spread of domains (a few large mailbox
 * providers, then a long tail), real-looking replies, reasons, rule ids, sources and message ids.
 * Address {@code i} is a pure function of {@code i}, so lookups can ask for addresses that were
 * loaded (indexes below {@code entries}) and ones that were not (indexes above) without keeping ten
 * million strings in memory.
 *
 * <p>The relay mailet ({@code RemoveSuppressedRecipients}, matcher {@code IsSuppressed}) calls
 * {@link SuppressionList#find} once per recipient, with the address as the sender wrote it, so the
 * "relay" measurement is that: single lookups, mostly misses, some in mixed case.
 *
 * <p>Options: {@code --entries N} (default 10,000,000), {@code --dir DIR} (an empty folder, left
 * as it is afterwards; default a new temporary folder, deleted afterwards unless {@code --keep}),
 * {@code --seconds S} per lookup
 * measurement (default 10, after a warm-up of S/2), {@code --single-adds N}: the last N entries
 * are added through {@link SuppressionList#add} one at a time, as the relay adds, after the bulk
 * load through {@link SuppressionList#addAll} (default 20,000).
 */
public final class SuppressionBenchmark {
    private static final long SEED = 0x5eed_2026_1122L;
    private static final Instant NEWEST = Instant.parse("2026-11-22T10:00:00Z");
    private static final long THREE_YEARS_S = 3L * 365 * 24 * 3600;
    /** Addresses kept in memory for the lookup runs: drawn from the whole key space, cheap to pick. */
    private static final int LOOKUP_POOL = 200_000;
    private static final int PROGRESS_EVERY = 1_000_000;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Large mailbox providers and their share of the list; the rest goes to the long tail. */
    private static final String[] BIG_DOMAINS = {
        "gmail.com", "yahoo.com", "hotmail.com", "aol.com", "outlook.com", "icloud.com", "comcast.net",
        "msn.com", "live.com", "att.net", "verizon.net", "gmx.de", "web.de", "orange.fr", "yahoo.co.uk", "mail.ru"};
    private static final double[] BIG_SHARES = {
        0.28, 0.11, 0.08, 0.07, 0.05, 0.03, 0.02, 0.015, 0.015, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
    private static final int TAIL_DOMAINS = 50_000;
    private static final String[] TAIL_SUFFIXES = {".com", ".net", ".org", ".de", ".co.uk", ".fr", ".io", ".us"};
    private static final String[] FIRST = {
        "john", "mary", "james", "linda", "robert", "patricia", "michael", "jennifer", "david", "susan", "maria",
        "chris", "daniel", "lisa", "mark", "sarah", "paul", "karen", "kevin", "nancy", "jose", "anna", "tom", "emma"};
    private static final String[] LAST = {
        "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
        "wilson", "anderson", "taylor", "thomas", "moore", "jackson", "martin", "lee", "white", "harris", "clark"};
    private static final String[][] OUTCOMES = {
        {"userunknown", "aol.mailbox-not-found", "550 MAILBOX NOT FOUND"},
        {"userunknown", "gmail.account-does-not-exist", "550-5.1.1 The email account that you tried to reach does not"
                + " exist. Please try double-checking the recipient's email address for typos or unnecessary spaces."
                + " https://support.google.com/mail/?p=NoSuchUser"},
        {"userunknown", "yahoo.no-such-account", "554 delivery error: dd This user doesn't have a yahoo.com account"},
        {"userunknown", "microsoft.recipient-not-found", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not"
                + " found by SMTP address lookup"},
        {"userunknown", "postfix.user-unknown-table", "550 5.1.1 Recipient address rejected: User unknown in local"
                + " recipient table"},
        {"userunknown", "generic.user-unknown", "550 5.1.1 No such user"},
    };
    private static final char[] ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    private final List<String> results = new ArrayList<>();
    /** The four figures of issue 10, printed last as one line each. */
    private double importSeconds = Double.NaN;
    private double startupColdMs = Double.NaN;
    private double relayOneThreadPerSecond = Double.NaN;
    private double h2BytesPerEntry = Double.NaN;
    private double indexBytesPerEntry = Double.NaN;
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final OperatingSystemMXBean os =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final JsonFactory json = new JsonFactory();

    private SuppressionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        long entries = 10_000_000;
        Path dir = null;
        boolean keep = false;
        double seconds = 10;
        long singleAdds = 20_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--entries":
                    entries = Long.parseLong(args[++i].replace("_", "").replace(",", ""));
                    break;
                case "--dir":
                    dir = Paths.get(args[++i]);
                    break;
                case "--keep":
                    keep = true;
                    break;
                case "--seconds":
                    seconds = Double.parseDouble(args[++i]);
                    break;
                case "--single-adds":
                    singleAdds = Long.parseLong(args[++i].replace("_", "").replace(",", ""));
                    break;
                default:
                    System.err.println("usage: SuppressionBenchmark [--entries N] [--dir DIR] [--keep] [--seconds S]"
                            + " [--single-adds N]");
                    System.exit(2);
            }
        }
        if (entries < 1 || singleAdds < 0 || singleAdds > entries || seconds <= 0) {
            System.err.println("SuppressionBenchmark: need entries >= 1, 0 <= single-adds <= entries, seconds > 0");
            System.exit(2);
        }
        boolean temporary = dir == null;
        if (temporary) {
            dir = Files.createTempDirectory("suppression-bench");
        }
        Files.createDirectories(dir);
        Path fileBase = dir.resolve("suppressions");
        if (Files.exists(fileBase.resolveSibling("suppressions.mv.db"))) {
            System.err.println("SuppressionBenchmark: " + fileBase + ".mv.db exists; give an empty --dir");
            System.exit(2);
        }
        try {
            new SuppressionBenchmark().run(fileBase, entries, singleAdds, seconds);
        } finally {
            if (temporary && !keep) {
                deleteTree(dir);
            } else {
                System.err.println("store left in " + dir);
            }
        }
    }

    private void run(Path fileBase, long entries, long singleAdds, double seconds) throws Exception {
        Runtime rt = Runtime.getRuntime();
        System.err.printf(Locale.ROOT, "suppression benchmark: %,d entries into embedded H2 at %s%n", entries, fileBase);
        System.err.printf(Locale.ROOT, "java %s, %d cores, max heap %d MB, %s%n", System.getProperty("java.version"),
                rt.availableProcessors(), rt.maxMemory() >> 20, ManagementFactory.getRuntimeMXBean().getInputArguments());
        result("environment", g -> {
            g.writeStringField("java", System.getProperty("java.version"));
            number(g, "cores", rt.availableProcessors());
            number(g, "max_heap_mb", rt.maxMemory() >> 20);
            number(g, "load_average_at_start", os.getSystemLoadAverage());
            g.writeStringField("jvm_args", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        });
        measureGeneration(Math.min(entries, 200_000));

        long baseline = heapAfterGc();
        JdbcSuppressionList list = JdbcSuppressionList.openH2(fileBase);
        long added;
        try {
            added = load(list, entries, singleAdds, fileBase);
            long heap = heapAfterGc() - baseline;
            long count = list.count(Optional.empty());
            result("heap_after_load", g -> {
                number(g, "entries", count);
                number(g, "heap_used_above_baseline_bytes", heap);
                number(g, "bytes_per_entry", (double) heap / count);
                number(g, "baseline_bytes", baseline);
            });
        } finally {
            list.close();
        }
        long heapClosed = heapAfterGc() - baseline;
        long bytes = storeBytes(fileBase);
        long stored = added;
        result("disk", g -> {
            number(g, "entries", stored);
            number(g, "bytes", bytes);
            number(g, "bytes_per_entry", (double) bytes / stored);
            number(g, "heap_above_baseline_after_close_bytes", heapClosed);
        });

        list = startUp(fileBase, "startup", false);
        try {
            long heap = heapAfterGc() - baseline;
            result("heap_after_reopen", g -> {
                number(g, "entries", stored);
                number(g, "heap_used_above_baseline_bytes", heap);
                number(g, "bytes_per_entry", (double) heap / stored);
            });
            // What delivery-policy suppressions import does after an import.
            long compactStart = System.nanoTime();
            list.compactAndClose();
            double compactSeconds = (System.nanoTime() - compactStart) / 1e9;
            importSeconds += compactSeconds;
            long compacted = storeBytes(fileBase);
            result("compact", g -> {
                number(g, "seconds", compactSeconds);
                number(g, "bytes_before", bytes);
                number(g, "bytes", compacted);
                number(g, "bytes_per_entry", (double) compacted / stored);
            });
        } finally {
            list.close();
        }

        boolean cold = evictFromPageCache(fileBase);
        list = startUp(fileBase, "startup_after_compact", cold);
        try {
            long heap = heapAfterGc() - baseline;
            result("heap_after_compacted_reopen", g -> {
                number(g, "entries", stored);
                number(g, "heap_used_above_baseline_bytes", heap);
                number(g, "bytes_per_entry", (double) heap / stored);
            });
            admin(list, "just opened");
            lookups(list, entries, seconds);
            admin(list, "after the lookups");
            long heapAfterLookups = heapAfterGc() - baseline;
            result("heap_after_lookups", g -> {
                number(g, "heap_used_above_baseline_bytes", heapAfterLookups);
                g.writeStringField("note", "the lookups' address pools are garbage by now; H2's page cache is warm");
            });
        } finally {
            list.close();
        }
        h2BytesPerEntry = (double) fileBytes(fileBase.resolveSibling(fileBase.getFileName() + ".mv.db")) / stored;
        indexBytesPerEntry = (double) fileBytes(fileBase.resolveSibling(fileBase.getFileName() + ".suppression-index"))
                / stored;
        long finalBytes = storeBytes(fileBase);
        result("disk_at_end", g -> {
            number(g, "bytes", finalBytes);
            number(g, "bytes_per_entry", (double) finalBytes / stored);
        });

        long loaded = stored;
        result("row", g -> {
            g.writeStringField("figure", "find, relay mix, one thread");
            number(g, "entries", loaded);
            number(g, "lookups_per_s", relayOneThreadPerSecond);
            g.writeStringField("goal", ">= 1,000,000/s");
        });
        result("row", g -> {
            g.writeStringField("figure", "import (addAll, then compact as the import command does)");
            number(g, "entries", loaded);
            number(g, "seconds", importSeconds);
            g.writeStringField("goal", "<= 120 s");
        });
        result("row", g -> {
            g.writeStringField("figure", "disk per entry, compacted");
            number(g, "entries", loaded);
            number(g, "h2_file_bytes_per_entry", h2BytesPerEntry);
            number(g, "index_file_bytes_per_entry", indexBytesPerEntry);
            g.writeStringField("goal", "<= 64 B");
        });
        result("row", g -> {
            g.writeStringField("figure", "start-up: open and first look-up, files not in the OS cache");
            number(g, "entries", loaded);
            number(g, "ms", startupColdMs);
            g.writeStringField("goal", "<= 2000 ms cold");
        });
        System.out.flush();
        results.forEach(System.out::println);
    }

    /** What building the entries costs on its own (validation, strings), to tell it apart from the store. */
    private void measureGeneration(long n) {
        long sink = 0;
        for (long i = 0; i < n; i++) {
            sink += entry(i).address().length();
        }
        long start = System.nanoTime();
        for (long i = 0; i < n; i++) {
            sink += entry(i).address().length();
        }
        double us = (System.nanoTime() - start) / 1e3 / n;
        long s = sink;
        result("generate", g -> {
            number(g, "entries", n);
            number(g, "us_per_entry", us);
            g.writeStringField("note", "building SuppressionEntry values only; included in the load figures");
            number(g, "sink", s % 10);
        });
    }

    /**
     * The first {@code entries - singleAdds} through {@link SuppressionList#addAll}, as an import
     * would; the last {@code singleAdds} through {@link SuppressionList#add} one at a time, as the
     * relay adds an address it has just learnt, into a store that is already full.
     */
    private long load(SuppressionList list, long entries, long singleAdds, Path fileBase) {
        long bulk = entries - singleAdds;
        long start = System.nanoTime();
        long cpu = os.getProcessCpuTime();
        long[] lastProgress = {start, 0};
        Iterable<SuppressionEntry> generated = () -> new Iterator<SuppressionEntry>() {
            private long next;

            @Override
            public boolean hasNext() {
                return next < bulk;
            }

            @Override
            public SuppressionEntry next() {
                if (next >= bulk) {
                    throw new NoSuchElementException();
                }
                if (next > 0 && next % PROGRESS_EVERY == 0) {
                    long now = System.nanoTime();
                    System.err.printf(Locale.ROOT, "  %,12d entries  %7.1f s  last %,d at %,.0f/s  file %,d MB%n", next,
                            (now - start) / 1e9, next - lastProgress[1],
                            (next - lastProgress[1]) / ((now - lastProgress[0]) / 1e9), storeBytes(fileBase) >> 20);
                    lastProgress[0] = now;
                    lastProgress[1] = next;
                }
                return entry(next++);
            }
        };
        long bulkAdded = list.addAll(generated);
        double bulkSeconds = (System.nanoTime() - start) / 1e9;
        importSeconds = bulkSeconds;
        double bulkCpuSeconds = (os.getProcessCpuTime() - cpu) / 1e9;
        if (bulk > 0) {
            System.err.printf(Locale.ROOT, "addAll: %,d in %.1f s, %,.0f/s%n", bulk, bulkSeconds, bulk / bulkSeconds);
            result("load_bulk", g -> {
                g.writeStringField("method", "addAll");
                number(g, "entries", bulk);
                number(g, "added", bulkAdded);
                number(g, "seconds", bulkSeconds);
                number(g, "entries_per_s", bulk / bulkSeconds);
                number(g, "process_cpu_seconds", bulkCpuSeconds);
                number(g, "process_cpu_us_per_entry", bulkCpuSeconds * 1e6 / bulk);
            });
        }

        long singleStart = System.nanoTime();
        long singleCpu = os.getProcessCpuTime();
        long singleAdded = 0;
        for (long i = bulk; i < entries; i++) {
            if (list.add(entry(i))) {
                singleAdded++;
            }
        }
        double singleSeconds = (System.nanoTime() - singleStart) / 1e9;
        double singleCpuSeconds = (os.getProcessCpuTime() - singleCpu) / 1e9;
        long singleNew = singleAdded;
        if (singleAdds > 0) {
            System.err.printf(Locale.ROOT, "add() one at a time: %,d in %.1f s, %,.0f/s%n", singleAdds, singleSeconds,
                    singleAdds / singleSeconds);
            result("load_single_adds", g -> {
                g.writeStringField("method", "add, one transaction each, into the loaded store");
                number(g, "store_entries_before", bulkAdded);
                number(g, "entries", singleAdds);
                number(g, "added", singleNew);
                number(g, "seconds", singleSeconds);
                number(g, "entries_per_s", singleAdds / singleSeconds);
                number(g, "process_cpu_seconds", singleCpuSeconds);
                number(g, "process_cpu_us_per_entry", singleCpuSeconds * 1e6 / singleAdds);
            });
        }

        double totalSeconds = (System.nanoTime() - start) / 1e9;
        double totalCpu = (os.getProcessCpuTime() - cpu) / 1e9;
        long total = bulkAdded + singleAdded;
        long fileAfterLoad = storeBytes(fileBase);
        System.err.printf(Locale.ROOT, "loaded %,d (%,d new) in %.1f s%n", entries, total, totalSeconds);
        result("load", g -> {
            number(g, "entries", entries);
            number(g, "added", total);
            number(g, "seconds", totalSeconds);
            number(g, "entries_per_s", entries / totalSeconds);
            number(g, "process_cpu_seconds", totalCpu);
            number(g, "file_bytes_while_open", fileAfterLoad);
            number(g, "load_average_now", os.getSystemLoadAverage());
        });
        return total;
    }

    /** Close was done; open again and look one address up, as James does at its first mail after a restart. */
    private JdbcSuppressionList startUp(Path fileBase, String metric, boolean cold) {
        long start = System.nanoTime();
        JdbcSuppressionList list = JdbcSuppressionList.openH2(fileBase);
        long opened = System.nanoTime();
        boolean found = list.find(address(0)).isPresent();
        long looked = System.nanoTime();
        // A second, unrelated address: the first lookup after opening may pay for more than one page.
        boolean second = list.find(address(7_777)).isPresent();
        long secondDone = System.nanoTime();
        try {
            list.awaitIndex(java.time.Duration.ofMinutes(30));
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        long indexReady = System.nanoTime();
        result(metric, g -> {
            number(g, "index_ready_ms", (indexReady - start) / 1e6);
            number(g, "open_ms", (opened - start) / 1e6);
            number(g, "first_lookup_ms", (looked - opened) / 1e6);
            number(g, "second_lookup_ms", (secondDone - looked) / 1e6);
            number(g, "open_and_first_lookup_ms", (looked - start) / 1e6);
            g.writeBooleanField("first_found", found);
            g.writeBooleanField("second_found", second);
            g.writeStringField("index_from", list.indexSource());
            g.writeBooleanField("cold", cold);
            g.writeStringField("note", cold ? "the store's files were dropped from the operating system's cache first"
                    : "the file was just written, so the operating system's cache holds it");
        });
        if (cold) {
            startupColdMs = (looked - start) / 1e6;
        }
        return list;
    }

    /** What WebAdmin's list and count cost on a large list. */
    private void admin(SuppressionList list, String when) {
        long t0 = System.nanoTime();
        long all = list.count(Optional.empty());
        long t1 = System.nanoTime();
        long gmail = list.count(Optional.of("gmail.com"));
        long t2 = System.nanoTime();
        int page = list.list(Optional.of("gmail.com"), 0, 100).size();
        long t3 = System.nanoTime();
        int deepPage = list.list(Optional.of("gmail.com"), 100_000, 100).size();
        long t4 = System.nanoTime();
        result("admin", g -> {
            g.writeStringField("when", when);
            number(g, "count_all", all);
            number(g, "count_all_ms", (t1 - t0) / 1e6);
            number(g, "count_gmail", gmail);
            number(g, "count_gmail_ms", (t2 - t1) / 1e6);
            number(g, "list_gmail_first_100_ms", (t3 - t2) / 1e6);
            number(g, "list_gmail_offset_100000_ms", (t4 - t3) / 1e6);
            number(g, "pages", page + deepPage);
        });
    }

    private void lookups(SuppressionList list, long entries, double seconds) throws Exception {
        SplittableRandom r = new SplittableRandom(SEED ^ 42);
        String[] hits = new String[LOOKUP_POOL];
        String[] misses = new String[LOOKUP_POOL];
        for (int i = 0; i < LOOKUP_POOL; i++) {
            hits[i] = address(r.nextLong(entries));
            misses[i] = address(entries + r.nextLong(entries));
        }
        // The generator makes some addresses twice (a common name and few random characters), so about 0.5 % of
        // those drawn above the loaded indexes are listed after all; they are drawn again (from a random of their
        // own, so the rest of the pools stay as they were), so that the unlisted pool is unlisted and the relay
        // mix is the 2 % listed it says.
        SplittableRandom redraw = new SplittableRandom(SEED ^ 43);
        int redrawn = 0;
        for (int i = 0; i < LOOKUP_POOL; i++) {
            while (list.find(misses[i]).isPresent()) {
                misses[i] = address(entries + redraw.nextLong(entries));
                redrawn++;
            }
        }
        int listedAmongUnlisted = redrawn;
        result("lookup_pools", g -> {
            number(g, "pool", LOOKUP_POOL);
            number(g, "unlisted_drawn_again_because_listed", listedAmongUnlisted);
        });
        // The relay path: addresses as senders write them (a fifth in mixed case), 2% of them suppressed.
        String[] relay = new String[LOOKUP_POOL];
        int relayHits = 0;
        for (int i = 0; i < LOOKUP_POOL; i++) {
            boolean hit = r.nextInt(100) < 2;
            String a = hit ? hits[r.nextInt(LOOKUP_POOL)] : misses[r.nextInt(LOOKUP_POOL)];
            relayHits += hit ? 1 : 0;
            relay[i] = r.nextInt(5) == 0 ? mixedCase(a, r) : a;
        }
        int expectedRelayHits = relayHits;
        for (int threads : new int[] {1, 2}) {
            lookup(list, "hit", hits, threads, seconds, LOOKUP_POOL);
            lookup(list, "miss", misses, threads, seconds, 0);
            lookup(list, "relay", relay, threads, seconds, expectedRelayHits);
        }
    }

    private void lookup(SuppressionList list, String kind, String[] pool, int threads, double seconds,
                        int expectedFoundPerPool) throws Exception {
        measureLookups(list, pool, threads, seconds / 2); // warm-up
        long[] r = measureLookups(list, pool, threads, seconds);
        long lookups = r[0];
        double elapsed = r[1] / 1e9;
        long found = r[2];
        double cpuUs = r[3] / 1e3 / lookups;
        long[] latencies = Arrays.copyOfRange(r, HEADER, r.length);
        Arrays.sort(latencies);
        double perSecond = lookups / elapsed;
        System.err.printf(Locale.ROOT, "%-5s lookups, %d thread(s): %,10.0f/s  (found %,d of %,d)%n", kind, threads,
                perSecond, found, lookups);
        if ("relay".equals(kind) && threads == 1) {
            relayOneThreadPerSecond = perSecond;
        }
        result("lookup", g -> {
            g.writeStringField("kind", kind);
            g.writeStringField("method", "find");
            number(g, "threads", threads);
            number(g, "lookups", lookups);
            number(g, "lookups_per_s", perSecond);
            number(g, "us_per_lookup_per_thread", 1e6 * threads / perSecond);
            number(g, "thread_cpu_us_per_lookup", cpuUs);
            number(g, "latencies_timed_one_in", TIMED_ONE_IN);
            number(g, "p50_us", percentile(latencies, 0.50) / 1e3);
            number(g, "p99_us", percentile(latencies, 0.99) / 1e3);
            number(g, "found", found);
            number(g, "expected_found_share", (double) expectedFoundPerPool / pool.length);
            if ("miss".equals(kind)) {
                g.writeStringField("note", "addresses that are not listed (drawn again when the generator made a listed one)");
            }
        });
    }

    private static final int HEADER = 4;

    /** One look-up in this many is timed on its own, for the latencies; the others are counted only. */
    static final int TIMED_ONE_IN = 64;

    /**
     * {lookups, nanoseconds (the mean over threads), found, CPU nanoseconds of the threads, latency
     * samples...}. CPU time as well as wall time: other work on the machine slows the wall clock.
     *
     * <p>The rate is the loop's look-ups over its whole time, not a sum of timed look-ups: reading the
     * clock around every look-up cost about 150 to 230 ns a look-up here (the clock read waits for
     * the instructions before it, so one look-up's memory misses no longer overlap the next one's),
     * about a fifth of an unlisted address's look-up, which a relay calling {@code find} does not pay.
     * Every {@value #TIMED_ONE_IN}th look-up is timed alone for the latency figures, a fair sample
     * since the pool is drawn at random.
     */
    private static long[] measureLookups(SuppressionList list, String[] pool, int threads, double seconds)
            throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            List<Future<long[]>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final SplittableRandom random = new SplittableRandom(SEED + t);
                Callable<long[]> work = () -> {
                    long count = 0;
                    long found = 0;
                    long[] samples = new long[1 << 16];
                    long cpuStart = THREADS.getCurrentThreadCpuTime();
                    long start = System.nanoTime();
                    long now = start;
                    long timed = 0;
                    while (now < deadline) {
                        for (int k = 1; k < TIMED_ONE_IN; k++) {
                            found += list.find(pool[random.nextInt(pool.length)]).isPresent() ? 1 : 0;
                        }
                        String a = pool[random.nextInt(pool.length)];
                        long before = System.nanoTime();
                        found += list.find(a).isPresent() ? 1 : 0;
                        now = System.nanoTime();
                        // Reservoir of latencies: a fair sample whatever the run's length.
                        if (timed < samples.length) {
                            samples[(int) timed] = now - before;
                        } else {
                            long slot = random.nextLong(timed + 1);
                            if (slot < samples.length) {
                                samples[(int) slot] = now - before;
                            }
                        }
                        timed++;
                        count += TIMED_ONE_IN;
                    }
                    long[] out = new long[HEADER + (int) Math.min(timed, samples.length)];
                    out[0] = count;
                    out[1] = now - start;
                    out[2] = found;
                    out[3] = THREADS.getCurrentThreadCpuTime() - cpuStart;
                    System.arraycopy(samples, 0, out, HEADER, out.length - HEADER);
                    return out;
                };
                futures.add(executor.submit(work));
            }
            long count = 0;
            long nanos = 0;
            long found = 0;
            long cpu = 0;
            List<long[]> all = new ArrayList<>();
            for (Future<long[]> f : futures) {
                long[] r = f.get();
                count += r[0];
                nanos += r[1];
                found += r[2];
                cpu += r[3];
                all.add(r);
            }
            int samples = all.stream().mapToInt(r -> r.length - HEADER).sum();
            long[] out = new long[HEADER + samples];
            out[0] = count;
            out[1] = nanos / threads;
            out[2] = found;
            out[3] = cpu;
            int at = HEADER;
            for (long[] r : all) {
                System.arraycopy(r, HEADER, out, at, r.length - HEADER);
                at += r.length - HEADER;
            }
            return out;
        } finally {
            executor.shutdownNow();
        }
    }

    private static double percentile(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    }

    /** The entry for index {@code i}: a pure function of {@code i}. */
    static SuppressionEntry entry(long i) {
        SplittableRandom r = new SplittableRandom(SEED * 31 + i);
        String address = address(i);
        String[] outcome = OUTCOMES[r.nextInt(OUTCOMES.length)];
        int sourcePick = r.nextInt(100);
        SuppressionEntry.Source source = sourcePick < 60 ? SuppressionEntry.Source.LIVE_REPLY
                : sourcePick < 95 ? SuppressionEntry.Source.BOUNCE : SuppressionEntry.Source.MANUAL;
        Instant since = NEWEST.minusSeconds(r.nextLong(THREE_YEARS_S));
        if (source == SuppressionEntry.Source.MANUAL) {
            return SuppressionEntry.of(address, since, "manual", "", "manual", source, Optional.empty());
        }
        // Some servers name the recipient in the reply, most do not.
        String reply = r.nextBoolean() ? outcome[2] : outcome[2].replaceFirst(" ", " <" + address + ">: ");
        String messageId = "<" + Long.toHexString(r.nextLong()) + "." + Long.toHexString(r.nextLong() & 0xffffff)
                + "@mail.sender.example>";
        return SuppressionEntry.of(address, since, outcome[0], reply, outcome[1], source, Optional.of(messageId));
    }

    /** Address {@code i}, lower case; indexes at or above the loaded count give addresses that were not loaded. */
    static String address(long i) {
        SplittableRandom r = new SplittableRandom(SEED + i * 0x9E3779B97F4A7C15L);
        StringBuilder local = new StringBuilder(32);
        int style = r.nextInt(10);
        if (style < 4) {
            local.append(FIRST[r.nextInt(FIRST.length)]).append(r.nextBoolean() ? '.' : '_')
                    .append(LAST[r.nextInt(LAST.length)]);
            appendRandom(local, r, 2 + r.nextInt(5));
        } else if (style < 6) {
            local.append(FIRST[r.nextInt(FIRST.length)].charAt(0)).append(LAST[r.nextInt(LAST.length)]);
            appendRandom(local, r, 3 + r.nextInt(5));
        } else {
            appendRandom(local, r, 7 + r.nextInt(9));
        }
        return local.append('@').append(domain(r)).toString();
    }

    private static void appendRandom(StringBuilder sb, SplittableRandom r, int n) {
        for (int k = 0; k < n; k++) {
            sb.append(ALNUM[r.nextInt(ALNUM.length)]);
        }
    }

    private static String domain(SplittableRandom r) {
        double u = r.nextDouble();
        for (int k = 0; k < BIG_DOMAINS.length; k++) {
            u -= BIG_SHARES[k];
            if (u < 0) {
                return BIG_DOMAINS[k];
            }
        }
        // The tail: a few tens of thousands of company and small-provider domains, skewed to the first.
        int d = (int) (TAIL_DOMAINS * Math.pow(r.nextDouble(), 2));
        return "mail" + d + "-example" + TAIL_SUFFIXES[d % TAIL_SUFFIXES.length];
    }

    private static String mixedCase(String address, SplittableRandom r) {
        int at = address.indexOf('@');
        String local = address.substring(0, at);
        String domain = address.substring(at + 1);
        String l = Character.toUpperCase(local.charAt(0)) + local.substring(1);
        String d = r.nextBoolean() ? domain.toUpperCase(Locale.ROOT)
                : Character.toUpperCase(domain.charAt(0)) + domain.substring(1);
        return l + "@" + d;
    }

    private long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static long fileBytes(Path file) {
        return file.toFile().length();
    }

    /**
     * Drops the store's files from the operating system's page cache (posix_fadvise DONTNEED, through
     * python3: Java has no call for it), so the next open reads them from disk as after a reboot.
     * Only these files: the machine's other work keeps its cache. False if it could not be done.
     */
    private static boolean evictFromPageCache(Path fileBase) {
        try (Stream<Path> files = Files.list(fileBase.getParent())) {
            List<String> command = new ArrayList<>(List.of("python3", "-c",
                    "import os,sys\nfor p in sys.argv[1:]:\n fd=os.open(p,os.O_RDONLY); os.fsync(fd);"
                            + " os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)"));
            files.filter(p -> p.getFileName().toString().startsWith(fileBase.getFileName().toString()))
                    .forEach(p -> command.add(p.toString()));
            Process p = new ProcessBuilder(command).inheritIO().start();
            return p.waitFor() == 0;
        } catch (IOException e) {
            System.err.println("cannot drop the store from the page cache: " + e);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static long storeBytes(Path fileBase) {
        try (Stream<Path> files = Files.list(fileBase.getParent())) {
            return files.filter(p -> p.getFileName().toString().startsWith(fileBase.getFileName().toString()))
                    .mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whole numbers as they are; fractions rounded to what the measurement can tell. */
    private static void number(JsonGenerator g, String name, Number value) throws IOException {
        if (value instanceof Double || value instanceof Float) {
            double v = value.doubleValue();
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                g.writeNullField(name);
            } else if (Math.abs(v) >= 100) {
                g.writeNumberField(name, Math.round(v));
            } else {
                g.writeNumberField(name, BigDecimal.valueOf(v).setScale(Math.abs(v) >= 1 ? 2 : 4, RoundingMode.HALF_UP));
            }
        } else {
            g.writeNumberField(name, value.longValue());
        }
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private void result(String metric, Fields fields) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = json.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("benchmark", "suppression");
            g.writeStringField("metric", metric);
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        results.add(out.toString());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
