package org.mailpolicy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import java.util.TreeMap;

import javax.mail.internet.InternetHeaders;
import javax.mail.internet.MimeMessage;

import org.apache.mailet.Attribute;
import org.apache.mailet.Mail;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailpolicy.fakeaol.Mode;
import org.mailpolicy.fakeaol.ModeSetting;
import org.mailpolicy.fakeaol.ReplyStage;
import org.mailpolicy.fakeaol.ReceivedMessage;
import org.mailpolicy.fakeaol.RecipientReply;
import org.mailpolicy.fakeaol.Transaction;
import org.mailpolicy.james.dsn.ReportAttribute;
import org.mailpolicy.report.DeliveryReport;
import org.mailpolicy.report.DsnAction;
import org.mailpolicy.report.RecipientReport;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Accounting under every kind of trouble: a few hundred messages (several recipients each, of every fake AOL scenario,
 * some from the null sender) are sent while the fake goes through every mode, CHAOS's random 4xx/5xx replies included.
 * Once James has nothing left to do, every recipient of every message must be accounted for exactly once: delivered at
 * the fake, failed in a DSN to its sender, or (null sender) in the error repository. Delay warnings are not outcomes.
 *
 * <p>The one exception SMTP cannot avoid: when a connection is lost after the final dot and before the reply, the
 * server may have taken the message while the client must assume it did not, and delivering again is the safe choice
 * (RFC 1047). Such a recipient may be counted twice, and only such a recipient.
 *
 * <p>System properties: {@code nothingLost.seed} (default 20240607) picks the messages, their recipients and CHAOS's
 * replies; {@code nothingLost.messages} (default 240) how many messages; {@code nothingLost.concurrency} (default 10)
 * the destination's concurrency.
 */
class NothingLostTest {
    private static final long SEED = Long.getLong("nothingLost.seed", 20240607L);
    private static final int MESSAGES = Integer.getInteger("nothingLost.messages", 240);
    /** The aol destination's concurrency; see {@link #boot()}. */
    private static final int CONCURRENCY = Integer.getInteger("nothingLost.concurrency", 10);
    /** Every message reaches an outcome by then: delivered, bounced, or expired with 4.4.7. */
    private static final Duration MAX_AGE = Duration.ofSeconds(30);
    private static final Duration SMTP_TIMEOUT = Duration.ofSeconds(3);
    /** After the last message is sent: its maximum age, the longest hold (8 s), and room for a loaded machine. */
    private static final Duration SETTLE_TIMEOUT = MAX_AGE.plusSeconds(90);
    /** Queues empty this long with recipients still unaccounted for: they are lost, no need to wait any longer. */
    private static final Duration LOST_AFTER_IDLE = Duration.ofSeconds(15);
    private static final String NULL_SENDER_FROM = "mailer-daemon@sandbox.test";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static PluginEnvironment env;

