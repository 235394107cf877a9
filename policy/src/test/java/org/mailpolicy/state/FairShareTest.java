package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The arithmetic of a node's fair share of a destination's concurrency ({@link ClusterLeaseTest} runs it on two nodes). */
class FairShareTest {
    @Test
    void aSingleNodesShareIsTheWholeConcurrency() {
        for (long turn = 0; turn < 5; turn++) {
            assertThat(DestinationTransitions.fairShare(4, 1, 0, turn)).isEqualTo(4);
            assertThat(DestinationTransitions.fairShare(1, 1, 0, turn)).isEqualTo(1);
        }
        assertThat(DestinationTransitions.fairShare(4, 0, 0, 7)).as("no node counted yet: the asking one").isEqualTo(4);
    }

    @Test
    void whereTheConcurrencyDividesEveryNodeGetsTheSameInEveryTurn() {
        for (long turn = 0; turn < 4; turn++) {
            for (int place = 0; place < 2; place++) {
                assertThat(DestinationTransitions.fairShare(4, 2, place, turn)).isEqualTo(2);
            }
        }
    }

    /** 4 slots over 3 nodes: 2, 1 and 1, the 2 going round; rounded up (2 each), two nodes kept the third waiting. */
    @Test
    void theSharesAddUpToTheConcurrencyAndTheSlotLeftOverGoesRound() {
        assertSharesOverTurns(4, 3, new int[][] {{2, 1, 1}, {1, 1, 2}, {1, 2, 1}, {2, 1, 1}});
        assertSharesOverTurns(7, 3, new int[][] {{3, 2, 2}, {2, 2, 3}, {2, 3, 2}});
        assertSharesOverTurns(5, 4, new int[][] {{2, 1, 1, 1}, {1, 1, 1, 2}, {1, 1, 2, 1}, {1, 2, 1, 1}});
    }

    /** Fewer slots than nodes: a share of none for some, and every node has a slot in as many turns as there are slots. */
    @Test
    void withFewerSlotsThanNodesEveryNodeHasOneInTurn() {
        assertSharesOverTurns(2, 3, new int[][] {{1, 1, 0}, {1, 0, 1}, {0, 1, 1}, {1, 1, 0}});
        assertSharesOverTurns(1, 3, new int[][] {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}});
    }

    @Test
    void theSharesAddUpToTheConcurrencyForAnyNodesAndTurn() {
        for (int concurrency = 1; concurrency <= 9; concurrency++) {
            for (int nodes = 1; nodes <= 7; nodes++) {
                for (long turn = 0; turn < 2L * nodes; turn++) {
                    int sum = 0;
                    for (int place = 0; place < nodes; place++) {
                        int share = DestinationTransitions.fairShare(concurrency, nodes, place, turn);
                        assertThat(share).isBetween(concurrency / nodes, concurrency / nodes + 1);
                        sum += share;
                    }
                    assertThat(sum).as("%d slots over %d nodes in turn %d", concurrency, nodes, turn).isEqualTo(concurrency);
                }
            }
        }
    }

    @Test
    void turnsFollowTheClockInStepsOfTheTurnsLength() {
        Duration turn = Duration.ofSeconds(5);
        Instant t = Instant.ofEpochSecond(1_000_000_000L);
        assertThat(DestinationTransitions.shareTurn(t, turn)).isEqualTo(200_000_000L);
        assertThat(DestinationTransitions.shareTurn(t.plusMillis(4_999), turn)).isEqualTo(200_000_000L);
        assertThat(DestinationTransitions.shareTurn(t.plusMillis(5_000), turn)).isEqualTo(200_000_001L);
    }

    @Test
    void aNodesPlaceIsHowManyOfTheSharingNodesSortBeforeIt() {
        assertThat(DestinationTransitions.placeAmong("b", ImmutableList.of("c", "a", "b"))).isEqualTo(1);
        assertThat(DestinationTransitions.placeAmong("b", ImmutableList.of("c", "a"))).as("itself not listed").isEqualTo(1);
        assertThat(DestinationTransitions.placeAmong("a", ImmutableList.of("c", "b"))).isZero();
        assertThat(DestinationTransitions.placeAmong("d", ImmutableList.of("c", "a", "b"))).isEqualTo(3);
    }

    /** {@code expected[turn][place]}: the share of the node at each place in turns 0, 1, ... */
    private static void assertSharesOverTurns(int concurrency, int nodes, int[][] expected) {
        for (int turn = 0; turn < expected.length; turn++) {
            int[] shares = new int[nodes];
            for (int place = 0; place < nodes; place++) {
                shares[place] = DestinationTransitions.fairShare(concurrency, nodes, place, turn);
            }
            assertThat(shares).as("%d slots over %d nodes in turn %d", concurrency, nodes, turn).containsExactly(expected[turn]);
        }
    }

    @Test
    void withNobodyWaitingEveryFreeSlotMayBeLeased() {
        assertThat(DestinationTransitions.leasableWithinShare(3, false, 2, 2, 0)).isEqualTo(3);
    }

    @Test
    void whileAnotherWaitsANodeLeasesUpToItsShare() {
        assertThat(DestinationTransitions.leasableWithinShare(3, true, 2, 0, 0)).isEqualTo(2);
        assertThat(DestinationTransitions.leasableWithinShare(3, true, 2, 1, 0)).isEqualTo(1);
        assertThat(DestinationTransitions.leasableWithinShare(3, true, 2, 2, 0)).isZero();
        assertThat(DestinationTransitions.leasableWithinShare(3, true, 2, 3, 0)).as("beyond its share").isZero();
        assertThat(DestinationTransitions.leasableWithinShare(1, true, 2, 0, 0)).as("never more than is free").isEqualTo(1);
    }

    @Test
    void attemptsAnExpiredLeaseNoLongerCountsGetSlotsBeyondTheShareAsFarAsTheyAreFree() {
        assertThat(DestinationTransitions.leasableWithinShare(4, true, 2, 0, 3)).isEqualTo(3);
        assertThat(DestinationTransitions.leasableWithinShare(1, true, 2, 0, 3)).isEqualTo(1);
    }
}
