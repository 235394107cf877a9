package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.jdbcx.JdbcDataSource;
import org.mailpolicy.jdbc.Database;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcSuppressionListTest {
    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

    @TempDir
    Path dir;
    private Path fileBase;
    private JdbcSuppressionList list;

    @BeforeEach
    void open() {
        fileBase = dir.resolve("var/delivery-policy/suppressions");
        list = JdbcSuppressionList.openH2(fileBase);
    }

    @AfterEach
    void close() {
        list.close();
    }

    private static SuppressionEntry entry(String address, Instant since) {
        return SuppressionEntry.of(address, since, "userunknown", "550 MAILBOX NOT FOUND", "aol.mailbox-not-found",
                SuppressionEntry.Source.LIVE_REPLY, Optional.of("<m1@example.com>"));
    }

    @Test
    void addFindRemove() {
        assertThat(list.find("bob@aol.com")).isEmpty();
        assertThat(list.add(entry("bob@aol.com", T0))).isTrue();
        SuppressionEntry found = list.find("bob@aol.com").get();
        assertThat(found).isEqualTo(entry("bob@aol.com", T0));
        assertThat(found.messageId()).contains("<m1@example.com>");
        assertThat(found.source()).isEqualTo(SuppressionEntry.Source.LIVE_REPLY);
        assertThat(list.remove("bob@aol.com")).isTrue();
        assertThat(list.remove("bob@aol.com")).isFalse();
        assertThat(list.find("bob@aol.com")).isEmpty();
    }

    @Test
    void caseInsensitiveAndKeepsTheFirstEntry() {
        assertThat(list.add(entry("Bob@AOL.com", T0))).isTrue();
        assertThat(list.add(entry("bob@aol.COM", T0.plusSeconds(3600)))).isFalse();
        SuppressionEntry found = list.find("BOB@aol.com").get();
        assertThat(found.address()).isEqualTo("bob@aol.com");
        assertThat(found.since()).isEqualTo(T0);
        assertThat(list.find("<bob@aol.com>")).isPresent();
        assertThat(list.remove("BOB@AOL.COM")).isTrue();
    }

    @Test
    void aSecondSuppressionOfAnAddressIsAConfirmation() {
        assertThat(list.add(entry("bob@aol.com", T0))).isTrue();
        assertThat(list.find("bob@aol.com").get().confirmations()).isEqualTo(1);
        assertThat(list.find("bob@aol.com").get().lastConfirmed()).isEqualTo(T0);

        assertThat(list.add(SuppressionEntry.of("BOB@aol.com", T0.plusSeconds(3600), "userunknown", "550 no such user",
                "other.rule", SuppressionEntry.Source.BOUNCE, Optional.empty()))).isFalse();

        SuppressionEntry confirmed = list.find("bob@aol.com").get();
        assertThat(confirmed.confirmations()).isEqualTo(2);
        assertThat(confirmed.lastConfirmed()).isEqualTo(T0.plusSeconds(3600));
        // The first entry's evidence stays.
        assertThat(confirmed.since()).isEqualTo(T0);
        assertThat(confirmed.ruleId()).isEqualTo("aol.mailbox-not-found");
        assertThat(confirmed.source()).isEqualTo(SuppressionEntry.Source.LIVE_REPLY);
        assertThat(list.list(Optional.empty(), 0, 10)).containsExactly(confirmed);
    }

    @Test
    void anExpiredEntryNoLongerSuppressesUntilItIsConfirmedAgain() {
        list.close();
        MutableClockForTest clock = new MutableClockForTest(T0);
        SuppressionExpiry expiry = SuppressionExpiry.of(Map.of("userunknown", Duration.ofDays(365)));
        list = JdbcSuppressionList.openH2(fileBase, expiry, clock);
        list.add(entry("bob@aol.com", T0));
        list.add(SuppressionEntry.of("carol@aol.com", T0, SuppressionEntry.MANUAL_REASON, "", "manual",
                SuppressionEntry.Source.MANUAL, Optional.empty()));

        clock.now = T0.plus(Duration.ofDays(365)).minusMillis(1);
        assertThat(list.find("bob@aol.com")).isPresent();
        clock.now = T0.plus(Duration.ofDays(365));
        assertThat(list.find("bob@aol.com")).isEmpty();
        assertThat(list.findStored("bob@aol.com")).contains(entry("bob@aol.com", T0));
        // A reason without an expiry holds for good.
        assertThat(list.find("carol@aol.com")).isPresent();

        // Sent to again and refused again: confirmed, and suppressing for another year.
        list.add(entry("bob@aol.com", clock.now));
        assertThat(list.find("bob@aol.com").get().confirmations()).isEqualTo(2);
        clock.now = clock.now.plus(Duration.ofDays(364));
        assertThat(list.find("bob@aol.com")).isPresent();
    }

    /** A clock the test moves. */
    private static final class MutableClockForTest extends Clock {
        Instant now;

        MutableClockForTest(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void listsAndCountsByDomainInPages() {
        for (int i = 0; i < 25; i++) {
            list.add(entry(String.format("user%02d@aol.com", i), T0.plusSeconds(i)));
        }
        list.add(entry("a@yahoo.com", T0));
        list.add(entry("z@yahoo.com", T0));
        assertThat(list.count(Optional.empty())).isEqualTo(27);
        assertThat(list.count(Optional.of("AOL.com"))).isEqualTo(25);
        assertThat(list.count(Optional.of("@yahoo.com"))).isEqualTo(2);
        assertThat(list.count(Optional.of("gmail.com"))).isZero();

        List<SuppressionEntry> page2 = list.list(Optional.of("aol.com"), 10, 10);
        assertThat(page2).extracting(SuppressionEntry::address).first().isEqualTo("user10@aol.com");
        assertThat(page2).hasSize(10);
        assertThat(list.list(Optional.of("aol.com"), 20, 10)).hasSize(5);
        assertThat(list.list(Optional.empty(), 0, 3)).extracting(SuppressionEntry::address)
                .containsExactly("a@yahoo.com", "user00@aol.com", "user01@aol.com");
        assertThat(list.list(Optional.empty(), 0, 0)).isEmpty();
        assertThatThrownBy(() -> list.list(Optional.empty(), -1, 10)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void survivesARestartOfTheStore() {
        list.add(entry("bob@aol.com", T0));
        list.add(SuppressionEntry.of("manual@example.org", T0, "manual", "", "operator",
                SuppressionEntry.Source.MANUAL, Optional.empty()));
        list.close();
        assertThat(Files.exists(fileBase.resolveSibling("suppressions.mv.db"))).isTrue();

        list = JdbcSuppressionList.openH2(fileBase);
        assertThat(list.find("bob@aol.com")).contains(entry("bob@aol.com", T0));
        SuppressionEntry manual = list.find("manual@example.org").get();
        assertThat(manual.messageId()).isEmpty();
        assertThat(manual.source()).isEqualTo(SuppressionEntry.Source.MANUAL);
        assertThat(list.count(Optional.empty())).isEqualTo(2);
    }

    @Test
    void concurrentAddsOfTheSameAndDifferentAddresses() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger newForShared = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            final int thread = t;
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 50; i++) {
                    list.add(entry("t" + thread + "-" + i + "@aol.com", T0));
                    if (list.add(entry("shared" + i + "@aol.com", T0.plusSeconds(thread)))) {
                        newForShared.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(newForShared.get()).isEqualTo(50);
        assertThat(list.count(Optional.empty())).isEqualTo(8 * 50 + 50);
        // Every later add was a confirmation, and none was lost to a race.
        assertThat(list.find("shared7@aol.com").get().confirmations()).isEqualTo(8);
    }

    @Test
    void addAllImportsInChunksAndEveryAddressKeepsItsFirstEntry() {
        assertThat(list.add(entry("bob@aol.com", T0))).isTrue();
        int many = JdbcSuppressionList.BULK_CHUNK * 2 + 500;
        List<SuppressionEntry> entries = new ArrayList<>();
        // More than two transactions' worth, in no particular order, with a repeat (in other case)
        // and an address that is already listed.
        for (int i = many; i > 0; i--) {
            entries.add(entry("user" + (i * 7919 % many) + "@example" + (i % 7) + ".com", T0));
        }
        entries.add(entry("Carol@AOL.com", T0.plusSeconds(60)));
        entries.add(entry("carol@aol.com", T0.plusSeconds(120)));
        entries.add(entry("BOB@aol.com", T0.plusSeconds(180)));

        assertThat(list.addAll(entries)).isEqualTo(many + 1);
        assertThat(list.count(Optional.empty())).isEqualTo(many + 2);
        assertThat(list.find("carol@aol.com").get().since()).isEqualTo(T0.plusSeconds(60));
        assertThat(list.find("bob@aol.com").get().since()).isEqualTo(T0);
        SuppressionEntry someone = entries.get(1234);
        assertThat(list.find(someone.address())).contains(someone);
        // Importing the same list again is harmless, and no evidence: nothing is confirmed.
        assertThat(list.addAll(entries)).isZero();
        assertThat(list.count(Optional.empty())).isEqualTo(many + 2);
        assertThat(list.find("bob@aol.com").get().confirmations()).isEqualTo(1);
        assertThat(list.find(someone.address()).get().confirmations()).isEqualTo(1);
    }

    @Test
    void addAllReadsItsEntriesOnceAndAcceptsNothing() {
        assertThat(list.addAll(new ArrayList<>())).isZero();
        List<SuppressionEntry> entries = List.of(entry("a@aol.com", T0), entry("b@aol.com", T0));
        Iterator<SuppressionEntry> once = entries.iterator();
        // A stream of lines can be read only once: an Iterable over it must be enough.
        assertThat(list.addAll(() -> once)).isEqualTo(2);
        assertThat(list.count(Optional.empty())).isEqualTo(2);
        assertThatThrownBy(() -> list.addAll(Arrays.asList(entry("c@aol.com", T0), null)))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void concurrentImportsAndAddsOfTheSameAddressesCountEachOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger added = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            final int thread = t;
            futures.add(pool.submit(() -> {
                start.await();
                for (int round = 0; round < 10; round++) {
                    List<SuppressionEntry> batch = new ArrayList<>();
                    for (int i = 0; i < 60; i++) {
                        batch.add(entry("u" + ((round * 60 + i * 7 + thread * 13) % 400) + "@aol.com", T0.plusSeconds(thread)));
                    }
                    if (thread < 2) {
                        added.addAndGet((int) list.addAll(batch));
                    } else {
                        for (SuppressionEntry e : batch) {
                            added.addAndGet(list.add(e) ? 1 : 0);
                        }
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        long listed = list.count(Optional.empty());
        assertThat(listed).isEqualTo(400);
        assertThat(added.get()).isEqualTo(400);
    }

    @Test
    void aPageOfOneDomainIsReadInTheDomainIndexOrder() throws Exception {
        for (int i = 0; i < 50; i++) {
            list.add(entry("user" + i + "@" + (i % 2 == 0 ? "aol.com" : "yahoo.com"), T0));
        }
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:file:" + fileBase.toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE;AUTO_SERVER=FALSE");
        ds.setUser("sa");
        ds.setPassword("");
        // Not sorting the domain's rows: H2 walks the (domain, address) index and stops after the page.
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("EXPLAIN " + JdbcSuppressionList.listSql(true))) {
            ps.setString(1, "aol.com");
            ps.setInt(2, 0);
            ps.setInt(3, 10);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).containsIgnoringCase(JdbcSuppressionList.TABLE + "_domain")
                        .contains("index sorted");
            }
        }
    }

    @Test
    void compactingShrinksTheFileAndKeepsEveryEntry() throws Exception {
        List<SuppressionEntry> entries = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            entries.add(entry("user" + i + "@aol.com", T0));
        }
        list.addAll(entries);
        for (int i = 0; i < 20_000; i += 2) {
            list.remove("user" + i + "@aol.com");
        }
        list.close();
        Path file = fileBase.resolveSibling("suppressions.mv.db");
        long before = Files.size(file);

        list = JdbcSuppressionList.openH2(fileBase);
        list.compactAndClose();
        assertThat(Files.size(file)).isLessThan(before);
        list = JdbcSuppressionList.openH2(fileBase);
        assertThat(list.count(Optional.empty())).isEqualTo(10_000);
        assertThat(list.find("user1@aol.com")).contains(entry("user1@aol.com", T0));
    }

    @Test
    void compactingLeavesACallerOwnedDataSourceAlone() {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:compact-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        try (JdbcSuppressionList other = JdbcSuppressionList.open(Database.on(ds, "H2 in memory"))) {
            other.add(entry("x@y.com", T0));
            other.compactAndClose();
        }
        try (JdbcSuppressionList again = JdbcSuppressionList.open(Database.on(ds, "H2 in memory"))) {
            assertThat(again.count(Optional.empty())).isEqualTo(1);
        }
    }

    @Test
    void rejectsInvalidAddressesClearly() {
        for (String bad : new String[] {"", "   ", "no-at-sign", "@aol.com", "bob@", "a@b@c.com", "bob smith@aol.com",
            "bob@aol..com", "bob\r\n@aol.com", "<>"}) {
            assertThatThrownBy(() -> list.find(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageNotContaining("\n");
            assertThatThrownBy(() -> entry(bad, T0)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> list.find("no-at-sign")).hasMessage("not a mail address (expected local@domain): 'no-at-sign'");
        assertThatThrownBy(() -> list.remove(null)).hasMessage("address must not be null");
        StringBuilder longLocal = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            longLocal.append('x');
        }
        assertThatThrownBy(() -> list.find(longLocal + "@aol.com")).hasMessageContaining("longer than 320");
    }

    @Test
    void untrustedReplyIsBoundedAndFreeOfControlCharacters() {
        StringBuilder huge = new StringBuilder("550 no such user\r\nX-Injected: yes\u0000");
        for (int i = 0; i < 5000; i++) {
            huge.append('y');
        }
        list.add(SuppressionEntry.of("bob@aol.com", T0, "userunknown", huge.toString(), "r",
                SuppressionEntry.Source.BOUNCE, Optional.empty()));
        String stored = list.find("bob@aol.com").get().reply();
        assertThat(stored).hasSize(SuppressionEntry.MAX_TEXT_LENGTH).startsWith("550 no such user  X-Injected: yes ");
        assertThat(stored).doesNotContain("\r").doesNotContain("\n").doesNotContain("\u0000");
    }

    @Test
    void worksOverACallerOwnedDataSource() {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:suppression-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        try (JdbcSuppressionList other = JdbcSuppressionList.open(Database.on(ds, "H2 in memory"))) {
            assertThat(other.add(entry("x@y.com", T0))).isTrue();
            assertThat(other.find("X@Y.COM")).isPresent();
        }
        // The caller's database is still there after close.
        try (JdbcSuppressionList again = JdbcSuppressionList.open(Database.on(ds, "H2 in memory"))) {
            assertThat(again.count(Optional.empty())).isEqualTo(1);
        }
    }
}
