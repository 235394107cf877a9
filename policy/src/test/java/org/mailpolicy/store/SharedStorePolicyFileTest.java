package org.mailpolicy.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mailpolicy.destination.DeliveryPolicy;
import org.mailpolicy.destination.PolicyException;
import org.mailpolicy.jdbc.SharedDatabase;
import org.mailpolicy.destination.StoreSettings;

/** The policy file's choice of the shared PostgreSQL store, and its errors with file, line and field. */
class SharedStorePolicyFileTest {

    @Test
    void postgresqlStoreWithUrlAndCredentials() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: postgresql\n"
                + "  url: jdbc:postgresql://db.example.net:5432/mail\n"
                + "  user: james\n"
                + "  password: s3cret\n", "p.yaml");

        assertThat(p.suppression().store()).isEqualTo(StoreSettings.Store.POSTGRESQL);
        SharedDatabase db = p.suppression().database().get();
        assertThat(db.url()).isEqualTo("jdbc:postgresql://db.example.net:5432/mail");
        assertThat(db.user()).isEqualTo("james");
        assertThat(db).isEqualTo(SharedDatabase.of("jdbc:postgresql://db.example.net:5432/mail", "james", "s3cret"));
        assertThat(p.suppression().toString()).doesNotContain("s3cret");
        assertThat(db.maxConnections()).isEqualTo(SharedDatabase.DEFAULT_MAX_CONNECTIONS);
    }

    @Test
    void poolSizeIsASettingOfThePostgresqlStoreOnly() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: postgresql\n"
                + "  url: jdbc:postgresql://db.example.net:5432/mail\n"
                + "  user: james\n"
                + "  maxConnections: 25\n", "p.yaml");
        assertThat(p.suppression().database().get().maxConnections()).isEqualTo(25);

        assertThatThrownBy(() -> DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: postgresql\n"
                + "  url: jdbc:postgresql://db/mail\n"
                + "  user: james\n"
                + "  maxConnections: 0\n", "p.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("p.yaml:6: suppression.maxConnections: must be between 1 and 1000");
        assertThatThrownBy(() -> DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: h2\n"
                + "  maxConnections: 5\n", "p.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("p.yaml:4: suppression.maxConnections: only with store: postgresql");
    }

    @Test
    void h2RemainsTheDefault() throws Exception {
        DeliveryPolicy p = DeliveryPolicy.parse("version: 1\n", "p.yaml");
        assertThat(p.suppression().store()).isEqualTo(StoreSettings.Store.H2);
        assertThat(p.suppression().database()).isEmpty();
    }

    @Test
    void missingUrlAndUserAreReportedWithLines() {
        assertThatThrownBy(() -> DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: postgresql\n", "p.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("p.yaml:3: suppression.url: required with store: postgresql")
                .hasMessageContaining("suppression.user: required with store: postgresql");
    }

    @Test
    void databaseFieldsWithH2AndPathWithPostgresqlAreErrors() {
        assertThatThrownBy(() -> DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: h2\n"
                + "  url: jdbc:postgresql://db/mail\n", "p.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("p.yaml:4: suppression.url: only with store: postgresql");
        assertThatThrownBy(() -> DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: postgresql\n"
                + "  path: var/x\n"
                + "  url: jdbc:postgresql://db/mail\n"
                + "  user: james\n", "p.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("p.yaml:4: suppression.path: not with store: postgresql");
    }

    @Test
    void nonPostgresqlUrlIsAnError() {
        assertThatThrownBy(() -> DeliveryPolicy.parse("version: 1\n"
                + "suppression:\n"
                + "  store: postgresql\n"
                + "  url: jdbc:mysql://db/mail\n"
                + "  user: james\n", "p.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("p.yaml:4: suppression.url: must be a PostgreSQL JDBC URL");
    }
}
