package org.mailpolicy.james.delivery;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.mail.MessagingException;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueName;
import org.apache.mailet.Mail;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** An outgoing queue that keeps a copy of what was enqueued, with its delay; nothing is dequeued on its own. */
final class RecordingMailQueue implements MailQueue, MailQueueFactory<RecordingMailQueue> {
    /**
     * One enqueued mail: a copy taken at enqueue time (the caller disposes its own), and its delay; {@code withoutDelay}
     * when it came through {@link #enQueue(Mail)} (delay recorded as zero), not {@link #enQueue(Mail, Duration)}.
     */
    static final class Entry {
        final Mail mail;
        final Duration delay;
        final boolean withoutDelay;

        Entry(Mail mail, Duration delay, boolean withoutDelay) {
            this.mail = mail;
            this.delay = delay;
            this.withoutDelay = withoutDelay;
        }
    }

    /** A dequeued item that records how it was acknowledged. */
    static final class Item implements MailQueueItem {
        private final Mail mail;
        volatile CompletionStatus status;

        Item(Mail mail) {
            this.mail = mail;
        }

        @Override
        public Mail getMail() {
            return mail;
        }

        @Override
        public void done(CompletionStatus status) {
            this.status = status;
        }
    }

    final List<Entry> entries = new CopyOnWriteArrayList<>();
    /** What deQueue() hands out: tests push items here for the delivery threads. */
    final Sinks.Many<MailQueueItem> dequeued = Sinks.many().unicast().onBackpressureBuffer();
    volatile boolean failEnqueue;
    /** When not empty, each deQueue() subscription takes the next of these instead of {@link #dequeued}. */
    final java.util.Queue<Publisher<MailQueueItem>> scriptedStreams = new java.util.concurrent.ConcurrentLinkedQueue<>();

    @Override
    public MailQueueName getName() {
        return MailQueueName.of("test-outgoing");
    }

    @Override
    public void enQueue(Mail mail, Duration delay) throws MailQueueException {
        record(mail, delay, false);
    }

    @Override
    public void enQueue(Mail mail) throws MailQueueException {
        record(mail, Duration.ZERO, true);
    }

    private void record(Mail mail, Duration delay, boolean withoutDelay) throws MailQueueException {
        if (failEnqueue) {
            throw new MailQueueException("queue is down");
        }
        try {
            entries.add(new Entry(mail.duplicate(), delay, withoutDelay));
        } catch (MessagingException e) {
            throw new MailQueueException("cannot copy", e);
        }
    }

    @Override
    public Publisher<Void> enqueueReactive(Mail mail) {
        return Mono.fromRunnable(() -> {
            try {
                enQueue(mail);
            } catch (MailQueueException e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Override
    public Publisher<MailQueueItem> deQueue() {
        Publisher<MailQueueItem> scripted = scriptedStreams.poll();
        return scripted != null ? scripted : dequeued.asFlux();
    }

    @Override
    public void close() {
    }

    /** Takes the oldest entry off, as a dequeued item. */
    Item take() {
        Entry e = entries.remove(0);
        return new Item(e.mail);
    }

    @Override
    public Optional<RecordingMailQueue> getQueue(MailQueueName name, PrefetchCount count) {
        return Optional.of(this);
    }

    @Override
    public RecordingMailQueue createQueue(MailQueueName name, PrefetchCount count) {
        return this;
    }

    @Override
    public Set<MailQueueName> listCreatedMailQueues() {
        return Set.of(getName());
    }
}
