package org.mailpolicy.parking;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailpolicy.jdbc.Database;

/**
 * What every database the parked-mail schedule runs on must do: release each mail once, tell the
 * latest release's copy from an older one, and lose nothing a dead node had claimed or taken.
 * Subclasses give a fresh, empty database per test.
 */
abstract class ParkedMailStoreContract {
    static final Instant T0 = Instant.parse("2026-12-07T04:00:00Z");
    static final Duration RELEASE_TIMEOUT = Duration.ofMinutes(5);
    static final Duration TAKE_TIMEOUT = Duration.ofMinutes(10);

    abstract DataSource database();

    ParkedMailStore store;
    private DataSource dataSource;

    @BeforeEach
    void open() {
        dataSource = database();
        store = JdbcParkedMailStore.open(Database.on(dataSource, "test database"), RELEASE_TIMEOUT, TAKE_TIMEOUT);
    }

    /** A second node's store on the same database. */
    ParkedMailStore otherNode() {
        return JdbcParkedMailStore.open(Database.on(dataSource, "test database"), RELEASE_TIMEOUT, TAKE_TIMEOUT);
    }

    private static ParkedMail parked(String id, String destination, Instant due) {
        return ParkedMail.of(id, destination, due, T0, "held until " + due);
    }

    @Test
    void aParkedMailIsReleasedOnlyOnceDue() {
        store.park(parked("m1", "aol", T0.plusSeconds(600)));

        assertThat(store.destinationsDue(T0.plusSeconds(599))).isEmpty();
        assertThat(store.claim("aol", 10, T0.plusSeconds(599))).isEmpty();
        assertThat(store.destinationsDue(T0.plusSeconds(600))).containsExactly("aol");
        List<Release> released = store.claim("aol", 10, T0.plusSeconds(600));

        assertThat(released).extracting(Release::id).containsExactly("m1");
        assertThat(store.claim("aol", 10, T0.plusSeconds(601))).as("claimed already").isEmpty();
        assertThat(store.outstanding("aol", T0.plusSeconds(601))).isEqualTo(1);
    }

    @Test
    void claimsTakeEarliestDueFirstAndNoMoreThanAsked() {
        store.park(parked("late", "aol", T0.plusSeconds(30)));
        store.park(parked("early", "aol", T0.plusSeconds(10)));
        store.park(parked("middle", "aol", T0.plusSeconds(20)));
        store.park(parked("other", "example.org", T0));

        assertThat(store.claim("aol", 2, T0.plusSeconds(60))).extracting(Release::id).containsExactly("early", "middle");
        assertThat(store.claim("aol", 0, T0.plusSeconds(60))).isEmpty();
        assertThat(store.claim("aol", 5, T0.plusSeconds(60))).extracting(Release::id).containsExactly("late");
    }

    @Test
    void theCopyOfTheCurrentReleaseIsDeliveredAndFinishingForgetsIt() {
        store.park(parked("m1", "aol", T0));
        Release r = store.claim("aol", 1, T0).get(0);

        assertThat(store.take("m1", r.token(), T0.plusSeconds(1))).isEqualTo(ParkedMailStore.Take.DELIVER);
        // The queue gives the same copy back (an attempt failed before acknowledging): taken again.
        assertThat(store.take("m1", r.token(), T0.plusSeconds(2))).isEqualTo(ParkedMailStore.Take.DELIVER);
        assertThat(store.finish("m1")).isTrue();

        assertThat(store.get("m1")).isEmpty();
        assertThat(store.take("m1", r.token(), T0.plusSeconds(3))).as("finished").isEqualTo(ParkedMailStore.Take.STALE);
        assertThat(store.finish("m1")).isFalse();
        assertThat(store.summaries(T0.plusSeconds(3))).isEmpty();
    }

    @Test
    void aReleaseNeverTakenIsReleasedAgainAndTheOlderCopyIsStale() {
        store.park(parked("m1", "aol", T0));
        Release first = store.claim("aol", 1, T0).get(0);

        assertThat(store.claim("aol", 1, T0.plus(RELEASE_TIMEOUT).minusSeconds(1))).as("not yet presumed lost").isEmpty();
        List<Release> again = store.claim("aol", 1, T0.plus(RELEASE_TIMEOUT));

        assertThat(again).extracting(Release::id).containsExactly("m1");
        assertThat(again.get(0).token()).isNotEqualTo(first.token());
        assertThat(store.take("m1", first.token(), T0.plus(RELEASE_TIMEOUT).plusSeconds(1)))
                .isEqualTo(ParkedMailStore.Take.STALE);
        assertThat(store.take("m1", again.get(0).token(), T0.plus(RELEASE_TIMEOUT).plusSeconds(2)))
                .isEqualTo(ParkedMailStore.Take.DELIVER);
    }

