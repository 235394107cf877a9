package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
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
import org.mailpolicy.TestClock;
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
        TestClock clock = new TestClock(T0);
        SuppressionExpiry expiry = SuppressionExpiry.of(Map.of("userunknown", Duration.ofDays(365)));
        list = JdbcSuppressionList.openH2(fileBase, expiry, clock);
        list.add(entry("bob@aol.com", T0));
        list.add(SuppressionEntry.of("carol@aol.com", T0, SuppressionEntry.MANUAL_REASON, "", "manual",
                SuppressionEntry.Source.MANUAL, Optional.empty()));

        clock.set(T0.plus(Duration.ofDays(365)).minusMillis(1));
        assertThat(list.find("bob@aol.com")).isPresent();
        clock.set(T0.plus(Duration.ofDays(365)));
        assertThat(list.find("bob@aol.com")).isEmpty();
        assertThat(list.findStored("bob@aol.com")).contains(entry("bob@aol.com", T0));
        // A reason without an expiry holds for good.
        assertThat(list.find("carol@aol.com")).isPresent();

        // Sent to again and refused again: confirmed, and suppressing for another year.
        list.add(entry("bob@aol.com", clock.instant()));
        assertThat(list.find("bob@aol.com").get().confirmations()).isEqualTo(2);
        clock.step(Duration.ofDays(364));
        assertThat(list.find("bob@aol.com")).isPresent();
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

        // Pages in the store's order (a domain's entries together, by hash): together they are the domain, once each.
        List<String> aol = new java.util.ArrayList<>();
        for (int offset = 0; offset < 30; offset += 10) {
            list.list(Optional.of("aol.com"), offset, 10).forEach(e -> aol.add(e.address()));
        }
        assertThat(aol).hasSize(25).doesNotHaveDuplicates().allMatch(a -> a.endsWith("@aol.com"));
        assertThat(list.list(Optional.of("aol.com"), 20, 10)).hasSize(5);
        assertThat(list.list(Optional.of("aol.com"), 0, 10)).extracting(SuppressionEntry::address)
                .isEqualTo(aol.subList(0, 10));
        List<SuppressionEntry> all = list.list(Optional.empty(), 0, 100);
        assertThat(all).hasSize(27);
        // Each domain's entries come together.
        int firstYahoo = all.indexOf(list.findStored("a@yahoo.com").get());
        assertThat(all.subList(Math.min(firstYahoo, all.indexOf(list.findStored("z@yahoo.com").get())),
                Math.min(firstYahoo, all.indexOf(list.findStored("z@yahoo.com").get())) + 2))
                .extracting(SuppressionEntry::domain).containsOnly("yahoo.com");
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
    void aPageOfOneDomainReadsOnlyThatDomainsRangeOfKeys() throws Exception {
        for (int i = 0; i < 50; i++) {
            list.add(entry("user" + i + "@" + (i % 2 == 0 ? "aol.com" : "yahoo.com"), T0));
        }
        try (Connection c = h2().getConnection();
             PreparedStatement ps = c.prepareStatement("EXPLAIN "
                     + JdbcSuppressionList.listSql(true).replace("address_key", "_ROWID_"))) {
            ps.setLong(1, AddressKey.domainStart("aol.com"));
            ps.setLong(2, AddressKey.domainEnd("aol.com"));
            ps.setInt(3, 1);
            ps.setInt(4, 0);
            ps.setInt(5, 10);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                // The row ids' range, in their order: no sort, no scan of other domains.
                assertThat(rs.getString(1)).contains("_ROWID_ >=").contains("_ROWID_ <=").contains("index sorted");
            }
        }
    }

    private JdbcDataSource h2() {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:file:" + fileBase.toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE;AUTO_SERVER=FALSE");
        ds.setUser("sa");
        ds.setPassword("");
        return ds;
    }

    @Test
    void anAddressWhoseKeyAnotherAddressHoldsTakesTheNextKeyAndNeitherStandsForTheOther() throws Exception {
        list.add(entry("x@aol.com", T0)); // stores the texts
        long key = AddressKey.of("bob@aol.com");
        // Another address with bob's key, as a hash collision would store it: written directly.
        try (Connection c = h2().getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO " + JdbcSuppressionList.TABLE + " (_ROWID_, local_part, domain_id, since_ms, "
                    + "outcome_id, source_id, message_local, message_domain_id, confirmations, last_confirmed_ms) SELECT "
                    + key + ", 'collider', domain_id, since_ms, outcome_id, source_id, message_local, message_domain_id, "
                    + "confirmations, last_confirmed_ms FROM " + JdbcSuppressionList.TABLE + " WHERE local_part = 'x'");
        }
        assertThat(list.find("bob@aol.com")).isEmpty();
        assertThat(list.add(entry("bob@aol.com", T0.plusSeconds(5)))).isTrue();
        assertThat(list.find("bob@aol.com").get().since()).isEqualTo(T0.plusSeconds(5));
        assertThat(list.add(entry("bob@aol.com", T0.plusSeconds(9)))).isFalse();
        assertThat(list.find("bob@aol.com").get().confirmations()).isEqualTo(2);
        assertThat(rowAt(key)).isEqualTo("collider, confirmations null");
        assertThat(rowAt(key + 1)).isEqualTo("bob, confirmations 2");
        assertThat(list.remove("bob@aol.com")).isTrue();
        assertThat(list.find("bob@aol.com")).isEmpty();
        assertThat(rowAt(key)).isEqualTo("collider, confirmations null");
        // An import meets the taken key too, and probes as add does.
        assertThat(list.addAll(List.of(entry("bob@aol.com", T0), entry("ann@aol.com", T0)))).isEqualTo(2);
        assertThat(list.find("bob@aol.com")).isPresent();
        assertThat(list.count(Optional.of("aol.com"))).isEqualTo(4);
    }

    private String rowAt(long key) throws Exception {
        try (Connection c = h2().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT local_part, confirmations FROM " + JdbcSuppressionList.TABLE
                     + " WHERE _ROWID_ = " + key)) {
            return rs.next() ? rs.getString(1) + ", confirmations " + rs.getString(2) : "none";
        }
    }

    @Test
    void aReplyThatNamesItsRecipientIsStoredOnceForAll() throws Exception {
        for (String a : List.of("ann@aol.com", "bob@aol.com", "carl@yahoo.com")) {
            list.add(SuppressionEntry.of(a, T0, "userunknown", "550 5.1.1 <" + a + ">: Recipient address rejected",
                    "postfix.user-unknown", SuppressionEntry.Source.BOUNCE, Optional.empty()));
        }
        assertThat(list.find("BOB@aol.com").get().reply()).isEqualTo("550 5.1.1 <bob@aol.com>: Recipient address rejected");
        // A message id is kept as it was, with an @ (its host part stored as a text) or without.
        list.add(SuppressionEntry.of("dan@aol.com", T0, "userunknown", "550", "r", SuppressionEntry.Source.BOUNCE,
                Optional.of("no-at-sign-1234")));
        assertThat(list.find("dan@aol.com").get().messageId()).contains("no-at-sign-1234");
        list.add(SuppressionEntry.of("eve@aol.com", T0, "userunknown", "550", "r", SuppressionEntry.Source.BOUNCE,
                Optional.of("<a@b@host.example>")));
        assertThat(list.find("eve@aol.com").get().messageId()).contains("<a@b@host.example>");
        assertThat(list.find("carl@yahoo.com").get().reply())
                .isEqualTo("550 5.1.1 <carl@yahoo.com>: Recipient address rejected");
        try (Connection c = h2().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + SuppressionTexts.TABLE + " WHERE text LIKE '550 5.1.1%'")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    @Test
    void theIndexIsSavedOnCloseReadBackAtOpenAndReadFromTheTableWhenItsFileIsNotTheLastSaved() throws Exception {
        list.add(entry("bob@aol.com", T0));
        assertThat(list.awaitIndex(java.time.Duration.ofSeconds(30))).isTrue(); // an index still being read is not saved
        list.close();
        list = JdbcSuppressionList.openH2(fileBase);
        assertThat(list.indexSource()).isEqualTo("file");
        assertThat(list.awaitIndex(java.time.Duration.ofSeconds(30))).isTrue();
        assertThat(list.find("bob@aol.com")).isPresent();
        assertThat(list.find("ann@aol.com")).isEmpty();
        Path file = fileBase.resolveSibling("suppressions.suppression-index");
        byte[] older = Files.readAllBytes(file);
        list.add(entry("ann@aol.com", T0));
        list.close();
        // A file that is not the last saved (say, restored from a backup) is not trusted: the table is read.
        Files.write(file, older);
        list = JdbcSuppressionList.openH2(fileBase);
        assertThat(list.indexSource()).isEqualTo("table");
        assertThat(list.find("ann@aol.com")).isPresent(); // before the index is ready: the table answers
        assertThat(list.awaitIndex(java.time.Duration.ofSeconds(30))).isTrue();
        assertThat(list.find("ann@aol.com")).isPresent();
        assertThat(list.find("bob@aol.com")).isPresent();
        assertThat(list.find("carl@aol.com")).isEmpty();
    }

    @Test
    void aStoreThatWasNotClosedReadsItsIndexFromTheTable() throws Exception {
        list.add(entry("bob@aol.com", T0));
        assertThat(list.awaitIndex(java.time.Duration.ofSeconds(30))).isTrue();
        list.close();
        list = JdbcSuppressionList.openH2(fileBase);
        assertThat(list.indexSource()).isEqualTo("file");
        list.add(entry("ann@aol.com", T0));
        // A crash: the database stops without the list's close, so the file stays as saved before ann was added.
        try (Connection c = h2().getConnection(); Statement st = c.createStatement()) {
            st.execute("SHUTDOWN");
        } catch (java.sql.SQLException e) {
            // the pool's connections are gone with it
        }
        list = JdbcSuppressionList.openH2(fileBase);
        assertThat(list.indexSource()).isEqualTo("table");
        assertThat(list.awaitIndex(java.time.Duration.ofSeconds(30))).isTrue();
        assertThat(list.find("ann@aol.com")).isPresent();
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
    void aTableRestoredFromAnSqlScriptHasItsRowsPutBackAtTheirKeys() throws Exception {
        List<SuppressionEntry> entries = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            entries.add(entry("user" + i + "@" + (i % 3 == 0 ? "aol.com" : "yahoo.com"), T0.plusSeconds(i)));
        }
        list.addAll(entries);
        list.add(entry("user7@yahoo.com", T0.plusSeconds(99_999))); // a confirmation
        list.close();
        Path script = fileBase.resolveSibling("backup.sql");
        // The operator's backup and restore: a logical dump, then a new file loaded from it. Row ids are not in a dump.
        try (Connection c = h2().getConnection(); Statement st = c.createStatement()) {
            st.execute("SCRIPT TO '" + script + "'");
            st.execute("SHUTDOWN");
        }
        Files.delete(fileBase.resolveSibling("suppressions.mv.db"));
        try (Connection c = h2().getConnection(); Statement st = c.createStatement()) {
            st.execute("RUNSCRIPT FROM '" + script + "'");
            try (ResultSet rs = st.executeQuery("SELECT MIN(_ROWID_) FROM " + JdbcSuppressionList.TABLE)) {
                rs.next();
                assertThat(rs.getLong(1)).as("the restore renumbered the rows").isEqualTo(1);
            }
            st.execute("SHUTDOWN");
        }

        list = JdbcSuppressionList.openH2(fileBase);
        assertThat(list.count(Optional.empty())).isEqualTo(3_000);
        for (int i = 0; i < 3_000; i++) {
            String a = "user" + i + "@" + (i % 3 == 0 ? "aol.com" : "yahoo.com");
            assertThat(list.find(a)).as(a).isPresent();
        }
        assertThat(list.find("user7@yahoo.com").get().confirmations()).isEqualTo(2);
        assertThat(list.count(Optional.of("aol.com"))).isEqualTo(1_000);
        assertThat(list.find("nobody@aol.com")).isEmpty();
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
