package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;
import org.apache.mailet.Mail;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * James's mail queues as James 3.8.1's distributed server has them: {@code enQueue(mail, delay)} logs
 * {@code "Ignored delay upon enqueue of {} : {}."} and enqueues at once, and {@code flush()} does nothing, which is what
 * {@code org.apache.james.queue.rabbitmq.RabbitMQMailQueue} 3.8.1 does (read from its bytecode with {@code javap -c}). A
 * queue that ignores delays is what makes a plugin's wait (a retry, a hold) cost nothing but CPU: every held mail comes
 * straight back. Everything else is the wrapped queue's.
 */
public final class DelayIgnoringMailQueueFactory implements MailQueueFactory<ManageableMailQueue> {
    private static final Logger LOGGER = LoggerFactory.getLogger(DelayIgnoringMailQueueFactory.class);

    private final MailQueueFactory<? extends ManageableMailQueue> delegate;
    private final ConcurrentHashMap<MailQueueName, ManageableMailQueue> wrapped = new ConcurrentHashMap<>();

    public DelayIgnoringMailQueueFactory(MailQueueFactory<? extends ManageableMailQueue> delegate) {
        this.delegate = requireNonNull(delegate, "delegate");
    }

    @Override
    public Optional<ManageableMailQueue> getQueue(MailQueueName name, PrefetchCount count) {
        return delegate.getQueue(name, count).map(queue -> wrapped.computeIfAbsent(name, n -> new DelayIgnoringQueue(queue)));
    }

    @Override
    public ManageableMailQueue createQueue(MailQueueName name, PrefetchCount count) {
        ManageableMailQueue queue = delegate.createQueue(name, count);
        return wrapped.computeIfAbsent(name, n -> new DelayIgnoringQueue(queue));
    }

    @Override
    public Set<MailQueueName> listCreatedMailQueues() {
        return delegate.listCreatedMailQueues();
    }

    private static final class DelayIgnoringQueue implements ManageableMailQueue {
        private final ManageableMailQueue queue;

        DelayIgnoringQueue(ManageableMailQueue queue) {
            this.queue = queue;
        }

        @Override
        public MailQueueName getName() {
            return queue.getName();
        }

        @Override
        public void enQueue(Mail mail, Duration delay) throws MailQueueException {
            if (!delay.isNegative() && !delay.isZero()) {
                LOGGER.info("Ignored delay upon enqueue of {} : {}.", mail.getName(), delay);
            }
            queue.enQueue(mail);
        }

        @Override
        public void enQueue(Mail mail) throws MailQueueException {
            queue.enQueue(mail);
        }

        @Override
        public Publisher<Void> enqueueReactive(Mail mail) {
            return queue.enqueueReactive(mail);
        }

        @Override
        public Publisher<MailQueueItem> deQueue() {
            return queue.deQueue();
        }

        @Override
        public long getSize() throws MailQueueException {
            return queue.getSize();
        }

        /** RabbitMQMailQueue's flush does nothing: "Delays are not supported by RabbitMQ". */
        @Override
        public long flush() {
            return 0;
        }

        @Override
        public long clear() throws MailQueueException {
            return queue.clear();
        }

        @Override
        public long remove(Type type, String value) throws MailQueueException {
            return queue.remove(type, value);
        }

        @Override
        public MailQueueIterator browse() throws MailQueueException {
            return queue.browse();
        }

        @Override
        public void close() throws java.io.IOException {
            queue.close();
        }
    }
}
