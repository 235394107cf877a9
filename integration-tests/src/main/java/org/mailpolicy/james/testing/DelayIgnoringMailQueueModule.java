package org.mailpolicy.james.testing;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.ManageableMailQueue;
import org.apache.james.queue.memory.MemoryMailQueueFactory;

/**
 * Every mail queue of the memory app (the spool and the plugin's outgoing queue) as a {@link DelayIgnoringMailQueue}:
 * the three bindings of James's {@code MemoryMailQueueModule}, each to the {@link DelayIgnoringMailQueueFactory} over
 * the memory one.
 */
final class DelayIgnoringMailQueueModule extends AbstractModule {
    @Override
    protected void configure() {
        // The providers below; MemoryMailQueueFactory stays bound (a singleton) by the memory app's module.
    }

    @Provides
    @Singleton
    DelayIgnoringMailQueueFactory factory(MemoryMailQueueFactory memory) {
        return new DelayIgnoringMailQueueFactory(memory);
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends ManageableMailQueue> manageableMailQueueFactory(DelayIgnoringMailQueueFactory factory) {
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<?> mailQueueFactory(DelayIgnoringMailQueueFactory factory) {
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends MailQueue> mailQueueFactoryGenerics(DelayIgnoringMailQueueFactory factory) {
        return factory;
    }
}
