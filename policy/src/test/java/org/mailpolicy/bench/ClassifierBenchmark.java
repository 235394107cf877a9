package org.mailpolicy.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;
import org.mailpolicy.rules.Classification;
import org.mailpolicy.rules.ReplyClassifier;

/**
 * Classifications per second for a realistic mix of failure replies (parse + classify, the work
 * the mailet does per failed recipient). A plain harness in the JMH style: warm-up, then timed
 * iterations, a sink against dead-code elimination. Not a test: run it with
 * {@code bin/bench classify}; {@code mvn test} never runs it. Progress goes to standard error, the
 * result to standard output, last, as one JSON object like the other benchmarks'. Besides
 * classifications per second of wall time it gives them per second of the threads' CPU time, which
 * other work on a shared machine disturbs less.
 *
 * <p>It measures the built-in rules, then a set twice as large ({@link SyntheticRules}: a variant of
 * every rule), to show how the figure holds as rules are added.
 *
 * <p>Arguments: {@code [seconds per iteration] [iterations] [threads]}, default 2 5 1.
 */
public final class ClassifierBenchmark {
    /**
     * The mix: AOL policy codes, AOL mailer-daemon replies, field reports, large receivers, common
     * servers, multi-line replies, wrapped replies and replies without a code, roughly in the
     * proportions a bulk sender meets them (throttles and unknown users dominate).
     */
    static final List<String> MIX = Arrays.asList(
            "421 4.7.1 : (DYN:T1)",
            "421 4.7.1 : (DYN:T1)",
            "421 4.7.1 : (DYN:T1)",
            "421 RLY:NW",
            "554 RLY:B1 http://postmaster.info.aol.com/errors/554rlyb1.html",
            "554 RTR:GE",
            "521 5.2.1 : (CON:B1) http://postmaster.info.aol.com/errors/554conb1.html",
            "550 MAILBOX NOT FOUND",
            "550 MAILBOX NOT FOUND",
            "500 5.1.1 : Recipient address rejected: aol.com",
            "5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND'",
            "552 Mailbox full",
            "SMTP error from remote mail server after RCPT TO:<someone@aol.com>: 550 MAILBOX NOT FOUND",
            "delivery temporarily suspended: host mx.aol.com[64.12.88.1] refused to talk to me: 421 Service unavailable - try again later",
            "failed after I sent the message. Remote host said: 521 5.2.1 \"TempFail\"",
            "554 ESMTP not accepting connections",
            "421 4.7.0 Error: too many errors",
            "421-4.7.28 [203.0.113.9] Our system has detected an unusual rate of\r\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n421 4.7.28 users from spam, mail sent from your IP address has been temporarily rate limited.",
            "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser",
            "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n450 4.2.1 prevents additional messages from being delivered.",
            "421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected volume or user complaints",
            "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1.mail.ne1.yahoo.com",
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "451 4.7.500 Server busy. Please try again later from [203.0.113.9]. (S77714)",
            "550 5.1.1 <someone@example.com>: Recipient address rejected: User unknown in local recipient table",
            "554 5.7.1 <someone@example.com>: Relay access denied",
            "421 4.7.0 mx.example.com Error: too many connections from 203.0.113.9",
            "550 Sorry, no mailbox here by that name. (#5.1.1)",
            "554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org",
            "com.sun.mail.smtp.SMTPAddressFailedException: 452 4.2.2 The email account that you tried to reach is over quota.",
            "Could not connect to SMTP host: mx.aol.com, port: 25, response: 421",
            "javax.mail.MessagingException: Could not connect to SMTP host: mx.example.com, port: 25; nested exception is: java.net.ConnectException: Connection refused",
            "Read timed out",
            "java.net.UnknownHostException: mx.example.invalid",
            "Connection reset");

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final int BATCH = 256;

