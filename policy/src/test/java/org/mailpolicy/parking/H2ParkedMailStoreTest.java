package org.mailpolicy.parking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.mailpolicy.jdbc.Database;

/** The parked-mail contract on an in-memory H2 database (the embedded store's engine): always runs. */
class H2ParkedMailStoreTest extends ParkedMailStoreContract {
    @Override
    DataSource database() {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        h2.setUser("sa");
        h2.setPassword("");
        return h2;
    }

    /** A restarted node: what the dead process released is released again, and its old copy is stale. */
    @Test
    void reopeningTheEmbeddedFileParksAgainWhatThePreviousProcessReleased() {
        DataSource file = database();
        ParkedMailStore before = JdbcParkedMailStore.open(Database.on(file, "embedded", true), RELEASE_TIMEOUT, TAKE_TIMEOUT);
        before.park(ParkedMail.of("m1", "aol", T0, T0, "held"));
        before.park(ParkedMail.of("m2", "aol", T0, T0, "held"));
        Release lost = before.claim("aol", 1, T0).get(0);
        Release taken = before.claim("aol", 1, T0).get(0);
        before.take(taken.id(), taken.token(), T0);

        ParkedMailStore after = JdbcParkedMailStore.open(Database.on(file, "embedded", true), RELEASE_TIMEOUT, TAKE_TIMEOUT);

        assertThat(after.outstanding("aol", T0.plusSeconds(1))).isZero();
        assertThat(after.claim("aol", 5, T0.plusSeconds(1))).extracting(Release::id).containsExactlyInAnyOrder("m1", "m2");
        assertThat(after.take(lost.id(), lost.token(), T0.plusSeconds(2))).isEqualTo(ParkedMailStore.Take.STALE);
    }
}
