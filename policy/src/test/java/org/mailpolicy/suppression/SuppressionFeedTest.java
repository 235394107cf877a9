package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mailpolicy.jdbc.Database;
import org.mailpolicy.jdbc.PostgresServer;

/**
 * Two nodes' suppression lists on one real PostgreSQL: each node's in-memory index follows the
 * other's adds through the feed, and never answers "absent" for an add it may have missed.
 */
class SuppressionFeedTest {
    private static final Instant T0 = Instant.parse("2026-11-22T12:00:00Z");

    @RegisterExtension
    static final PostgresServer POSTGRES = new PostgresServer();

    private static SuppressionEntry entry(String address) {
        return SuppressionEntry.of(address, T0, "userunknown", "550 5.1.1 no such user", "generic.user-unknown",
                SuppressionEntry.Source.LIVE_REPLY, Optional.empty());
    }

    private static void within(Duration limit, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void eachNodeFollowsTheOthersAddsIncludingATransactionThatCommitsLate() throws Exception {
        DataSource db = POSTGRES.unpooled(POSTGRES.createDatabase("feed"));
        try (JdbcSuppressionList a = JdbcSuppressionList.open(Database.on(db, "node a"));
             JdbcSuppressionList b = JdbcSuppressionList.open(Database.on(db, "node b"))) {
            assertThat(b.indexSource()).isEqualTo("feed");
            assertThat(b.awaitIndex(Duration.ofSeconds(30))).isTrue();
            assertThat(b.indexSaysAbsent("first@aol.com")).isTrue();
            a.add(entry("first@aol.com"));
            within(Duration.ofSeconds(5), "b's index learns a's add from the feed", () -> !b.indexSaysAbsent("first@aol.com"));
            assertThat(b.find("first@aol.com")).isPresent();
            assertThat(b.indexSaysAbsent("nobody@aol.com")).isTrue();

            // A transaction that began before the others and commits after them: its row is read late, not skipped.
            try (Connection slow = db.getConnection()) {
                slow.setAutoCommit(false);
                try (Statement st = slow.createStatement();
                     ResultSet rs = st.executeQuery("SELECT domain_id, outcome_id, source_id FROM "
                             + JdbcSuppressionList.TABLE + " LIMIT 1")) {
                    rs.next();
                    try (PreparedStatement ps = slow.prepareStatement("INSERT INTO " + JdbcSuppressionList.TABLE
                            + " (address_key, local_part, domain_id, since_ms, outcome_id, source_id) VALUES (?, ?, ?, ?, ?, ?)")) {
                        ps.setLong(1, AddressKey.of("late@aol.com"));
                        ps.setString(2, "late");
                        ps.setInt(3, rs.getInt(1));
                        ps.setLong(4, T0.toEpochMilli());
                        ps.setInt(5, rs.getInt(2));
                        ps.setInt(6, rs.getInt(3));
                        ps.executeUpdate();
                    }
                }
                for (int i = 0; i < 20; i++) {
                    a.add(entry("meanwhile" + i + "@aol.com"));
                }
                within(Duration.ofSeconds(5), "b's index learns the adds committed meanwhile",
                        () -> !b.indexSaysAbsent("meanwhile19@aol.com"));
                Thread.sleep(2_500); // b reads the feed twice more while the slow transaction is open
                slow.commit();
            }
            within(Duration.ofSeconds(5), "b's index learns the row of the transaction that committed late",
                    () -> !b.indexSaysAbsent("late@aol.com"));
            assertThat(b.find("late@aol.com")).isPresent();
            assertThat(b.find("nobody@aol.com")).isEmpty();
        }
    }

    @Test
    void aNodeWhoseIndexStoppedFollowingReadsTheTableAgain() throws Exception {
        DataSource db = POSTGRES.unpooled(POSTGRES.createDatabase("feed_stale"));
        try (JdbcSuppressionList a = JdbcSuppressionList.open(Database.on(db, "node a"));
             JdbcSuppressionList b = JdbcSuppressionList.open(Database.on(db, "node b"))) {
            assertThat(b.awaitIndex(Duration.ofSeconds(30))).isTrue();
            assertThat(b.indexSaysAbsent("added-while-b-was-away@aol.com")).isTrue();
            b.stopFollowingForTesting(); // as a feed that cannot be read
            a.add(entry("added-while-b-was-away@aol.com"));
            // Within the trust window b may still answer from its index; after it, from the table.
            within(JdbcSuppressionList.FEED_POLL.multipliedBy(SuppressionIndex.TRUST_READS).plusSeconds(3),
                    "b reads the table once its index is no longer current",
                    () -> b.find("added-while-b-was-away@aol.com").isPresent());
            assertThat(b.indexSaysAbsent("nobody@aol.com")).as("a stale index answers nothing alone").isFalse();
        }
    }
}
