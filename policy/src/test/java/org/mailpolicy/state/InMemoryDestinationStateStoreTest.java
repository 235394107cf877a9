package org.mailpolicy.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.destination.PacingSettings;
import org.mailpolicy.destination.RateLimit;

class InMemoryDestinationStateStoreTest extends DestinationStateStoreContract {
    @Override
    protected DestinationStateStore newStore(Duration busyWait, Duration idleAfter) {
        return new InMemoryDestinationStateStore(busyWait, idleAfter);
    }

    /**
     * A backlog larger than the line (the head-of-line benchmark's 5,000 mails to a paced AOL): past the places the
     * line gives, each refused mail is told its own time to ask again, half a pace after the one before, instead of
     * all of them the line's end, where all but one would be refused again, round after round.
     */
    @Test
    void aBacklogBeyondTheLineComesBackSpreadOutNotAllAtTheLinesEnd() {
        DestinationPolicy paced = DestinationPolicy.builder("aol").domains(ImmutableList.of("aol.com"))
                .concurrency(1).rate(RateLimit.of(60, Duration.ofMinutes(1))).pacing(PacingSettings.FIXED).build();
        DestinationStateStore store = newStore(Duration.ofSeconds(10), Duration.ofMinutes(10));
        assertThat(store.admit(paced, T0).isGranted()).isTrue();
        Instant lineEnd = null;
        int places = 0;
        List<Instant> comeBack = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            Admission a = store.admit(paced, T0.plusMillis(1 + i));
            assertThat(a.isGranted()).isFalse();
            if (a.isReservation()) {
                places++;
                lineEnd = a.notBefore().get().plusSeconds(1);
            } else {
                comeBack.add(a.notBefore().get());
            }
        }
        assertThat(places).as("places given (a pace, 1 s, apart)").isEqualTo(20);
        assertThat(comeBack).hasSize(40);
        assertThat(comeBack.get(0)).as("the first beyond the line asks again at its end").isEqualTo(lineEnd);
        for (int i = 1; i < comeBack.size(); i++) {
            assertThat(Duration.between(comeBack.get(i - 1), comeBack.get(i))).as("after the one before, #%s", i)
                    .isEqualTo(Duration.ofMillis(500));
        }
        // Asking again at its time (nobody took the places in this test, so the line is over by then), it gets one.
        Admission again = store.admit(DestinationKey.of(paced), paced, Optional.empty(), comeBack.get(0));
        assertThat(again.isGranted() || again.isReservation()).as("admitted or placed: %s", again).isTrue();
    }
}
