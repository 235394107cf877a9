package org.mailpolicy.fakeaol;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every connection's transactions, oldest first. A transaction is listed as soon as it starts and filled in as the
 * conversation goes on, so a client polling during a slow conversation sees it in progress.
 */
final class TransactionLog {
    private final List<Recording> recordings = new ArrayList<>();

    /** Starts the record of a new connection or mail transaction of connection number {@code connection}, with its greeting. */
    synchronized Recording start(int connection, Instant time, String client, String connectReply) {
        Recording recording = new Recording(connection, time, client, connectReply);
        recordings.add(recording);
        return recording;
    }

    synchronized List<Transaction> snapshot() {
        List<Transaction> transactions = new ArrayList<>(recordings.size());
        for (Recording recording : recordings) {
            transactions.add(recording.toTransaction());
        }
        return List.copyOf(transactions);
    }

    synchronized void clear() {
        recordings.clear();
    }

    /** One transaction being recorded; its methods lock the log so that snapshots are never half-written. */
    final class Recording {
        private final int connection;
        private final Instant time;
        private final String client;
        private final String connectReply;
        private String mailFrom;
        private String mailFromReply;
        private final List<RecipientReply> recipients = new ArrayList<>();
        private String dataReply;

        private Recording(int connection, Instant time, String client, String connectReply) {
            this.connection = connection;
            this.time = time;
            this.client = client;
            this.connectReply = connectReply;
        }

        boolean hasMailFrom() {
            synchronized (TransactionLog.this) {
                return mailFrom != null;
            }
        }

        void mailFrom(String reversePath, String reply) {
            synchronized (TransactionLog.this) {
                this.mailFrom = reversePath;
                this.mailFromReply = reply;
            }
        }

        void recipient(String address, String parameters, String reply) {
            synchronized (TransactionLog.this) {
                recipients.add(new RecipientReply(address, reply, parameters));
            }
        }

        void dataReply(String reply) {
            synchronized (TransactionLog.this) {
                this.dataReply = reply;
            }
        }

        String connectReply() {
            return connectReply;
        }

        String client() {
            return client;
        }

        int connection() {
            return connection;
        }

        private Transaction toTransaction() {
            return new Transaction(connection, time, client, connectReply, Optional.ofNullable(mailFrom),
                    Optional.ofNullable(mailFromReply), recipients, Optional.ofNullable(dataReply));
        }
    }
}