    @Test
    void aTakenMailIsNotReleasedAgainUntilItsAttemptIsPresumedDead() {
        store.park(parked("m1", "aol", T0));
        Release r = store.claim("aol", 1, T0).get(0);
        store.take("m1", r.token(), T0.plusSeconds(1));

        assertThat(store.claim("aol", 1, T0.plus(RELEASE_TIMEOUT).plusSeconds(60))).as("being delivered").isEmpty();
        assertThat(store.outstanding("aol", T0.plus(RELEASE_TIMEOUT).plusSeconds(60))).isEqualTo(1);
        List<Release> again = store.claim("aol", 1, T0.plusSeconds(1).plus(TAKE_TIMEOUT));

        assertThat(again).extracting(Release::id).containsExactly("m1");
        assertThat(store.take("m1", r.token(), T0.plus(TAKE_TIMEOUT).plusSeconds(2))).isEqualTo(ParkedMailStore.Take.STALE);
    }

    @Test
    void aClaimThatCouldNotBeQueuedIsParkedAgainDueNow() {
        store.park(parked("m1", "aol", T0));
        Release r = store.claim("aol", 1, T0).get(0);

        assertThat(store.unclaim(r, T0.plusSeconds(5))).isTrue();

        assertThat(store.outstanding("aol", T0.plusSeconds(5))).isZero();
        assertThat(store.take("m1", r.token(), T0.plusSeconds(5))).isEqualTo(ParkedMailStore.Take.STALE);
        assertThat(store.claim("aol", 1, T0.plusSeconds(5))).extracting(Release::id).containsExactly("m1");
        assertThat(store.unclaim(r, T0.plusSeconds(6))).as("an older release").isFalse();
    }

    @Test
    void makeDueBringsADestinationsParkedMailForwardOnly() {
        store.park(parked("a1", "aol", T0.plusSeconds(3600)));
        store.park(parked("a2", "aol", T0.plusSeconds(7200)));
        store.park(parked("o1", "example.org", T0.plusSeconds(3600)));

        assertThat(store.makeDue("aol", T0.plusSeconds(10))).isEqualTo(2);

        assertThat(store.destinationsDue(T0.plusSeconds(10))).containsExactly("aol");
        assertThat(store.get("a2").get().due()).isEqualTo(T0.plusSeconds(10));
        assertThat(store.get("o1").get().due()).isEqualTo(T0.plusSeconds(3600));
    }

    @Test
    void summariesCountParkedAndReleasedPerDestination() {
        store.park(ParkedMail.of("a1", "aol", T0.plusSeconds(100), T0.minusSeconds(50), "held"));
        store.park(ParkedMail.of("a2", "aol", T0.plusSeconds(200), T0, "held"));
        store.park(ParkedMail.of("a3", "aol", T0, T0, "retry"));
        store.park(ParkedMail.of("o1", "example.org", T0.plusSeconds(300), T0, "retry"));
        store.claim("aol", 1, T0);

        List<ParkedSummary> s = store.summaries(T0);

        assertThat(s).extracting(ParkedSummary::destination).containsExactly("aol", "example.org");
        assertThat(s.get(0).parked()).isEqualTo(2);
        assertThat(s.get(0).released()).isEqualTo(1);
        assertThat(s.get(0).oldest()).contains(T0.minusSeconds(50));
        assertThat(s.get(0).nextDue()).contains(T0.plusSeconds(100));
        assertThat(s.get(1).parked()).isEqualTo(1);
        assertThat(s.get(1).nextDue()).contains(T0.plusSeconds(300));
    }

    @Test
    void aParkedMailIsReadBackAsParked() {
        ParkedMail m = ParkedMail.of("m1", "aol", T0.plusSeconds(60), T0, "destination aol held until later");
        store.park(m);

        assertThat(store.get("m1")).contains(m);
        assertThat(otherNode().get("m1")).as("another node sees it").contains(m);
    }

    /** Two nodes' releasers claiming the same destination at once: every mail released once, none twice. */
    @Test
    void concurrentReleasersOnTwoNodesReleaseEachMailExactlyOnce() throws Exception {
        int mails = 300;
        for (int i = 0; i < mails; i++) {
            store.park(parked(String.format("m%04d", i), "aol", T0));
        }
        ParkedMailStore[] nodes = {store, otherNode(), otherNode(), store};
        ExecutorService pool = Executors.newFixedThreadPool(nodes.length);
        try {
            List<Future<List<String>>> claimed = new ArrayList<>();
            for (ParkedMailStore node : nodes) {
                Callable<List<String>> releaser = () -> {
                    List<String> mine = new ArrayList<>();
                    while (true) {
                        List<Release> batch = node.claim("aol", 7, T0.plusSeconds(1));
                        if (batch.isEmpty()) {
                            return mine;
                        }
                        batch.forEach(r -> mine.add(r.id()));
                    }
                };
                claimed.add(pool.submit(releaser));
            }
            List<String> all = Collections.synchronizedList(new ArrayList<>());
            for (Future<List<String>> f : claimed) {
                all.addAll(f.get());
            }
            Set<String> distinct = new HashSet<>(all);
            assertThat(all).hasSize(mails);
            assertThat(distinct).hasSize(mails);
        } finally {
            pool.shutdownNow();
        }
    }
}
