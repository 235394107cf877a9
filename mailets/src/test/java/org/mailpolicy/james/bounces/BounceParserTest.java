package org.mailpolicy.james.bounces;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailpolicy.james.bounces.Bounces.perMessageFields;

import com.google.common.base.Strings;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import javax.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

class BounceParserTest {

    @Test
    void readsFoldedFieldsAndStripsTypes() throws Exception {
        String status = perMessageFields()
                + "Final-Recipient: rfc822;\r\n  bob@aol.com\r\n"
                + "Action: Failed\r\n"
                + "Status: 5.1.1 (bad destination mailbox address)\r\n"
                + "Diagnostic-Code: smtp; 550 5.1.1 <bob@aol.com>:\r\n    Recipient address rejected\r\n\r\n";
        Bounce bounce = BounceParser.parse(Bounces.standardDsn(Bounces.original("<m1@example.com>", "bob@aol.com"), status)).get();

        BouncedRecipient bob = bounce.recipients().get(0);
        assertThat(bob.address()).isEqualTo("bob@aol.com");
        assertThat(bob.action()).isEqualTo("failed");
        assertThat(bob.status()).contains("5.1.1");
        assertThat(bob.diagnostic()).isEqualTo("550 5.1.1 <bob@aol.com>: Recipient address rejected");
        assertThat(bounce.originalMessageIds()).containsExactly("m1@example.com");
    }

    @Test
    void withoutDiagnosticTheStatusIsWhatGetsClassified() {
        BouncedRecipient r = BouncedRecipient.of("bob@aol.com", "failed", Optional.of("5.1.1"), "");
        assertThat(r.replyText()).isEqualTo("5.1.1");
    }

    @Test
    void controlCharactersInRemoteTextAreNeutralised() throws Exception {
        String status = perMessageFields()
                + "Final-Recipient: rfc822; bob@aol.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                + "Diagnostic-Code: smtp; 550 user unknown\u0000\u0007 injected\r\n\r\n";
        List<BouncedRecipient> rs = BounceParser.parseDeliveryStatus(status.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(rs.get(0).diagnostic()).doesNotContain("\u0000").doesNotContain("\u0007").contains("injected");
    }

    @Test
    void recipientCountIsBounded() throws Exception {
        StringBuilder status = new StringBuilder(perMessageFields());
        for (int i = 0; i < 1000; i++) {
            status.append(Bounces.recipientFields("u" + i + "@aol.com", "failed", "5.1.1", "550 5.1.1 unknown"));
        }
        List<BouncedRecipient> rs = BounceParser.parseDeliveryStatus(status.toString().getBytes(StandardCharsets.US_ASCII));
        assertThat(rs).hasSize(BounceParser.MAX_RECIPIENTS);
    }

    @Test
    void textBounceRecipientCountIsBounded() {
        StringBuilder exim = new StringBuilder("The following address(es) failed:\r\n\r\n");
        StringBuilder qmail = new StringBuilder("Hi. This is the qmail-send program at mx.example.org.\r\n\r\n");
        for (int i = 0; i < 1000; i++) {
            exim.append("  u").append(i).append("@example.org\r\n    550 5.1.1 unknown\r\n");
            qmail.append("<u").append(i).append("@example.org>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n");
        }
        assertThat(BounceParser.parseEximText(exim.toString())).hasSize(BounceParser.MAX_RECIPIENTS);
        assertThat(BounceParser.parseQmailText(qmail.toString())).hasSize(BounceParser.MAX_RECIPIENTS);
    }

    @Test
    void hugeDiagnosticIsTruncated() {
        BouncedRecipient r = BouncedRecipient.of("bob@aol.com", "failed", Optional.empty(), Strings.repeat("x", 100_000));
        assertThat(r.diagnostic()).hasSize(BouncedRecipient.MAX_TEXT);
    }

    @Test
    void reportWithoutRecipientsAndNoTextFormIsNotABounce() throws Exception {
        MimeMessage m = Bounces.standardDsn(Bounces.original("<m1@example.com>", "bob@aol.com"), perMessageFields());
        assertThat(BounceParser.parse(m)).isEmpty();
    }

    @Test
    void mailThatOnlySoundsLikeATextBounceIsNotOne() throws Exception {
        assertThat(BounceParser.parse(Bounces.plainMail("Hi. This is the agenda for Monday.\r\n\r\n<ann@example.com>:\r\ncoffee at ten\r\n")))
                .isEmpty();
        assertThat(BounceParser.parse(Bounces.plainMail("The following address(es) failed:\r\n"))).isEmpty();
    }

    @Test
    void garbageDoesNotThrow() throws Exception {
        MimeMessage m = Bounces.received(new MimeMessage(Bounces.SESSION,
                new java.io.ByteArrayInputStream(("Content-Type: multipart/report; boundary=\"x\"\r\n\r\n--x\r\n"
                        + "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n")
                        .getBytes(StandardCharsets.US_ASCII))));
        assertThat(BounceParser.parse(m)).isEmpty();
    }
}
