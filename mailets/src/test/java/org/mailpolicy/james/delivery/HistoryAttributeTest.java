package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Optional;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.junit.jupiter.api.Test;
import org.mailpolicy.schedule.AttemptHistory;

class HistoryAttributeTest {
    private static final Instant T = Instant.parse("2026-11-20T10:00:00Z");

    private static Mail mailWith(Attribute a) throws Exception {
        Mail mail = FakeMail.builder().name("m").build();
        if (a != null) {
            mail.setAttribute(a);
        }
        return mail;
    }

    @Test
    void roundTripsEveryField() throws Exception {
        AttemptHistory h = AttemptHistory.of("key|with|bars-to-aol.com", T, 3, Optional.of(T.plusSeconds(90)), true);

        assertThat(HistoryAttribute.read(mailWith(HistoryAttribute.of(h)), T.plusSeconds(999))).isEqualTo(h);
        AttemptHistory fresh = AttemptHistory.start("k", T);
        assertThat(HistoryAttribute.read(mailWith(HistoryAttribute.of(fresh)), T.plusSeconds(5))).isEqualTo(fresh);
    }

    @Test
    void aMailWithoutHistoryStartsNowUnderItsName() throws Exception {
        assertThat(HistoryAttribute.read(mailWith(null), T)).isEqualTo(AttemptHistory.start("m", T));
    }

    @Test
    void unreadableValuesAreNamed() throws Exception {
        Attribute garbage = new Attribute(HistoryAttribute.NAME, AttributeValue.of("v1|yesterday|1||false|k"));
        assertThatThrownBy(() -> HistoryAttribute.read(mailWith(garbage), T))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("org.mailpolicy.history").hasMessageContaining("mail m").hasMessageContaining("yesterday");
        Attribute wrongType = new Attribute(HistoryAttribute.NAME, AttributeValue.of(42));
        assertThatThrownBy(() -> HistoryAttribute.read(mailWith(wrongType), T))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be a String");
    }
}
