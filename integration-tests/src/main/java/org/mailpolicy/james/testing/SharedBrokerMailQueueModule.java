package org.mailpolicy.james.testing;

import static java.util.Objects.requireNonNull;

import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.queue.activemq.ActiveMQMailQueueFactory;
import org.apache.james.queue.activemq.metric.ActiveMQMetricCollectorNoop;
import org.apache.james.queue.api.MailQueue;
import org.apache.james.queue.api.MailQueueFactory;
import org.apache.james.queue.api.MailQueueItemDecoratorFactory;
import org.apache.james.queue.api.ManageableMailQueue;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;

/**
 * Mail queues that several James processes share, as the distributed server's RabbitMQ queues are, and that ignore
 * delays as they do ({@link DelayIgnoringMailQueueFactory}): James 3.8.1's ActiveMQ (JMS) mail queue, connected over TCP
 * to one broker outside the James processes ({@link SharedMailQueueBroker}), instead of the embedded broker each James
 * runs by itself. The spool and the outgoing queue are both shared: mail received by one node may be processed and sent
 * by any. A message a node took but did not acknowledge (a node killed with {@code kill -9}) goes back to the broker
 * and to another node.
 *
 * <p>Why not the real RabbitMQ queue ({@code james-server-queue-rabbitmq} with Debian's {@code rabbitmq-server}): that
 * queue keeps each mail's content in James's blob store and only a reference in RabbitMQ, so two processes need a blob
 * store they share, and James 3.8.1 has none but Cassandra and S3 (its {@code blob-file} store is not published for
 * 3.8.1), neither packaged on these machines. Mail content travels inside the JMS message here
 * ({@code useBlobMessages} off), one message is prefetched at a time so that a node does not sit on mail another could
 * send.
 */
final class SharedBrokerMailQueueModule extends AbstractModule {
    private final String brokerUrl;

    SharedBrokerMailQueueModule(String brokerUrl) {
        this.brokerUrl = requireNonNull(brokerUrl, "brokerUrl");
    }

    @Override
    protected void configure() {
    }

    @Provides
    @Singleton
    ActiveMQMailQueueFactory activeMqFactory(MailQueueItemDecoratorFactory decorators, MetricFactory metrics,
            GaugeRegistry gauges) {
        ActiveMQConnectionFactory connections = new ActiveMQConnectionFactory(brokerUrl + "?jms.prefetchPolicy.all=1");
        ActiveMQMailQueueFactory factory = new ActiveMQMailQueueFactory(connections, decorators, metrics, gauges,
                new ActiveMQMetricCollectorNoop());
        factory.setUseJMX(false);
        factory.setUseBlobMessages(false);
        factory.init();
        return factory;
    }

    @Provides
    @Singleton
    MailQueueFactory<? extends ManageableMailQueue> manageableMailQueueFactory(ActiveMQMailQueueFactory factory) {
        return new DelayIgnoringMailQueueFactory(factory);
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
