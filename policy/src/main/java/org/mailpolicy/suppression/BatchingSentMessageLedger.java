package org.mailpolicy.suppression;

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link SentMessageLedger} that writes in batches, off the delivery threads.
 *
 * <p>Every delivered mail is recorded, and a transaction each was a sixth of the plugin's cost per
 * mail, while the records are read only when a bounce comes back, minutes to days later. So
 * {@link #record} only queues; one writer thread stores what queued within {@link #LINGER} of the
 * first record in one transaction (up to {@link #MAX_BATCH} at a time). Readers ({@link #find}, {@link #pruneSentBefore}) first wait
 * for what was queued before them, so a bounce is never checked against a ledger that is behind.
 *
 * <p>What may be lost: the records still queued when the process dies (at most a fraction of a
 * second's deliveries). A bounce for one of those mails later finds no record and suppresses
 * nothing, which is the ledger's safe side: it only ever makes bounces trustworthy. When the queue
 * is full (the database slower than delivery), {@link #record} writes in the caller's thread
 * instead, so records are never dropped for lack of room. Thread-safe.
 */
public final class BatchingSentMessageLedger implements SentMessageLedger {
    /** Records stored in one transaction at most. */
    static final int MAX_BATCH = 500;
    /** How long the writer waits for more records after the first of a batch. */
    static final Duration LINGER = Duration.ofMillis(20);
    /** Records queued at most before {@link #record} writes itself. */
    static final int CAPACITY = 20_000;
    /** How long a reader waits for the writer before reading anyway. */
    static final Duration FLUSH_WAIT = Duration.ofSeconds(10);
    private static final System.Logger LOGGER = System.getLogger(BatchingSentMessageLedger.class.getName());

    private final SentMessageLedger store;
    private final BlockingQueue<SentMessage> queued;
    private final Thread writer;
    private final Object progress = new Object();
    /**
     * Records counted so far, each before it is queued (so the writer never finishes more than are
     * counted), without a lock: every delivery thread records, and a lock here was the most contended
     * one in a profile. One the queue had no room for counts as finished when the caller wrote it.
     */
    private final AtomicLong enqueued = new AtomicLong();
    /** Records the writer has finished with (stored or given up on); guarded by {@link #progress}. */
    private long done;
    private volatile boolean closed;

    private BatchingSentMessageLedger(SentMessageLedger store, int capacity) {
        this.store = store;
        this.queued = new ArrayBlockingQueue<>(capacity);
        this.writer = new Thread(this::writeUntilClosed, "delivery-policy-sent-ledger-writer");
        this.writer.setDaemon(true);
    }

    /** Batches the writes to {@code store}, which this ledger closes with itself. */
    public static BatchingSentMessageLedger over(SentMessageLedger store) {
        return over(store, CAPACITY);
    }

    static BatchingSentMessageLedger over(SentMessageLedger store, int capacity) {
        Preconditions.checkNotNull(store, "store");
        Preconditions.checkArgument(capacity > 0, "capacity must be positive: %s", capacity);
        BatchingSentMessageLedger ledger = new BatchingSentMessageLedger(store, capacity);
        ledger.writer.start();
        return ledger;
    }

    @Override
    public void record(SentMessage message) {
        Preconditions.checkNotNull(message, "message");
        Preconditions.checkState(!closed, "the sent-message ledger is closed");
        enqueued.incrementAndGet();
        if (queued.offer(message)) {
            return;
        }
        // Full: the database is behind; this caller waits for its own write rather than lose it.
        try {
            store.record(message);
        } finally {
            finished(1);
        }
    }

    @Override
    public Optional<SentMessage> find(String messageId, Collection<String> recipients) {
        awaitWritten();
        return store.find(messageId, recipients);
    }

    @Override
    public int pruneSentBefore(Instant cutoff) {
        awaitWritten();
        return store.pruneSentBefore(cutoff);
    }

    /** Waits until everything queued before this call is stored (or {@link #FLUSH_WAIT} passed). */
    void awaitWritten() {
        long deadline = System.nanoTime() + FLUSH_WAIT.toNanos();
        synchronized (progress) {
            long target = enqueued.get();
            while (done < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the sent-message ledger is "
                            + (target - done) + " record(s) behind after " + FLUSH_WAIT + "; reading it anyway");
                    return;
                }
                try {
                    progress.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void writeUntilClosed() {
        List<SentMessage> batch = new ArrayList<>(MAX_BATCH);
        while (!closed || !queued.isEmpty()) {
            try {
                SentMessage first = queued.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                gather(batch);
                write(batch);
            } catch (InterruptedException e) {
                // Nobody interrupts the writer on purpose (an interrupt during H2's file I/O closes the
                // database): keep draining until closed.
                Thread.interrupted();
            } finally {
                finished(batch.size());
                batch.clear();
            }
        }
    }

    /**
     * Adds what comes within {@link #LINGER} of the first record, up to {@link #MAX_BATCH}: under load a
     * transaction then carries tens of records instead of one or two, and each costs a shared database
     * the same round trips and commit whatever it carries.
     */
    private void gather(List<SentMessage> batch) {
        long until = System.nanoTime() + LINGER.toNanos();
        queued.drainTo(batch, MAX_BATCH - batch.size());
        while (batch.size() < MAX_BATCH && !closed) {
            long left = until - System.nanoTime();
            SentMessage next;
            try {
                next = left > 0 ? queued.poll(left, TimeUnit.NANOSECONDS) : null;
            } catch (InterruptedException e) {
                // As in writeUntilClosed: the batch gathered is written all the same, the interrupt dropped.
                return;
            }
            if (next == null) {
                return;
            }
            batch.add(next);
            queued.drainTo(batch, MAX_BATCH - batch.size());
        }
    }

    /** One transaction; a failed one is tried once more, then its records are given up with an error line. */
    private void write(List<SentMessage> batch) {
        for (int attempt = 1; ; attempt++) {
            try {
                store.recordAll(batch);
                return;
            } catch (RuntimeException e) {
                if (attempt >= 2) {
                    LOGGER.log(System.Logger.Level.ERROR, "delivery policy: " + batch.size() + " sent-message record(s)"
                            + " not stored, so bounces for those mails will not suppress: " + e.getMessage(), e);
                    return;
                }
                LOGGER.log(System.Logger.Level.WARNING, "delivery policy: storing " + batch.size()
                        + " sent-message record(s) failed, trying once more: " + e.getMessage());
            }
        }
    }

    private void finished(int count) {
        if (count == 0) {
            return;
        }
        synchronized (progress) {
            done += count;
            progress.notifyAll();
        }
    }

    /** Stores what is queued, stops the writer and closes the store. */
    @Override
    public void close() {
        closed = true;
        try {
            writer.join(FLUSH_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            LOGGER.log(System.Logger.Level.WARNING, "delivery policy: the sent-message ledger's writer did not finish"
                    + " within " + FLUSH_WAIT + "; " + queued.size() + " record(s) left unwritten");
        } else {
            // A record that raced with closing came in after the writer's last look.
            List<SentMessage> late = new ArrayList<>();
            queued.drainTo(late);
            if (!late.isEmpty()) {
                write(late);
            }
        }
        store.close();
    }

    @Override
    public String toString() {
        return "BatchingSentMessageLedger{" + store + "}";
    }
}
