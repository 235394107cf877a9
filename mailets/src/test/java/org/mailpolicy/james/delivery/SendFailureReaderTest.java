package org.mailpolicy.james.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.mail.smtp.SMTPAddressFailedException;
import com.sun.mail.smtp.SMTPSendFailedException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Optional;
import javax.mail.Address;
import javax.mail.MessagingException;
import javax.mail.SendFailedException;
import javax.mail.internet.InternetAddress;
import org.apache.james.core.MailAddress;
import org.junit.jupiter.api.Test;
import org.mailpolicy.reply.SmtpReply;
import org.mailpolicy.reply.Stage;

/** JavaMail's exceptions as {@code SMTPTransport.sendMessage} throws them with {@code mail.smtp.sendpartial=true}. */
class SendFailureReaderTest {
    private static final Optional<String> HOST = Optional.of("mx.test");

    private static MailAddress address(String a) throws Exception {
        return new MailAddress(a);
    }

    private static SMTPAddressFailedException refused(String address, int code, String reply) throws Exception {
        return new SMTPAddressFailedException(new InternetAddress(address), "RCPT TO:<" + address + ">", code, reply);
    }

    private static Address[] addresses(String... a) throws Exception {
        Address[] out = new Address[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = new InternetAddress(a[i]);
        }
        return out;
    }

    @Test
    void eachRefusedRecipientKeepsItsOwnReplyAndTheValidSentAreDelivered() throws Exception {
        SMTPAddressFailedException gone = refused("gone@aol.com", 550, "550 5.1.1 <gone@aol.com>: no such user");
        gone.setNextException(refused("full@aol.com", 452, "452 4.2.2 mailbox full"));
        SendFailedException e = new SendFailedException("Invalid Addresses", gone, addresses("OK@aol.com"),
                new Address[0], addresses("gone@aol.com", "full@aol.com"));
        List<MailAddress> recipients = List.of(address("ok@aol.com"), address("gone@aol.com"), address("full@aol.com"));

        AttemptResult result = SendFailureReader.read(recipients, e, Optional.empty(), HOST);

        assertThat(result.delivered()).containsExactly(address("ok@aol.com"));
        assertThat(result.replyFor(address("gone@aol.com"))).hasValue(
                SmtpReply.parse("550 5.1.1 <gone@aol.com>: no such user", Stage.RCPT));
        assertThat(result.replyFor(address("full@aol.com")).get().code()).hasValue(452);
        assertThat(result.transactionFailure()).isEmpty();
        assertThat(result.remoteHost()).isEqualTo(HOST);
    }

    @Test
    void aNegativeReplyThatEndedTheTransactionConcernsEveryoneNotRefusedOnTheirOwn() throws Exception {
        SMTPSendFailedException e = new SMTPSendFailedException(".", 554, "554 5.7.1 HVU:B1 content rejected",
                refused("gone@aol.com", 550, "550 5.1.1 gone"), new Address[0], addresses("ok@aol.com"),
                addresses("gone@aol.com"));
        List<MailAddress> recipients = List.of(address("ok@aol.com"), address("gone@aol.com"));

        AttemptResult result = SendFailureReader.read(recipients, e, Optional.empty(), HOST);

        assertThat(result.delivered()).isEmpty();
        assertThat(result.replyFor(address("ok@aol.com"))).hasValue(
                SmtpReply.parse("554 5.7.1 HVU:B1 content rejected", Stage.END_OF_DATA));
        assertThat(result.replyFor(address("gone@aol.com")).get().code()).hasValue(550);
    }

    @Test
    void aPositiveSendFailedReplyIsNotWhatEndedItJavaMailsMessageIsUsedInstead() throws Exception {
        SMTPSendFailedException e = new SMTPSendFailedException("RCPT TO:<a@aol.com>", 250, "250 OK", null,
                new Address[0], addresses("a@aol.com"), new Address[0]);

        AttemptResult result = SendFailureReader.read(List.of(address("a@aol.com")), e, Optional.empty(), HOST);

        // Not the 250 at RCPT: JavaMail's description, at no known stage.
        SmtpReply reply = result.replyFor(address("a@aol.com")).get();
        assertThat(reply.raw()).startsWith("SMTPSendFailedException: 250 OK");
        assertThat(reply.stage()).isEqualTo(Stage.UNKNOWN);
    }

    @Test
    void aRefusalReadAsEndOfStreamTakesTheServersLastRefusal() throws Exception {
        SendFailedException e = new SendFailedException("Invalid Addresses", refused("a@aol.com", -1, "[EOF]"),
                new Address[0], new Address[0], addresses("a@aol.com"));
        Optional<SmtpReply> lastRefusal = Optional.of(SmtpReply.parse("421 4.7.0 [TSS04] try later", Stage.UNKNOWN));

        AttemptResult result = SendFailureReader.read(List.of(address("a@aol.com")), e, lastRefusal, HOST);

        assertThat(result.replyFor(address("a@aol.com"))).hasValue(
                SmtpReply.parse("421 4.7.0 [TSS04] try later", Stage.RCPT));
    }

    @Test
    void stageOfNamesTheCommandJavaMailReports() {
        assertThat(SendFailureReader.stageOf("MAIL FROM:<a@example.org>")).isEqualTo(Stage.MAIL);
        assertThat(SendFailureReader.stageOf("rcpt TO:<b@aol.com>")).isEqualTo(Stage.RCPT);
        assertThat(SendFailureReader.stageOf("DATA")).isEqualTo(Stage.DATA);
        assertThat(SendFailureReader.stageOf(".")).isEqualTo(Stage.END_OF_DATA);
        assertThat(SendFailureReader.stageOf("BDAT 100 LAST")).isEqualTo(Stage.END_OF_DATA);
        assertThat(SendFailureReader.stageOf(null)).isEqualTo(Stage.UNKNOWN);
    }

    @Test
    void describeFollowsNextExceptionsAndCausesOnceEach() {
        MessagingException outer = new MessagingException("Exception reading response");
        MessagingException inner = new MessagingException("connection lost", new SocketTimeoutException("Read timed out"));
        outer.setNextException(inner);

        assertThat(SendFailureReader.describe(outer)).isEqualTo("MessagingException: Exception reading response; "
                + "MessagingException: connection lost; SocketTimeoutException: Read timed out");

        RuntimeException loop = new RuntimeException("a");
        IllegalStateException cause = new IllegalStateException((String) null, loop);
        loop.initCause(cause);
        assertThat(SendFailureReader.describe(loop)).isEqualTo("RuntimeException: a; IllegalStateException");
    }
}
