package org.mailpolicy.james.testing;

/** Which mail queue the test James runs on; both carry the spool and the plugin's outgoing queue. */
public enum MailQueueKind {
    /** The memory app's own queue: fast, and gone when James stops (mail queued then is lost). */
    MEMORY,
    /**
     * James 3.8.1's ActiveMQ queue (as the JPA app runs it): an embedded broker whose KahaDB store and message bodies
     * live under {@code var/store/activemq/} of the working directory, so queued mail, with its delays and attributes,
     * survives a restart on the same directory. See {@link ActiveMQMailQueueModule}.
     */
    ACTIVEMQ,
    /**
     * The memory app's queue with delays ignored as James 3.8.1's {@code RabbitMQMailQueue} ignores them (the
     * distributed server's queue): {@code enQueue(mail, delay)} logs and enqueues at once. Counts dequeues per queue
     * ({@link DelayIgnoringMailQueue#dequeued}). Gone on a restart, as the memory queue. See
     * {@link DelayIgnoringMailQueueModule}.
     */
    DELAY_IGNORING
}
