package org.mailpolicy.james.testing;

import java.net.URI;
import java.nio.file.Path;
import java.util.UUID;

import org.apache.activemq.broker.BrokerService;
import org.apache.activemq.broker.TransportConnector;

/**
 * The one message broker the nodes of a test cluster share for their mail queues ({@link SharedBrokerMailQueueModule}),
 * running in the test's JVM and listening on 127.0.0.1 only, so that it outlives any node the test kills. Messages are
 * kept in memory: the broker is not what a test stops.
 */
public final class SharedMailQueueBroker implements AutoCloseable {
    private final BrokerService broker;
    private final String url;

    private SharedMailQueueBroker(BrokerService broker, String url) {
        this.broker = broker;
        this.url = url;
    }

    public static SharedMailQueueBroker start(Path dataDirectory) throws Exception {
        BrokerService broker = new BrokerService();
        broker.setBrokerName("mail-queues-" + UUID.randomUUID());
        broker.setPersistent(false);
        broker.setUseJmx(false);
        broker.setDataDirectoryFile(dataDirectory.toFile());
        TransportConnector connector = broker.addConnector("tcp://127.0.0.1:0");
        broker.start();
        broker.waitUntilStarted();
        URI bound = connector.getConnectUri();
        return new SharedMailQueueBroker(broker, "tcp://127.0.0.1:" + bound.getPort());
    }

    /** {@code tcp://127.0.0.1:PORT}. */
    public String url() {
        return url;
    }

    @Override
    public void close() throws Exception {
        broker.stop();
        broker.waitUntilStopped();
    }
}
