package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The arithmetic of a node's fair share of a destination's concurrency ({@link ClusterLeaseTest} runs it on two nodes). */
class FairShareTest {
    @Test
    void theShareIsTheConcurrencyOverTheNodesRoundedUpAndAtLeastOne() {
        assertThat(DestinationTransitions.fairShare(4, 1)).isEqualTo(4);
        assertThat(DestinationTransitions.fairShare(4, 2)).isEqualTo(2);
        assertThat(DestinationTransitions.fairShare(4, 3)).isEqualTo(2);
        assertThat(DestinationTransitions.fairShare(3, 2)).isEqualTo(2);
        assertThat(DestinationTransitions.fairShare(2, 5)).isEqualTo(1);
        assertThat(DestinationTransitions.fairShare(4, 0)).as("no node counted yet: the asking one").isEqualTo(4);
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
