package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;

/**
 * James's mail queues as James 3.8.1's distributed server has them: {@code enQueue(mail, delay)} logs
 * {@code "Ignored delay upon enqueue of {} : {}."} and enqueues at once, and {@code flush()} does nothing, which is what
 * {@code org.apache.james.queue.rabbitmq.RabbitMQMailQueue} 3.8.1 does (read from its bytecode with {@code javap -c}). A
 * queue that ignores delays is what makes a plugin's wait (a retry, a hold) cost nothing but CPU: every held mail comes
 * straight back. Everything else is the wrapped queue's. Each queue is a {@link DelayIgnoringMailQueue}, the same
 * wrapper the single-James tests put over the memory queues.
 */
public final class DelayIgnoringMailQueueFactory implements MailQueueFactory<ManageableMailQueue> {
    private final MailQueueFactory<? extends ManageableMailQueue> delegate;
    private final ConcurrentHashMap<MailQueueName, ManageableMailQueue> wrapped = new ConcurrentHashMap<>();

    public DelayIgnoringMailQueueFactory(MailQueueFactory<? extends ManageableMailQueue> delegate) {
        this.delegate = requireNonNull(delegate, "delegate");
    }

    @Override
    public Optional<ManageableMailQueue> getQueue(MailQueueName name, PrefetchCount count) {
        return delegate.getQueue(name, count).map(queue -> wrapped.computeIfAbsent(name, n -> new DelayIgnoringMailQueue(queue)));
    }

    @Override
    public ManageableMailQueue createQueue(MailQueueName name, PrefetchCount count) {
        ManageableMailQueue queue = delegate.createQueue(name, count);
        return wrapped.computeIfAbsent(name, n -> new DelayIgnoringMailQueue(queue));
    }

    @Override
    public Set<MailQueueName> listCreatedMailQueues() {
        return delegate.listCreatedMailQueues();
    }
}