    private ClassifierBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        ReplyClassifier builtIn = ReplyClassifier.builtIn();
        ReplyClassifier doubled = SyntheticRules.doubledClassifier();
        requireSameAnswers(builtIn, doubled);
        System.err.printf(Locale.ROOT, "mix: %d replies; %d thread(s); %d x %.1f s after %.1f s warm-up, for %d rules"
                + " (built-in), then %d (each with a synthetic variant)%n", MIX.size(), threads, iterations, seconds,
                seconds * 2, builtIn.rules().size(), doubled.rules().size());
        System.err.printf(Locale.ROOT, "java %s on %s, %d cores%n", System.getProperty("java.version"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors());

        double[] first = measure(builtIn, seconds, iterations, threads);
        double[] second = measure(doubled, seconds, iterations, threads);
        StringWriter json = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(json)) {
            g.writeStartObject();
            g.writeStringField("benchmark", "classify");
            g.writeNumberField("threads", threads);
            g.writeNumberField("rules", builtIn.rules().size());
            g.writeNumberField("mix", MIX.size());
            g.writeNumberField("iterations", iterations);
            g.writeNumberField("secondsPerIteration", seconds);
            g.writeNumberField("perSecond", Math.round(first[0]));
            g.writeNumberField("minPerSecond", Math.round(first[1]));
            g.writeNumberField("maxPerSecond", Math.round(first[2]));
            g.writeNumberField("microsEach", Math.round(1e8 * threads / first[0]) / 100.0);
            g.writeNumberField("perCpuSecond", Math.round(first[3]));
            g.writeNumberField("doubledRules", doubled.rules().size());
            g.writeNumberField("doubledPerSecond", Math.round(second[0]));
            g.writeNumberField("doubledMinPerSecond", Math.round(second[1]));
            g.writeNumberField("doubledMaxPerSecond", Math.round(second[2]));
            g.writeNumberField("doubledPerCpuSecond", Math.round(second[3]));
            g.writeStringField("java", System.getProperty("java.version"));
            g.writeNumberField("cores", Runtime.getRuntime().availableProcessors());
            g.writeEndObject();
        }
        System.out.println(json);
    }

    /** The synthetic variants never win: both classifiers decide every reply of the mix alike. */
    private static void requireSameAnswers(ReplyClassifier builtIn, ReplyClassifier doubled) {
        for (String reply : MIX) {
            Classification a = builtIn.classify(SmtpReply.parse(reply, Stage.RCPT));
            Classification b = doubled.classify(SmtpReply.parse(reply, Stage.RCPT));
            if (!a.ruleId().equals(b.ruleId()) || a.action() != b.action() || !a.reason().equals(b.reason())) {
                throw new IllegalStateException("the doubled rules decide '" + reply + "' as " + b.ruleId()
                        + ", the built-in rules as " + a.ruleId());
            }
        }
    }

    /** Warm-up, then the timed iterations: {mean, min, max per second of wall time, mean per CPU second}. */
    private static double[] measure(ReplyClassifier classifier, double seconds, int iterations, int threads)
            throws Exception {
        System.err.printf(Locale.ROOT, "%d rules:%n", classifier.rules().size());
        run("warm-up", classifier, seconds * 2, threads);
        double sum = 0;
        double min = Double.MAX_VALUE;
        double max = 0;
        double cpuSum = 0;
        for (int i = 0; i < iterations; i++) {
            double[] r = run("iteration " + (i + 1), classifier, seconds, threads);
            sum += r[0];
            min = Math.min(min, r[0]);
            max = Math.max(max, r[0]);
            cpuSum += r[1];
        }
        double perSecond = sum / iterations;
        double perCpuSecond = cpuSum / iterations;
        System.err.printf(Locale.ROOT, "RESULT (%d rules): %.0f classifications/s (min %.0f, max %.0f), %.2f us each,"
                + " parse + classify; %.0f per CPU second of the benchmark's threads%n", classifier.rules().size(),
                perSecond, min, max, 1e6 * threads / perSecond, perCpuSecond);
        return new double[] {perSecond, min, max, perCpuSecond};
    }

    /**
     * BATCH classifications from the mix, starting at {@code from}. A method of its own, called again
     * and again, so that the JIT compiles it as it compiles the mailet's calls to the classifier, and
     * not as one long loop entered once (on-stack replacement), which inlines less.
     */
    private static long batch(ReplyClassifier classifier, int from) {
        long sink = 0;
        for (int k = 0; k < BATCH; k++) {
            String reply = MIX.get((from + k) % MIX.size());
            Classification c = classifier.classify(SmtpReply.parse(reply, Stage.RCPT));
            sink += c.action().ordinal() + c.ruleId().length();
        }
        return sink;
    }

    /** Classifications per second of wall time and per second of the threads' CPU time, summed over threads. */
    private static double[] run(String label, ReplyClassifier classifier, double seconds, int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            List<Future<long[]>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int offset = t * 7;
                Callable<long[]> work = () -> {
                    long count = 0;
                    long sink = 0;
                    int i = offset;
                    long start = System.nanoTime();
                    long cpuStart = CPU.getCurrentThreadCpuTime();
                    long now = start;
                    while (now < deadline) {
                        // check the clock every BATCH classifications so timing stays out of the figure
                        sink += batch(classifier, i);
                        i += BATCH;
                        count += BATCH;
                        now = System.nanoTime();
                    }
                    return new long[] {count, now - start, sink, CPU.getCurrentThreadCpuTime() - cpuStart};
                };
                futures.add(pool.submit(work));
            }
            double total = 0;
            double perCpu = 0;
            long sink = 0;
            for (Future<long[]> f : futures) {
                long[] r = f.get();
                total += r[0] / (r[1] / 1e9);
                perCpu += r[0] / (Math.max(1, r[3]) / 1e9);
                sink += r[2];
            }
            System.err.printf(Locale.ROOT, "%-12s %,12.0f classifications/s  %,12.0f per CPU second  (sink %d)%n", label,
                    total, perCpu, sink % 1000);
            return new double[] {total, perCpu};
        } finally {
            pool.shutdownNow();
        }
    }
}
