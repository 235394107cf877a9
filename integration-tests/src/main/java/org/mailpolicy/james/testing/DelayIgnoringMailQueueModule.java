package org.mailpolicy.james.testing;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueName;
import org.apache.james.queue.api.ManageableMailQueue;
import org.apache.james.queue.memory.MemoryMailQueueFactory;

/**
 * Every mail queue of the memory app (the spool and the plugin's outgoing queue) as a {@link DelayIgnoringMailQueue}:
 * the three bindings of James's {@code MemoryMailQueueModule}, each to a factory that wraps the memory one.
 */
final class DelayIgnoringMailQueueModule extends AbstractModule {
    @Override
    protected void configure() {
        // The providers below; MemoryMailQueueFactory stays bound (a singleton) by the memory app's module.
    }

    @Provides
    @Singleton
    Factory factory(MemoryMailQueueFactory memory) {
        return new Factory(memory);
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends ManageableMailQueue> manageableMailQueueFactory(Factory factory) {
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<?> mailQueueFactory(Factory factory) {
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends MailQueue> mailQueueFactoryGenerics(Factory factory) {
        return factory;
    }

    /** One wrapper per queue name, as James's factories return the same queue for the same name. */
    static final class Factory implements MailQueueFactory<DelayIgnoringMailQueue> {
        private final MemoryMailQueueFactory memory;
        private final Map<MailQueueName, DelayIgnoringMailQueue> queues = new ConcurrentHashMap<>();

        Factory(MemoryMailQueueFactory memory) {
            this.memory = memory;
        }

        @Override
        public Optional<DelayIgnoringMailQueue> getQueue(MailQueueName name, PrefetchCount count) {
            return memory.getQueue(name, count).map(q -> queues.computeIfAbsent(name, n -> new DelayIgnoringMailQueue(q)));
        }

        @Override
        public DelayIgnoringMailQueue createQueue(MailQueueName name, PrefetchCount count) {
            return queues.computeIfAbsent(name, n -> new DelayIgnoringMailQueue(memory.createQueue(name, count)));
        }

        @Override
        public Set<MailQueueName> listCreatedMailQueues() {
            return memory.listCreatedMailQueues();
        }
    }
}
