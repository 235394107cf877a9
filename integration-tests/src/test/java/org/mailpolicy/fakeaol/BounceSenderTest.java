package org.mailpolicy.fakeaol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

import javax.mail.BodyPart;
import javax.mail.MessagingException;
import javax.mail.Session;
import javax.mail.internet.InternetAddress;
import javax.mail.internet.MimeMessage;
import javax.mail.internet.MimeMultipart;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * AOL's asynchronous bounce, sent to a second SubEtha server (a second fake, whose recipient "alice" gets 250) and
 * parsed as it arrived there.
 */
class BounceSenderTest {
    private static FakeAol aol;
    private static FakeAol receiver;

    @BeforeAll
    static void start() throws IOException {
        aol = FakeAol.start(FakeAolSettings.ephemeralPorts());
        receiver = FakeAol.start(FakeAolSettings.ephemeralPorts());
    }

    @AfterAll
    static void stop() {
        aol.close();
        receiver.close();
    }

    @BeforeEach
    void reset() {
        aol.reset();
        receiver.reset();
    }

    @Test
    void sendsAolsUndeliverableReportFromMailerDaemonWithTheNullSender() throws Exception {
        String messageId = aol.sendBounce(AolBounce.of("alice@sandbox.test", "unknown-1@aol.com", "127.0.0.1",
                receiver.smtpPort()).withOriginalMessageId("<orig-1@sandbox.test>"));

        ReceivedMessage arrived = receiver.messages().get(0);
        assertThat(arrived.mailFrom()).isEmpty();
        assertThat(arrived.recipients()).containsExactly("alice@sandbox.test");
        MimeMessage bounce = parse(arrived.raw());
        assertThat(bounce.getMessageID()).isEqualTo(messageId);
        assertThat(((InternetAddress) bounce.getFrom()[0]).getAddress()).isEqualTo("MAILER-DAEMON@aol.com");
        assertThat(bounce.getHeader("Auto-Submitted", null)).isEqualTo("auto-replied");
        assertThat(bounce.getContentType()).contains("multipart/report").contains("report-type=delivery-status");

        MimeMultipart parts = (MimeMultipart) bounce.getContent();
        assertThat(parts.getCount()).isEqualTo(3);
        String human = text(parts.getBodyPart(0));
        assertThat(human).contains("The following message to <unknown-1@aol.com> was undeliverable.",
                "The reason for the problem:\r\n5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND'",
                "Final-Recipient: rfc822;unknown-1@aol.com", "Action: failed", "Status: 5.0.0 (permanent failure)",
                "Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND' (delivery attempts: 0)");

        assertThat(parts.getBodyPart(1).getContentType()).startsWith("message/delivery-status");
        String status = text(parts.getBodyPart(1));
        assertThat(status).contains("Reporting-MTA: dns; rly-dd08.mx.aol.com\r\n\r\nFinal-Recipient: rfc822;unknown-1@aol.com",
                "Action: failed\r\n", "Status: 5.0.0\r\n", "Remote-MTA: dns;");

        assertThat(parts.getBodyPart(2).getContentType()).startsWith("text/rfc822-headers");
        assertThat(text(parts.getBodyPart(2))).contains("Message-ID: <orig-1@sandbox.test>", "To: <unknown-1@aol.com>");
    }

    @Test
    void returnsTheHeadersOfTheOriginalWhenTheFakeStillHoldsIt() throws Exception {
        try (RawSmtpClient client = RawSmtpClient.connect(aol.smtpPort())) {
            client.startMail("alice@sandbox.test");
            client.send("RCPT TO:<ok-1@aol.com>");
            client.data("From: alice@sandbox.test\r\nSubject: lunch?\r\nMessage-ID: <orig-2@sandbox.test>\r\n\r\nhi\r\n");
        }
        aol.sendBounce(AolBounce.of("alice@sandbox.test", "ok-1@aol.com", "127.0.0.1", receiver.smtpPort())
                .withOriginalMessageId("<orig-2@sandbox.test>").withEnvelopeFrom("postmaster@aol.com"));

        ReceivedMessage arrived = receiver.messages().get(0);
        assertThat(arrived.mailFrom()).isEqualTo("postmaster@aol.com");
        MimeMultipart parts = (MimeMultipart) parse(arrived.raw()).getContent();
        assertThat(text(parts.getBodyPart(2))).contains("Subject: lunch?", "Message-ID: <orig-2@sandbox.test>")
                .doesNotContain("hi\r\n");
    }

    @Test
    void postBouncesSendsTheSameOverHttp() throws Exception {
        String request = "{\"to\": \"alice@sandbox.test\", \"finalRecipient\": \"unknown-1@aol.com\", "
                + "\"smtpHost\": \"127.0.0.1\", \"smtpPort\": " + receiver.smtpPort()
                + ", \"originalMessageId\": \"<x@sandbox.test>\", \"envelopeFrom\": \"\"}";
        HttpResponse<String> response = FakeAolControlApiTest.request(aol, "POST", "/bounces", request);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        String messageId = new ObjectMapper().readTree(response.body()).get("messageId").asText();
        assertThat(receiver.messages()).singleElement().satisfies(m -> {
            assertThat(m.messageId()).contains(messageId);
            assertThat(m.mailFrom()).isEmpty();
        });
    }

    @Test
    void badBounceRequestsAreRefusedAndUnreachableServersReported() throws Exception {
        HttpResponse<String> missingField = FakeAolControlApiTest.request(aol, "POST", "/bounces",
                "{\"to\": \"alice@sandbox.test\", \"smtpHost\": \"127.0.0.1\", \"smtpPort\": 25}");
        assertThat(missingField.statusCode()).isEqualTo(400);
        assertThat(missingField.body()).contains("finalRecipient: required string field is missing");

        HttpResponse<String> injected = FakeAolControlApiTest.request(aol, "POST", "/bounces",
                "{\"to\": \"alice@sandbox.test\\r\\nBcc: x@y\", \"finalRecipient\": \"u@aol.com\", "
                        + "\"smtpHost\": \"127.0.0.1\", \"smtpPort\": 25}");
        assertThat(injected.statusCode()).isEqualTo(400);
        assertThat(injected.body()).contains("line breaks are not allowed");

        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        HttpResponse<String> unreachable = FakeAolControlApiTest.request(aol, "POST", "/bounces",
                "{\"to\": \"alice@sandbox.test\", \"finalRecipient\": \"u@aol.com\", \"smtpHost\": \"127.0.0.1\", "
                        + "\"smtpPort\": " + closedPort + "}");
        assertThat(unreachable.statusCode()).isEqualTo(502);
        assertThat(unreachable.body()).contains("could not send the bounce to 127.0.0.1:" + closedPort);
    }

    @Test
    void aBounceValueRejectsBadFields() {
        assertThatThrownBy(() -> AolBounce.of(" ", "u@aol.com", "127.0.0.1", 25))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("to must not be blank");
        assertThatThrownBy(() -> AolBounce.of("a@b.test", "u@aol.com", "127.0.0.1", 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("smtpPort");
    }

    private static MimeMessage parse(byte[] raw) throws MessagingException {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(raw));
    }

    private static String text(BodyPart part) throws MessagingException, IOException {
        try (InputStream in = part.getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
