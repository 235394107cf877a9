package org.mailpolicy.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.mailpolicy.reply.EnhancedStatus;

class DsnTextTest {

    /** The text with line breaks and indentation folded, to check sentences wherever wrapping falls. */
    private static String flat(String text) {
        return text.replaceAll("\\s+", " ");
    }

    @Test
    void tellsEachRecipientWhatHappenedWhyAndWhatToDo() {
        String text = DsnText.render(DeliveryReportTest.report(), "Quarterly figures");
        assertThat(text).startsWith("This is the mail system at mail.example.net.\n\n");
        assertThat(flat(text)).contains("Your message \"Quarterly figures\", sent Sun 22 Nov 2026 10:00 UTC, reached"
                + " some recipients but not all. Here is what happened to each one.");
        // Failed recipient.
        assertThat(text).contains("\nbob@aol.com\n    Not delivered: the delivery failed for good (status 5.1.1,"
                + " userunknown).\n");
        assertThat(text).contains("    Why: AOL says this mailbox does not exist.\n");
        assertThat(text).contains("    What to do: Check the address for typing mistakes.\n");
        assertThat(text).contains("    The receiving server mailin-01.mx.aol.com said: \"550 MAILBOX NOT FOUND\"\n");
        assertThat(text).contains("    The server will not try again.\n");
        // Delayed recipient: keeps trying, and until when.
        assertThat(text).contains("\ncarol@aol.com\n    Not delivered yet:");
        assertThat(flat(text)).contains("carol@aol.com Not delivered yet: the delivery has been delayed (status 4.7.1,"
                + " speeding).");
        assertThat(flat(text)).contains(" The server will keep trying until Fri 27 Nov 2026 10:00 UTC; if it still fails"
                + " by then, you will get another report. ");
        assertThat(text).contains("    Last attempt: Sun 22 Nov 2026 10:01 UTC.\n");
    }

    @Test
    void headlineFollowsTheOutcome() {
        DeliveryReport failed = DeliveryReport.of("m", Optional.empty(), Optional.empty(), Optional.empty(),
                ImmutableList.of(DeliveryReportTest.unknownUser()));
        assertThat(flat(DsnText.render(failed, "Hi"))).contains("Your message \"Hi\" could not be delivered to the recipient"
                + " below. Delivery has stopped.");
        DeliveryReport delayed = DeliveryReport.of("m", Optional.empty(), Optional.empty(), Optional.empty(),
                ImmutableList.of(DeliveryReportTest.throttled()));
        String d = flat(DsnText.render(delayed, null));
        assertThat(d).contains("Your message has not been delivered to the recipient below yet.");
        assertThat(d).contains("you do not need to send it again");
        DeliveryReport delivered = DeliveryReport.of("m", Optional.empty(), Optional.empty(), Optional.empty(),
                ImmutableList.of(RecipientReport.builder("x@y.z", DsnAction.DELIVERED, EnhancedStatus.of(2, 0, 0)).build()));
        assertThat(flat(DsnText.render(delivered, ""))).contains("Your message was delivered as shown below.")
                .contains("Delivered to the recipient's mailbox (status 2.0.0).").contains("Nothing more to do.")
                .doesNotContain("Why:").doesNotContain("said:");
    }

    @Test
    void untrustedTextCannotInjectLines() {
        String evil = "550 no\r\n\r\nContent-Type: text/html\r\n.\r\nYour account is closed, visit http://x\u202e\u0007";
        RecipientReport r = RecipientReport.builder("bob@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 1, 1))
                .remoteMta("evil.example\r\nX-Header: 1").diagnostic(evil).build();
        DeliveryReport report = DeliveryReport.of("m", Optional.empty(), Optional.empty(), Optional.empty(),
                ImmutableList.of(r));
        String text = DsnText.render(report, "subject\r\nBcc: victim@example.com");
        assertThat(text).doesNotContain("\r").doesNotContain("\u202e").doesNotContain("\u0007");
        for (String line : text.split("\n")) {
            assertThat(line).doesNotStartWith("Content-Type").doesNotStartWith("Bcc:").doesNotStartWith("X-Header")
                    .isNotEqualTo(".");
        }
        assertThat(flat(text)).contains("\"subject Bcc: victim@example.com\"");
        assertThat(flat(text)).contains("said: \"550 no Content-Type: text/html . Your account is closed, visit http://x\"");
    }

    @Test
    void boundsHugeRemoteTextAndWrapsLines() {
        StringBuilder huge = new StringBuilder("452 ");
        for (int i = 0; i < 20000; i++) {
            huge.append("word ");
        }
        RecipientReport r = RecipientReport.builder("bob@aol.com", DsnAction.DELAYED, EnhancedStatus.of(4, 2, 2))
                .diagnostic(huge.toString()).build();
        String text = DsnText.render(DeliveryReport.of("m", Optional.empty(), Optional.empty(), Optional.empty(),
                ImmutableList.of(r)), "s");
        assertThat(text.length()).isLessThan(3000);
        assertThat(text).contains("...\"");
        for (String line : text.split("\n")) {
            assertThat(line.length()).isLessThanOrEqualTo(DsnText.WIDTH);
        }
        assertThat(flat(text)).contains("The server will keep trying; if it gives up, you will get another report.");
    }

    @Test
    void breaksWordsLongerThanALine() {
        StringBuilder token = new StringBuilder("550 ");
        for (int i = 0; i < 300; i++) {
            token.append("x");
        }
        RecipientReport r = RecipientReport.builder("bob@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 0, 0))
                .diagnostic(token.toString()).build();
        String text = DsnText.render(DeliveryReport.of("m", Optional.empty(), Optional.empty(), Optional.empty(),
                ImmutableList.of(r)), "s");
        for (String line : text.split("\n")) {
            assertThat(line.length()).isLessThanOrEqualTo(DsnText.WIDTH);
        }
        assertThat(text.replaceAll("\\s+", "")).contains(token.toString().replace(" ", ""));
    }

    @Test
    void reportsAtLeastAsManyRecipientsAsGiven() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        ImmutableList.Builder<RecipientReport> many = ImmutableList.builder();
        for (int i = 0; i < 5; i++) {
            many.add(RecipientReport.builder("user" + i + "@aol.com", DsnAction.FAILED, EnhancedStatus.of(5, 1, 1))
                    .lastAttempt(t).build());
        }
        String text = DsnText.render(DeliveryReport.of("m", Optional.of(t), Optional.empty(), Optional.empty(),
                many.build()), "s");
        for (int i = 0; i < 5; i++) {
            assertThat(text).contains("\nuser" + i + "@aol.com\n");
        }
        assertThat(flat(text)).contains("could not be delivered to the recipients below");
    }
}
