package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.jdbc.Database;

/** The in-memory index in front of the table: what it answers alone, and that it never hides a listed address. */
class SuppressionIndexTest {
    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

    private JdbcDataSource h2;
    /** Connections taken from {@link #h2} through {@link #counted}: every statement a store runs takes one. */
    private final AtomicInteger connections = new AtomicInteger();
    private DataSource counted;

    @BeforeEach
    void inMemoryDatabase() {
        h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:suppression-index-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        counted = (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        connections.incrementAndGet();
                    }
                    try {
                        return method.invoke(h2, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private JdbcSuppressionList openSingleProcess() {
        return built(JdbcSuppressionList.open(Database.on(counted, "counted H2", true)));
    }

    /** The index is read in the background after open; these tests are about the built index. */
    private static JdbcSuppressionList built(JdbcSuppressionList list) {
        try {
            assertThat(list.awaitIndex(Duration.ofSeconds(30))).as("index built").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return list;
    }

    private static SuppressionEntry entry(String address) {
        return SuppressionEntry.of(address, T0, "userunknown", "550 MAILBOX NOT FOUND", "aol.mailbox-not-found",
                SuppressionEntry.Source.LIVE_REPLY, Optional.empty());
    }

    private static List<String> misses(int n) {
        return IntStream.range(0, n).mapToObj(i -> "nobody-" + i + "@example.net").collect(Collectors.toList());
    }

    @Test
    void missesAreAnsweredWithoutTheDatabaseAndHitsReadItOnce() {
        try (JdbcSuppressionList list = openSingleProcess()) {
            list.add(entry("bob@aol.com"));
            connections.set(0);
            assertThat(list.find("nobody@example.net")).isEmpty();
            assertThat(connections).hasValue(0);

            // Of many unlisted addresses, only the filter's false positives (about 1%) reach the table.
            misses(2_000).forEach(a -> assertThat(list.find(a)).isEmpty());
            assertThat(connections.get()).isLessThan(60);

            connections.set(0);
            assertThat(list.find("bob@aol.com")).contains(entry("bob@aol.com"));
            assertThat(connections).hasValue(1);
        }
    }

    @Test
    void addressesAreFoundAsTheSenderWroteThem() {
        try (JdbcSuppressionList list = openSingleProcess()) {
            list.add(entry("Bob@AOL.com"));
            for (String written : new String[] {"bob@aol.com", "BOB@AOL.COM", "bob@Aol.Com", " <Bob@aol.com> "}) {
                assertThat(list.find(written)).as(written).isPresent();
            }
        }
    }

    @Test
    void addsAndImportsAfterOpeningAreFound() {
        try (JdbcSuppressionList list = openSingleProcess()) {
            list.add(entry("one@aol.com"));
            list.addAll(List.of(entry("two@aol.com"), entry("three@Gmail.com")));
            assertThat(list.find("one@aol.com")).isPresent();
            assertThat(list.find("two@aol.com")).isPresent();
            assertThat(list.find("THREE@gmail.com")).isPresent();
        }
    }

    @Test
    void reopeningReadsRowsTheIndexNeverSaw() throws Exception {
        openSingleProcess().close();
        // Written past the store, as by an earlier version or a restore: only reading the table at open finds it.
        try (Connection c = h2.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO "
                + JdbcSuppressionList.TABLE + " (address, domain, since_ms, reason, reply, rule_id, source)"
                + " VALUES ('restored@aol.com', 'aol.com', 0, 'userunknown', '550', 'r', 'BOUNCE')")) {
            ps.executeUpdate();
        }
        try (JdbcSuppressionList list = openSingleProcess()) {
            assertThat(list.find("Restored@AOL.com")).isPresent();
        }
    }

    @Test
    void aRemovedAddressIsAbsentThoughItsBitsStay() {
        try (JdbcSuppressionList list = openSingleProcess()) {
            list.add(entry("bob@aol.com"));
            assertThat(list.remove("bob@aol.com")).isTrue();
            assertThat(list.find("bob@aol.com")).isEmpty();
            list.add(entry("bob@aol.com"));
            assertThat(list.find("bob@aol.com")).isPresent();
        }
    }

    @Test
    void anExpiredEntryIsStillJudgedOnItsRow() {
        Clock later = Clock.fixed(T0.plus(Duration.ofDays(400)), ZoneOffset.UTC);
        SuppressionExpiry yearly = SuppressionExpiry.of(Map.of("userunknown", Duration.ofDays(365)));
        try (JdbcSuppressionList list = built(JdbcSuppressionList.open(Database.on(counted, "counted H2", true), yearly,
                later))) {
            list.add(entry("old@aol.com"));
            assertThat(list.find("old@aol.com")).isEmpty();
            assertThat(list.findStored("old@aol.com")).isPresent();
            list.add(SuppressionEntry.of("old@aol.com", later.instant(), "userunknown", "550", "r",
                    SuppressionEntry.Source.BOUNCE, Optional.empty()));
            assertThat(list.find("old@aol.com")).isPresent();
        }
    }

    @Test
    void aSharedDatabaseIsReadEveryTimeSinceOtherNodesAddToIt() {
        Database shared = Database.on(counted, "counted H2, shared");
        try (JdbcSuppressionList node = JdbcSuppressionList.open(shared);
             JdbcSuppressionList otherNode = JdbcSuppressionList.open(shared)) {
            assertThat(node.find("bob@aol.com")).isEmpty();
            otherNode.add(entry("bob@aol.com"));
            assertThat(node.find("bob@aol.com")).isPresent();
            connections.set(0);
            assertThat(node.find("nobody@example.net")).isEmpty();
            assertThat(connections).hasValue(1);
        }
    }

    @Test
    void growsPastItsSizeAndKeepsEveryAddress() {
        Database db = Database.on(h2, "H2", true);
        try (JdbcSuppressionList table = JdbcSuppressionList.open(Database.on(h2, "H2, no index"))) {
            table.add(entry("first@aol.com"));
            SuppressionIndex index = SuppressionIndex.build(db, JdbcSuppressionList.TABLE, 10);
            assertThat(index.expectedInsertions()).isEqualTo(10);
            for (int i = 0; i < 100; i++) {
                String address = "user-" + i + "@aol.com";
                table.add(entry(address));
                index.added(address, true);
            }
            assertThat(index.expectedInsertions()).isGreaterThanOrEqualTo(100);
            assertThat(index.mightContain("first@aol.com")).isTrue();
            IntStream.range(0, 100).forEach(i -> assertThat(index.mightContain("user-" + i + "@aol.com")).isTrue());
            long falsePositives = misses(2_000).stream().filter(index::mightContain).count();
            assertThat(falsePositives).isLessThan(60);
        }
    }
}
