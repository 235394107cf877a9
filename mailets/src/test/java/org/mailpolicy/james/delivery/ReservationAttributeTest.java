package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.junit.jupiter.api.Test;
import org.mailpolicy.state.DestinationKey;

class ReservationAttributeTest {
    private static final Instant PLACE = Instant.parse("2026-12-06T10:00:05.123Z");

    @Test
    void aPlaceIsReadBackForItsOwnDestinationOnly() throws Exception {
        Mail mail = MailImpl.builder().name("m1").build();
        assertThat(ReservationAttribute.read(mail, DestinationKey.of("aol"))).isEmpty();

        mail.setAttribute(ReservationAttribute.of(DestinationKey.of("aol"), PLACE));
        assertThat(ReservationAttribute.read(mail, DestinationKey.of("aol"))).contains(PLACE);
        // Split or rerouted to another destination: its place there is none.
        assertThat(ReservationAttribute.read(mail, DestinationKey.of("example.org"))).isEmpty();
    }

    @Test
    void anUnreadablePlaceCountsAsNone() throws Exception {
        Mail mail = MailImpl.builder().name("m1").build();
        for (String bad : new String[] {"v1|aol|yesterday", "v2|aol|" + PLACE, "aol", ""}) {
            mail.setAttribute(new Attribute(ReservationAttribute.NAME, AttributeValue.of(bad)));
            assertThat(ReservationAttribute.read(mail, DestinationKey.of("aol"))).as(bad).isEmpty();
        }
        mail.setAttribute(new Attribute(ReservationAttribute.NAME, AttributeValue.of(42)));
        assertThat(ReservationAttribute.read(mail, DestinationKey.of("aol"))).isEmpty();
    }
}
