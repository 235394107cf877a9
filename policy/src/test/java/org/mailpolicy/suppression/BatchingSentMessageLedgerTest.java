package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatchingSentMessageLedgerTest {
    private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

    /** A ledger in memory that counts its transactions and can be made slow or failing. */
    private static final class CountingLedger implements SentMessageLedger {
        final Map<String, SentMessage> byId = new ConcurrentHashMap<>();
        final AtomicInteger transactions = new AtomicInteger();
        final List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());
        volatile CountDownLatch gate = new CountDownLatch(0);
        volatile int failuresLeft;
        volatile boolean closed;

        @Override
        public void record(SentMessage message) {
            recordAll(List.of(message));
        }

        @Override
        public void recordAll(List<SentMessage> messages) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            if (failuresLeft > 0) {
                failuresLeft--;
                throw new IllegalStateException("database unavailable");
            }
            transactions.incrementAndGet();
            batchSizes.add(messages.size());
            messages.forEach(m -> byId.put(m.messageId(), m));
        }

        @Override
        public Optional<SentMessage> find(String messageId, Collection<String> recipients) {
            return SentMessage.tryNormaliseMessageId(messageId).map(byId::get)
                    .filter(m -> recipients.stream().anyMatch(m::wasSentTo));
        }

        @Override
        public int pruneSentBefore(Instant cutoff) {
            return 0;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static SentMessage sent(int i) {
        return SentMessage.of("<m" + i + "@example.org>", List.of("r" + i + "@aol.com"), T0);
    }

    @Test
    void aRecordIsFoundAtOnceEvenThoughItIsWrittenLater() {
        CountingLedger store = new CountingLedger();
        try (BatchingSentMessageLedger ledger = BatchingSentMessageLedger.over(store)) {
            ledger.record(sent(1));
            assertThat(ledger.find("m1@example.org", List.of("r1@aol.com"))).as("the reader waits for the writer").isPresent();
        }
        assertThat(store.closed).isTrue();
    }

    @Test
    void everyThreadFindsItsOwnRecordAtOnceWhileOthersRecordToo() throws Exception {
        CountingLedger store = new CountingLedger();
        int threads = 8;
        int each = 100;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (BatchingSentMessageLedger ledger = BatchingSentMessageLedger.over(store, 64)) {
            List<java.util.concurrent.Future<Integer>> missed = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * each;
                missed.add(pool.submit(() -> {
                    int notFound = 0;
                    for (int i = first; i < first + each; i++) {
                        ledger.record(sent(i));
                        notFound += ledger.find("m" + i + "@example.org", List.of("r" + i + "@aol.com")).isPresent() ? 0 : 1;
                    }
                    return notFound;
                }));
            }
            for (java.util.concurrent.Future<Integer> f : missed) {
                assertThat(f.get(60, TimeUnit.SECONDS)).as("records a thread did not find right after recording them").isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.byId).hasSize(threads * each);
    }

    @Test
    void recordsQueuedWhileTheStoreIsBusyAreWrittenTogether() {
        CountingLedger store = new CountingLedger();
        store.gate = new CountDownLatch(1);
        BatchingSentMessageLedger ledger = BatchingSentMessageLedger.over(store);
        for (int i = 0; i < 300; i++) {
            ledger.record(sent(i));
        }
        store.gate.countDown();
        ledger.close();
        assertThat(store.byId).hasSize(300);
        assertThat(store.transactions.get()).as("a transaction per batch, not per record").isLessThanOrEqualTo(3);
        assertThat(store.batchSizes).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(BatchingSentMessageLedger.MAX_BATCH));
    }

    @Test
    void aFullQueueWritesInTheCallersThreadAndLosesNothing() {
        CountingLedger store = new CountingLedger();
        store.gate = new CountDownLatch(1);
        BatchingSentMessageLedger ledger = BatchingSentMessageLedger.over(store, 5);
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            caller.submit(() -> {
                for (int i = 0; i < 20; i++) {
                    ledger.record(sent(i));
                }
            });
            store.gate.countDown();
        } finally {
            caller.shutdown();
        }
        try {
            assertThat(caller.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        ledger.close();
        assertThat(store.byId).hasSize(20);
    }

    @Test
    void aFailedBatchIsTriedOnceMoreAndAFailingStoreNeverFailsTheDelivery() {
        CountingLedger store = new CountingLedger();
        store.failuresLeft = 1;
        try (BatchingSentMessageLedger ledger = BatchingSentMessageLedger.over(store)) {
            ledger.record(sent(1));
            assertThat(ledger.find("<m1@example.org>", List.of("r1@aol.com"))).as("stored on the second try").isPresent();
            store.failuresLeft = 2;
            ledger.record(sent(2));
            assertThat(ledger.find("<m2@example.org>", List.of("r2@aol.com"))).as("given up after two tries, with an error line").isEmpty();
            ledger.record(sent(3));
            assertThat(ledger.find("<m3@example.org>", List.of("r3@aol.com"))).as("the next batch goes through").isPresent();
        }
    }
}
