package org.mailpolicy.james.testing;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;
import org.apache.mailet.Mail;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * A mail queue that treats delays as James 3.8.1's {@code RabbitMQMailQueue} (the distributed server's queue) does,
 * over another James queue (the memory app's, or the JMS queues of ClusterTest's nodes): {@code enQueue(mail, delay)} logs "Ignored delay upon enqueue" and enqueues at once;
 * {@code flush()} has no delayed mail to bring forward. Read from the 3.8.1 bytecode and sources
 * ({@code org.apache.james.queue.rabbitmq.RabbitMQMailQueue}); what RabbitMQ itself adds (persistence, several
 * consumers across nodes) is not reproduced. Counts what each queue hands out, so a test can tell mail parked from
 * mail going round the queue.
 */
public final class DelayIgnoringMailQueue implements ManageableMailQueue {
    private static final Logger LOGGER = LoggerFactory.getLogger(DelayIgnoringMailQueue.class);
    /** Dequeued items per queue name, over every James this JVM boots (tests read differences). */
    private static final Map<String, AtomicLong> DEQUEUED = new ConcurrentHashMap<>();

    private final ManageableMailQueue memory;

    DelayIgnoringMailQueue(ManageableMailQueue memory) {
        this.memory = memory;
    }

    /** How many items queues named {@code queueName} have handed out in this JVM so far. */
    public static long dequeued(String queueName) {
        AtomicLong n = DEQUEUED.get(queueName);
        return n == null ? 0 : n.get();
    }

    @Override
    public MailQueueName getName() {
        return memory.getName();
    }

    @Override
    public void enQueue(Mail mail, Duration delay) throws MailQueueException {
        if (!delay.isNegative()) {
            LOGGER.info("Ignored delay upon enqueue of {} : {}.", mail.getName(), delay);
        }
        enQueue(mail);
    }

    @Override
    public void enQueue(Mail mail) throws MailQueueException {
        memory.enQueue(mail);
    }

    @Override
    public Publisher<Void> enqueueReactive(Mail mail) {
        return memory.enqueueReactive(mail);
    }

    @Override
    public Publisher<MailQueueItem> deQueue() {
        AtomicLong counter = DEQUEUED.computeIfAbsent(getName().asString(), n -> new AtomicLong());
        return Flux.from(memory.deQueue()).doOnNext(item -> counter.incrementAndGet());
    }

    @Override
    public long getSize() throws MailQueueException {
        return memory.getSize();
    }

    /** Nothing is ever delayed here, as in RabbitMQMailQueue ("Delays are not supported by RabbitMQ"). */
    @Override
    public long flush() {
        LOGGER.warn("Delays are not supported by this queue (as RabbitMQ's); flush does nothing");
        return 0;
    }

    @Override
    public long clear() throws MailQueueException {
        return memory.clear();
    }

    @Override
    public long remove(Type type, String value) throws MailQueueException {
        return memory.remove(type, value);
    }

    @Override
    public MailQueueIterator browse() throws MailQueueException {
        return memory.browse();
    }

    @Override
    public void close() {
        try {
            memory.close();
        } catch (java.io.IOException e) {
            LOGGER.debug("closing {}", getName().asString(), e);
        }
    }
}