    @BeforeAll
    static void boot() throws Exception {
        env = PluginEnvironment.start(
                // Concurrency as high as the delivery threads (10). With the test policy's 2, a backlog of a few hundred
                // mails drains a few mails per busy wait (10 s): the refused ones are all due again at the same instant,
                // two win, the rest wait 10 s more; the test would measure that convoy instead of the accounting.
                policy -> policy.replace("maxAge: 60s", "maxAge: " + MAX_AGE.toSeconds() + "s")
                        .replace("delayWarning: 50s", "delayWarning: 12s")
                        .replace("concurrency: 2", "concurrency: " + CONCURRENCY),
                mailets -> replaceOnce(replaceOnce(mailets, "<timeout>180000</timeout>",
                                "<timeout>" + SMTP_TIMEOUT.toMillis() + "</timeout>"),
                        "<connectiontimeout>60000</connectiontimeout>",
                        "<connectiontimeout>" + SMTP_TIMEOUT.toMillis() + "</connectiontimeout>"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (env != null) {
            env.close();
        }
    }

    /** One phase of the fake's cycle: a mode and how long it lasts while messages keep coming. */
    private record Phase(ModeSetting mode, Duration length) {
    }

    /** A message as sent: its Message-ID, whether from the null sender, its recipients (lower case). */
    private record Sent(String messageId, String subject, boolean nullSender, List<String> recipients) {
    }

    /** What became of one recipient of one message. */
    private static final class Fate {
        int delivered;
        int dsnFailed;
        int errorRepository;

        int total() {
            return delivered + dsnFailed + errorRepository;
        }

        @Override
        public String toString() {
            return "delivered " + delivered + ", DSN-failed " + dsnFailed + ", error repository " + errorRepository;
        }
    }

    @Test
    void everyRecipientOfEveryMessageIsAccountedForExactlyOnce() throws Exception {
        env.reset();
        Instant start = Instant.now();
        Random random = new Random(SEED);
        // Throttling modes hold the destination (4 to 8 s, then a probe), so the modes that need traffic to show come
        // first and CHAOS last and longest; the bouncing modes are short, as every attempt in them bounces all its mail.
        List<Phase> cycle = List.of(
                new Phase(ModeSetting.normal(), Duration.ofSeconds(4)),
                new Phase(ModeSetting.of(Mode.CHAOS).seed(SEED), Duration.ofSeconds(16)),
                new Phase(ModeSetting.of(Mode.DROP_IN_DATA), Duration.ofSeconds(5)),
                new Phase(ModeSetting.of(Mode.SLOW).delay(SMTP_TIMEOUT.plusMillis(1500)), Duration.ofSeconds(5)),
                new Phase(ModeSetting.of(Mode.RTR_BB), Duration.ofSeconds(2)),
                new Phase(ModeSetting.of(Mode.CON_B1), Duration.ofSeconds(2)),
                // As long as the longest hold (8 s), so that the probe at the end of the previous hold meets this mode.
                new Phase(ModeSetting.of(Mode.DOWN), Duration.ofSeconds(8)),
                new Phase(ModeSetting.of(Mode.DYN_T1), Duration.ofSeconds(8)),
                new Phase(ModeSetting.of(Mode.RLY_NW).perMinute(2), Duration.ofSeconds(8)),
                new Phase(ModeSetting.of(Mode.RATE_LIMIT).perMinute(3), Duration.ofSeconds(8)),
                // Another provider's words: Microsoft's connection limit at MAIL FROM, which holds nothing.
                new Phase(ModeSetting.replying("451 4.7.652 The mail server [127.0.0.1] has exceeded the maximum"
                        + " number of connections. (S3115)", ReplyStage.MAIL), Duration.ofSeconds(4)),
                new Phase(ModeSetting.of(Mode.CHAOS).seed(SEED + 1), Duration.ofSeconds(20)));
        // DIRECTORY_OUTAGE bounces and suppresses everyone until the guard trips: DirectoryOutageTest follows it alone.
        assertThat(cycle.stream().map(p -> p.mode().mode()).distinct()).as("every mode of the fake but one")
                .containsExactlyInAnyOrder(Stream.of(Mode.values()).filter(m -> m != Mode.DIRECTORY_OUTAGE)
                        .toArray(Mode[]::new));

        List<Sent> sent = new ArrayList<>();
        int perPhase = (MESSAGES + cycle.size() - 1) / cycle.size();
        for (Phase phase : cycle) {
            env.aol.setMode(phase.mode());
            Instant phaseEnd = Instant.now().plus(phase.length());
            for (int i = 0; i < perPhase && sent.size() < MESSAGES; i++) {
                sent.add(sendOne(sent.size(), random));
                // Spread the phase's messages over its length (pacing the sender, not waiting for an outcome).
                long left = Duration.between(Instant.now(), phaseEnd).toMillis();
                int remaining = perPhase - i - 1;
                if (remaining > 0 && left > 0) {
                    Thread.sleep(left / (remaining + 1));
                }
            }
            long rest = Duration.between(Instant.now(), phaseEnd).toMillis();
            if (rest > 0) {
                Thread.sleep(rest);
            }
        }
        env.aol.setMode(Mode.NORMAL);
        Instant allSent = Instant.now();

        Accounting accounting = awaitFixedPoint(sent, Duration.between(start, allSent));
        accounting.print(Duration.between(start, allSent), Duration.between(allSent, Instant.now()), "LOST");

        assertThat(accounting.chaosReplies).as("CHAOS's random replies met").isPositive();
        assertThat(accounting.receivedWithoutReply).as("transactions that lost their end-of-data reply").isPositive();
        assertThat(accounting.anomalies).as("mails that should not exist").isEmpty();
        assertThat(accounting.lost).as("recipients with no outcome at all").isEmpty();
        assertThat(accounting.unexplainedDuplicates).as("recipients counted twice without a lost end-of-data reply")
                .isEmpty();
    }

    private Sent sendOne(int n, Random random) throws Exception {
        int count = 1 + random.nextInt(4);
        List<String> recipients = new ArrayList<>();
        for (int j = 0; recipients.size() < count; j++) {
            String recipient = recipient(n, j, random);
            if (!recipients.contains(recipient)) {
                recipients.add(recipient);
            }
        }
        boolean nullSender = random.nextInt(100) < 15;
        String subject = "nothing-lost " + SEED + " #" + n;
        String[] to = recipients.toArray(String[]::new);
        String messageId = nullSender
                ? env.client().sendWithNullSender(NULL_SENDER_FROM, subject, "A null-sender message, #" + n, to)
                : env.send(subject, to);
        return new Sent(messageId, subject, nullSender, recipients);
    }

    /** Each recipient of its own (unique address), except a few shared unknown users that end up suppressed. */
    private static String recipient(int message, int index, Random random) {
        int roll = random.nextInt(100);
        String domain = random.nextInt(10) == 0 ? "aim.com" : "aol.com";
        String unique = "m" + message + "r" + index + "@" + domain;
        if (roll < 40) {
            return "ok-" + unique;
        }
        if (roll < 55) {
            return "flaky-" + unique;
        }
        if (roll < 65) {
            return "unknown-" + unique;
        }
        if (roll < 72) {
            return "rejected-" + unique;
        }
        if (roll < 80) {
            return "full-" + unique;
        }
        if (roll < 85) {
            return "hvu-" + unique;
        }
        return "unknown-shared" + random.nextInt(4) + "@aol.com";
    }

    /**
     * Polls until James's queues are empty and every recipient is accounted for, then looks once more a moment later, so
     * that a late duplicate is seen too. Fails early if the queues stay empty with recipients still missing.
     */
    private static Accounting awaitFixedPoint(List<Sent> sent, Duration sending) throws Exception {
        Instant deadline = Instant.now().plus(SETTLE_TIMEOUT);
        Instant idleSince = null;
        Accounting last = null;
        while (true) {
            boolean idle = queueSize("spool") == 0 && queueSize("outgoing") == 0;
            if (idle) {
                idleSince = idleSince == null ? Instant.now() : idleSince;
                last = Accounting.of(sent);
                if (last.lost.isEmpty()) {
                    Thread.sleep(2_000);
                    if (queueSize("spool") == 0 && queueSize("outgoing") == 0) {
                        return Accounting.of(sent);
                    }
                } else if (Duration.between(idleSince, Instant.now()).compareTo(LOST_AFTER_IDLE) > 0) {
                    return last;
                }
            } else {
                idleSince = null;
            }
            if (Instant.now().isAfter(deadline)) {
                Accounting now = Accounting.of(sent);
                now.print(sending, SETTLE_TIMEOUT, "NOT ACCOUNTED FOR YET");
                throw new AssertionError("James did not settle within " + SETTLE_TIMEOUT.toSeconds()
                        + " s of the last message: spool " + queueSize("spool") + ", outgoing " + queueSize("outgoing")
                        + " mail(s) queued; " + now.lost.size() + " recipient(s) not accounted for yet");
            }
            Thread.sleep(1_000);
        }
    }

    private static long queueSize(String queue) throws Exception {
        // Not /mailQueues/{name}/mails: in James 3.8.1 that route disposes the memory queue's dequeuing.
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + env.james().webAdminPort() + "/mailQueues/" + queue)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 404) {
            return 0;
        }
        if (response.statusCode() != 200) {
            throw new AssertionError("GET /mailQueues/" + queue + ": " + response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body()).get("size").asLong();
    }

    /** Every recipient's fate, from the fake's messages, alice's DSNs and the error repository. */
    private static final class Accounting {
        final Map<String, Map<String, Fate>> fates = new LinkedHashMap<>();
        final List<String> lost = new ArrayList<>();
        final List<String> allowedDuplicates = new ArrayList<>();
        final List<String> unexplainedDuplicates = new ArrayList<>();
        final List<String> anomalies = new ArrayList<>();
        final Map<String, Integer> droppedEndOfData = new TreeMap<>();
        int messages;
        int nullSenderMessages;
        int recipients;
        int delivered;
        int dsnFailed;
        int errorRepository;
        int delayWarnings;
        int dsnMails;
        int errorRepositoryMails;
        int receivedMessages;
        int receivedWithoutReply;
        int chaosReplies;
        List<Transaction> transactions = List.of();

        static Accounting of(List<Sent> sent) throws Exception {
            Accounting a = new Accounting();
            a.count(sent);
            return a;
        }

        private void count(List<Sent> sent) throws Exception {
            Map<String, Sent> byId = new LinkedHashMap<>();
            for (Sent s : sent) {
                byId.put(normalizeId(s.messageId()), s);
                Map<String, Fate> perRecipient = new LinkedHashMap<>();
                for (String r : s.recipients()) {
                    perRecipient.put(r, new Fate());
                }
                fates.put(normalizeId(s.messageId()), perRecipient);
                messages++;
                nullSenderMessages += s.nullSender() ? 1 : 0;
                recipients += s.recipients().size();
            }

            transactions = env.aol.transactions();
            for (Transaction t : transactions) {
                if (lostEndOfDataReply(t)) {
                    for (RecipientReply r : t.recipients()) {
                        if (r.reply().startsWith("2")) {
                            droppedEndOfData.merge(r.address().toLowerCase(Locale.ROOT), 1, Integer::sum);
                        }
                    }
                }
            }

            for (ReceivedMessage m : env.aol.messages()) {
                receivedMessages++;
                Optional<Sent> s = m.messageId().map(NothingLostTest::normalizeId).map(byId::get);
                if (s.isEmpty()) {
                    anomalies.add("the fake received a message that was not sent by this test: " + m);
                    continue;
                }
                for (String r : m.recipients()) {
                    fate(s.get(), r, "delivered at the fake").ifPresent(f -> f.delivered++);
                }
            }
            receivedWithoutReply = (int) transactions.stream().filter(t -> lostEndOfDataReply(t)).count();
            chaosReplies = (int) transactions.stream()
                    .flatMap(t -> java.util.stream.Stream.concat(t.recipients().stream().map(RecipientReply::reply),
                            t.dataReply().stream()))
                    .filter(reply -> reply.endsWith("(chaos)"))
                    .count();

            for (MimeMessage message : env.inbox()) {
                if (!Dsns.isReport(message)) {
                    anomalies.add("not a DSN in alice's INBOX: " + message.getSubject());
                    continue;
                }
                dsnMails++;
                String inReplyTo = Optional.ofNullable(message.getHeader("In-Reply-To", null)).map(NothingLostTest::normalizeId)
                        .orElse("");
                Sent s = byId.get(inReplyTo);
                if (s == null) {
                    anomalies.add("a DSN about no message of this test (In-Reply-To " + inReplyTo + "): "
                            + message.getSubject());
                    continue;
                }
                if (s.nullSender()) {
                    anomalies.add("a DSN about null-sender message " + s.subject() + ": " + message.getSubject());
                }
                for (InternetHeaders fields : Dsns.status(message).perRecipient()) {
                    String action = Optional.ofNullable(fields.getHeader("Action", null)).orElse("").trim();
                    String recipient = address(fields.getHeader("Final-Recipient", null));
                    if (action.equalsIgnoreCase("delayed")) {
                        delayWarnings++;
                    } else if (action.equalsIgnoreCase("failed")) {
                        fate(s, recipient, "failed in a DSN").ifPresent(f -> f.dsnFailed++);
                    } else {
                        anomalies.add("DSN about " + s.subject() + " with Action " + action + " for " + recipient);
                    }
                }
            }

            for (Mail mail : env.errorRepository()) {
                errorRepositoryMails++;
                String id = normalizeId(mail.getMessage().getMessageID());
                Sent s = byId.get(id);
                if (s == null) {
                    anomalies.add("error repository: a mail of no message of this test: " + mail.getName() + " "
                            + mail.getRecipients());
                    continue;
                }
                if (!s.nullSender()) {
                    anomalies.add("error repository: " + s.subject() + " has a sender, who should have had a DSN: "
                            + mail.getName() + " " + mail.getRecipients());
                }
                Optional<DeliveryReport> report = mail.getAttribute(ReportAttribute.NAME).map(Attribute::getValue)
                        .map(v -> DeliveryReport.fromJson((String) v.value()));
                for (var r : mail.getRecipients()) {
                    Optional<DsnAction> action = report.flatMap(rep -> rep.recipients().stream()
                            .filter(rr -> rr.finalRecipient().equalsIgnoreCase(r.asString()))
                            .map(RecipientReport::action).findFirst());
                    if (action.isPresent() && action.get() != DsnAction.FAILED) {
                        anomalies.add("error repository: " + s.subject() + " kept for " + r.asString() + " with action "
                                + action.get() + ", not a final failure");
                        continue;
                    }
                    fate(s, r.asString(), "in the error repository").ifPresent(f -> f.errorRepository++);
                }
            }

            for (Map.Entry<String, Map<String, Fate>> message : fates.entrySet()) {
                Sent s = byId.get(message.getKey());
                for (Map.Entry<String, Fate> e : message.getValue().entrySet()) {
                    Fate f = e.getValue();
                    delivered += f.delivered;
                    dsnFailed += f.dsnFailed;
                    errorRepository += f.errorRepository;
                    String who = s.subject() + (s.nullSender() ? " (null sender)" : "") + " " + e.getKey() + ": " + f;
                    if (f.total() == 0) {
                        lost.add(who);
                    } else if (f.total() > 1) {
                        int dropped = droppedEndOfData.getOrDefault(e.getKey(), 0);
                        boolean explained = dropped >= f.total() - 1 && f.dsnFailed + f.errorRepository <= 1;
                        (explained ? allowedDuplicates : unexplainedDuplicates).add(
                                who + "; end-of-data replies lost: " + dropped);
                    }
                }
            }
        }

        /** The fate of one recipient of {@code s}, or empty (and an anomaly) if it is not one of its recipients. */
        private Optional<Fate> fate(Sent s, String recipient, String what) {
            Fate f = fates.get(normalizeId(s.messageId())).get(recipient.toLowerCase(Locale.ROOT));
            if (f == null) {
                anomalies.add(s.subject() + ": " + recipient + " " + what + " but was never a recipient");
            }
            return Optional.ofNullable(f);
        }

        /** @param missing how to label a recipient with no outcome: lost, or not there yet */
        void print(Duration sending, Duration settling, String missing) {
            Map<String, Integer> replies = new TreeMap<>();
            for (Transaction t : transactions) {
                String greeting = t.connectReply().startsWith("220") ? "220" : firstLine(t.connectReply());
                replies.merge("connect " + greeting + (t.connectReply().startsWith("220") && t.mailFrom().isEmpty()
                        ? " (no MAIL: the client gave up waiting, or had nothing to send)" : ""), 1, Integer::sum);
                t.mailFromReply().ifPresent(r -> replies.merge("MAIL " + firstLine(r), 1, Integer::sum));
                for (RecipientReply r : t.recipients()) {
                    replies.merge("RCPT " + firstLine(r.reply()), 1, Integer::sum);
                }
                if (t.recipients().stream().anyMatch(r -> r.reply().startsWith("2"))) {
                    replies.merge("end of DATA " + t.dataReply().map(NothingLostTest::firstLine).orElse("(no reply)"), 1,
                            Integer::sum);
                }
            }
            StringBuilder out = new StringBuilder();
            out.append("\n==== NothingLostTest seed ").append(SEED).append(": sending ").append(sending.toSeconds())
                    .append(" s, settling ").append(settling.toSeconds()).append(" s ====\n");
            out.append(String.format(Locale.ROOT,
                    "messages %d (null sender %d); sent recipients %d; delivered %d; DSN-failed %d; error-repository %d;"
                            + " lost %d; duplicates %d (after a lost end-of-data reply %d, unexplained %d)%n",
                    messages, nullSenderMessages, recipients, delivered, dsnFailed, errorRepository, lost.size(),
                    allowedDuplicates.size() + unexplainedDuplicates.size(), allowedDuplicates.size(),
                    unexplainedDuplicates.size()));
            out.append(String.format(Locale.ROOT,
                    "fake: %d transactions, %d messages received, %d transactions without an end-of-data reply,"
                            + " %d CHAOS replies; alice: %d DSNs (%d delay warnings); error repository: %d mails%n",
                    transactions.size(), receivedMessages, receivedWithoutReply, chaosReplies, dsnMails, delayWarnings,
                    errorRepositoryMails));
            replies.forEach((reply, n) -> out.append(String.format(Locale.ROOT, "  %5d  %s%n", n, reply)));
            for (String line : lost) {
                out.append(missing).append(' ').append(line).append('\n');
            }
            for (String line : unexplainedDuplicates) {
                out.append("DUPLICATE ").append(line).append('\n');
            }
            for (String line : allowedDuplicates) {
                out.append("duplicate after a lost end-of-data reply: ").append(line).append('\n');
            }
            for (String line : anomalies) {
                out.append("ANOMALY ").append(line).append('\n');
            }
            System.out.println(out);
        }
    }

    /**
     * A transaction whose server took the recipients, then closed without answering the end of DATA (DROP_IN_DATA, or
     * CHAOS keeping the message): whether the message was taken is unknown to the client. A 421 to a RCPT also closes
     * without a data reply, but nothing was sent then.
     */
    private static boolean lostEndOfDataReply(Transaction t) {
        return t.mailFromReply().map(r -> r.startsWith("2")).orElse(false)
                && t.recipients().stream().anyMatch(r -> r.reply().startsWith("2"))
                && t.recipients().stream().noneMatch(r -> r.reply().startsWith("421"))
                && t.dataReply().isEmpty();
    }

    private static String address(String finalRecipient) {
        if (finalRecipient == null) {
            return "";
        }
        int semicolon = finalRecipient.indexOf(';');
        return finalRecipient.substring(semicolon + 1).trim().toLowerCase(Locale.ROOT);
    }

    private static String normalizeId(String messageId) {
        return messageId == null ? "" : messageId.trim();
    }

    private static String firstLine(String reply) {
        int newline = reply.indexOf('\n');
        return newline < 0 ? reply : reply.substring(0, newline);
    }

    private static String replaceOnce(String text, String literal, String replacement) {
        int at = text.indexOf(literal);
        if (at < 0 || text.indexOf(literal, at + 1) >= 0) {
            throw new IllegalStateException("config/mailetcontainer.xml: expected " + literal + " exactly once");
        }
        return text.replace(literal, replacement);
    }
}
