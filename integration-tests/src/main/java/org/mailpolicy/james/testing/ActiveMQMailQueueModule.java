package org.mailpolicy.james.testing;

import org.apache.activemq.store.PersistenceAdapter;
import org.apache.activemq.store.kahadb.KahaDBPersistenceAdapter;
import org.apache.james.queue.activemq.ActiveMQMailQueueFactory;
import org.apache.james.queue.activemq.EmbeddedActiveMQ;
import org.apache.james.queue.activemq.metric.ActiveMQMetricCollector;
import org.apache.james.queue.activemq.metric.ActiveMQMetricCollectorNoop;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.ManageableMailQueue;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Scopes;
import com.google.inject.Singleton;

/**
 * James 3.8.1's ActiveMQ mail queue in place of the memory app's ({@code MemoryMailQueueModule}): the bindings of
 * James's own {@code ActiveMQQueueModule} (module {@code queue-activemq-guice}, which the JPA app uses but which is not
 * published to Maven Central for 3.8.1), over the published {@code james-server-queue-activemq}. The embedded broker
 * ({@link EmbeddedActiveMQ}) is persistent: KahaDB in {@code var/store/activemq/brokers/KahaDB}, message bodies as blob
 * files in {@code var/store/activemq/blob-transfer}, both resolved against James's working directory. Delays are a JMS
 * property and a message selector (the broker's scheduler is off), so a delayed mail keeps its due time across a restart.
 *
 * <p>Two differences from James's module, both for a test JVM that boots James more than once: no JMX registration of
 * the queues (the platform MBean server outlives a James), and no metric collector thread. Guice builds the broker and
 * the factory itself, so James's {@code @PreDestroy} stage stops them (queues first, then the broker, which releases
 * KahaDB's lock) when James stops.
 */
final class ActiveMQMailQueueModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(PersistenceAdapter.class).to(KahaDBPersistenceAdapter.class);
        bind(KahaDBPersistenceAdapter.class).in(Scopes.SINGLETON);
        bind(EmbeddedActiveMQ.class).in(Scopes.SINGLETON);
        bind(ActiveMQMailQueueFactory.class).in(Scopes.SINGLETON);
        bind(ActiveMQMetricCollector.class).to(ActiveMQMetricCollectorNoop.class);
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends ManageableMailQueue> manageableMailQueueFactory(ActiveMQMailQueueFactory factory) {
        factory.setUseJMX(false);
        factory.init();
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<?> mailQueueFactory(MailQueueFactory<? extends ManageableMailQueue> factory) {
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends MailQueue> mailQueueFactoryGenerics(MailQueueFactory<? extends ManageableMailQueue> factory) {
        return factory;
    }
}
