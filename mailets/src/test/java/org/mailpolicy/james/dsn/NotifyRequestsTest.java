package org.mailpolicy.james.dsn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.DsnParameters;
import org.apache.mailet.DsnParameters.Notify;
import org.apache.mailet.DsnParameters.RecipientDsnParameters;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.junit.jupiter.api.Test;
import org.mailpolicy.report.DsnAction;

class NotifyRequestsTest {

    /** The parameters as James records them: keyed by the address as the client wrote it in RCPT TO. */
    private static Mail mail(String rcptAsWritten, RecipientDsnParameters parameters, String recipient) throws Exception {
        Mail mail = FakeMail.builder().name("m1").sender("alice@example.org").recipient(recipient).build();
        mail.setDsnParameters(DsnParameters.builder()
                .envId(DsnParameters.EnvId.of("env-1"))
                .ret(DsnParameters.Ret.HDRS)
                .addRcptParameter(new MailAddress(rcptAsWritten), parameters)
                .build().get());
        return mail;
    }

    @Test
    void aRecipientSpeltInAnotherCaseHasTheParametersItsRcptGave() throws Exception {
        NotifyRequests requests = NotifyRequests.of(mail("Bob@AOL.com",
                RecipientDsnParameters.of(EnumSet.of(Notify.FAILURE), new MailAddress("Bob.Original@example.net")),
                "bob@aol.com"));

        assertThat(requests.notify("bob@aol.com")).contains(EnumSet.of(Notify.FAILURE));
        assertThat(requests.originalRecipient("bob@aol.com")).contains("rfc822;Bob.Original@example.net");
        assertThat(requests.wants("bob@aol.com", DsnAction.FAILED)).isTrue();
        // FAILURE alone: no delay notice, whereas the default (no NOTIFY found) would send one.
        assertThat(requests.wants("bob@aol.com", DsnAction.DELAYED)).isFalse();
        assertThat(requests.wants("<BOB@aol.com>", DsnAction.DELAYED)).isFalse();
    }

    @Test
    void neverSilencesEveryActionWhateverTheCase() throws Exception {
        NotifyRequests requests = NotifyRequests.of(mail("bob@aol.com", RecipientDsnParameters.of(EnumSet.of(Notify.NEVER)),
                "Bob@aol.com"));

        for (DsnAction action : DsnAction.values()) {
            assertThat(requests.wants("Bob@aol.com", action)).as("wants %s", action).isFalse();
        }
    }

    @Test
    void withoutNotifyFailuresAndDelaysAreReportedAndSuccessesAreNot() throws Exception {
        NotifyRequests requests = NotifyRequests.of(mail("other@aol.com",
                RecipientDsnParameters.of(EnumSet.of(Notify.SUCCESS)), "bob@aol.com"));

        assertThat(requests.notify("bob@aol.com")).isEmpty();
        assertThat(requests.wants("bob@aol.com", DsnAction.FAILED)).isTrue();
        assertThat(requests.wants("bob@aol.com", DsnAction.DELAYED)).isTrue();
        assertThat(requests.wants("bob@aol.com", DsnAction.RELAYED)).isFalse();
        assertThat(requests.wants("other@aol.com", DsnAction.RELAYED)).isTrue();
        assertThat(requests.originalRecipient("bob@aol.com")).isEmpty();
    }

    @Test
    void readsTheMessageParameters() throws Exception {
        NotifyRequests requests = NotifyRequests.of(mail("bob@aol.com", RecipientDsnParameters.of(EnumSet.of(Notify.NEVER)),
                "bob@aol.com"));

        assertThat(requests.envelopeId()).contains("env-1");
        assertThat(requests.ret()).contains(DsnParameters.Ret.HDRS);
    }

    @Test
    void aMailWithoutParametersAsksOnlyForTheDefault() throws Exception {
        NotifyRequests requests = NotifyRequests.of(FakeMail.builder().name("m2").recipient("bob@aol.com").build());

        assertThat(requests.envelopeId()).isEmpty();
        assertThat(requests.ret()).isEmpty();
        assertThat(requests.notify("bob@aol.com")).isEmpty();
        assertThat(requests.wants("bob@aol.com", DsnAction.FAILED)).isTrue();
        assertThat(requests.wants("bob@aol.com", DsnAction.DELIVERED)).isFalse();
        assertThat(NotifyRequests.of(Optional.empty()).wants("bob@aol.com", DsnAction.DELAYED)).isTrue();
    }
}
