package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reply families of issue 13, each with replies written for this test (other addresses, hosts,
 * wordings of the same server or provider), not copied from the Sisimai corpus: the rules must know
 * the family, not the benchmark's lines.
 */
class RulesFamiliesTest {
    private static final ReplyClassifier C = ReplyClassifier.builtIn();

    private static void check(String reply, String action, String reason) {
        Classification c = C.classify(reply);
        assertThat(c.action().id()).as("action of %s (rule %s)", reply, c.ruleId()).isEqualTo(action);
        assertThat(c.reason()).as("reason of %s (rule %s)", reply, c.ruleId()).isEqualTo(reason);
    }

    @ParameterizedTest(name = "[{index}] {0} -> {1}/{2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // a definite "no such user" suppresses, whatever server says it
        "550 5.1.1 <maria@shop.example>: Recipient not found                          | suppress | userunknown",
        "553 5.1.1 unknown or illegal recipient: ops@corp.example                    | suppress | userunknown",
        "550 5.1.1 <tim@example.org>: Recipient address rejected: User unknown in local recipient table | suppress | userunknown",
        "550 5.1.1 <tim@example.org>: Recipient address rejected: User unknown in virtual alias table | suppress | userunknown",
        "mx.corp.example [203.0.113.8] did not like our RCPT TO:550 5.1.1 <x@corp.example>: user not found | suppress | userunknown",
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [AM7EUR03FT012.eop-EUR03.prod.protection.outlook.com] | suppress | userunknown",
        "User Lee Smith (lee@acme.example) not listed in Domino Directory            | suppress | userunknown",
        "550 Sorry, no mailbox here by that name. vpopmail (#5.1.1)                  | suppress | userunknown",
        "Unknown user: ben@mail.example.net                                          | suppress | userunknown",
        "local: unknown user: carol                                                  | suppress | userunknown",
        "** Address not found ** Your message wasn't delivered to p@example.com because the address couldn't be found, or is unable to receive mail. | suppress | userunknown",
        "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address. x12si3459pfa.7 - gsmtp | suppress | userunknown",
        "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser 9a1b2c3d - gsmtp   | suppress | userunknown",
        "550 5.1.1 Requested action not taken: mailbox unavailable (S2017062302)    | suppress | userunknown",
        "554 5.1.1 Invalid recipient <dave@example.fr>                              | suppress | userunknown",
        "550 5.1.1 Utilisateur inconnu                                               | suppress | userunknown",
        "550 Adresse destinataire invalide. OFR_416 [416]                            | suppress | userunknown",
        "550 このメールアドレスは存在しません                                              | suppress | userunknown",
        "550 5.1.1 Benutzer unbekannt                                                | suppress | userunknown",
        // lower certainty: bounce, not suppress
        "550 <ann@example.jp>: Recipient address rejected.                           | bounce   | userunknown",
        "550 5.1.1 <q@icloud.example>: inactive email address                         | bounce   | userunknown",
        "554 5.7.1 <x@example.ch>: Recipient address rejected: Access denied          | bounce   | userunknown",
        "550 Requested action not taken: mailbox unavailable                         | bounce   | userunknown",
        "450 4.1.1 <tim@example.org>: Recipient address rejected: User unknown in local recipient table | retry | userunknown",
        // mailing lists and their look-alikes of "does not exist" never suppress
        "Hello sam@example.org, We're writing to let you know that the group you tried to contact (team-x) may not exist, or you may not have permission to post messages to the group. | bounce | rejected",
        "procmail: Couldn't create \"/var/mail/zed\" id: mail.example: No such user  | bounce   | mailererror",
    })
    void unknownUsers(String reply, String action, String reason) {
        check(reply, action, reason);
    }

    @ParameterizedTest(name = "[{index}] {0} -> {1}/{2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // sending MTAs' own prose: delays and giving up
        "Delivery to the following recipient has been delayed: Message will be retried for 1 more day(s) | retry | expired",
        "connect to mx2.shop.example[198.51.100.40]:25: Connection timed out       | retry    | expired",
        "Deferred: Connection timed out during user open with mail.example.net    | retry    | expired",
        "retry time not reached for any host for 'example.net' after a long failure period | bounce | expired",
        "all hosts have been failing for a long time and were last tried after this message arrived | bounce | expired",
        "Message could not be delivered for 4 days Message will be deleted from queue | bounce | expired",
        "Unable to connect to mx.example.net [192.0.2.7]: Operation timed out. I'm not going to try again; this message has been in the queue too long. | bounce | expired",
        // DNS and the network
        "Host or domain name not found. Name service error for name=typo-domain.example type=MX: Host not found | bounce | hostunknown",
        "550 Host unknown (Name server: mx.typo.example: host not found)          | bounce   | hostunknown",
        "Unrouteable address                                                       | bounce   | hostunknown",
        "Name service error for name=example.net type=MX: Host not found, try again | retry  | networkerror",
        "DNS Error: 1234 DNS type 'mx' lookup of example.net responded with code SERVFAIL | retry | networkerror",
        "lost connection with mx.example.org[192.0.2.9] while sending end of data -- message may be sent more than once | retry | networkerror",
        "The domain example.org doesn't receive email according to the administrator: returned Null MX | bounce | notaccept",
        "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)           | bounce   | notaccept",
        // local delivery
        "`pipe to |/usr/local/bin/ticket-intake --queue support` | bounce   | mailererror",
        "procmail: Error while writing to \"/var/mail/u/user/mbox\"                | bounce   | mailererror",
        "/home/vmail/example.org/ann/Maildir/new/171.M2: Disk quota exceeded       | retry    | mailboxfull",
        "User's mailbox is full: <lee@example.net>. Unable to deliver mail.        | retry    | mailboxfull",
        "mailbox is full: retry timeout exceeded                                   | retry    | mailboxfull",
        "Sorry, your message to pat@example.com cannot be delivered. This account has been disabled or discontinued. | bounce | suspend",
        // prose about the content, authentication and membership
        "Unauthenticated email from example.net is not accepted due to domain's DMARC policy. | bounce | authfailure",
        "550 5.7.509 Access denied, sending domain EXAMPLE.NET does not pass DMARC verification and has a DMARC policy of reject. | bounce | authfailure",
        "You are not a member of this mailing list <ops@lists.example.org>.        | bounce   | rejected",
    })
    void proseWithoutACode(String reply, String action, String reason) {
        check(reply, action, reason);
    }

    @ParameterizedTest(name = "[{index}] {0} -> {1}/{2} {3} hold {4}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "421 4.7.0 [TSS04] Messages from 198.51.100.3 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1 | badreputation | hold | PT1H",
        "421 4.7.0 [IPTS04] Messages from 198.51.100.3 temporarily deferred due to unexpected volume or user complaints | badreputation | hold | PT1H",
        "421 4.7.0 [TS02] Messages from 198.51.100.3 temporarily deferred                     | speeding      | hold-and-slow | PT30M",
        "421 4.7.1 [TS03] All messages from 198.51.100.3 will be permanently deferred; Retrying will NOT succeed. | badreputation | hold-and-slow | PT4H",
        "421 4.7.0 [GL01] Message from 198.51.100.3 temporarily deferred due to user complaints | speeding  | hold-and-slow | PT30M",
        "421 Max message per connection reached, closing transmission channel                | speeding      | hold | PT1M",
        "451 4.7.650 The mail server [198.51.100.3] has been temporarily rate limited due to IP reputation. (S775) | badreputation | hold-and-slow | PT1H",
        "451 4.7.652 The mail server [198.51.100.3] has exceeded the maximum number of connections. (S3115) | toomanyconn | fewer-connections | -",
        "421-4.7.28 [198.51.100.3] Gmail has detected an unusual rate of unsolicited mail originating from your IP address. | speeding | hold-and-slow | PT30M",
        "421 4.7.0 Try again later, closing connection. (EHLO) 5c2si1191pgd.23 - gsmtp       | systemerror   | hold | PT5M",
        "421 4.7.0 Error: too many connections from 198.51.100.3                             | toomanyconn   | fewer-connections | -",
        "421 Too many concurrent SMTP connections from this IP address; please try again later. | toomanyconn | fewer-connections | -",
        "452 4.3.2 Connection rate limit exceeded                                            | toomanyconn   | fewer-connections | -",
        "550 Connection frequency limited. http://service.mail.qq.com/cgi-bin/help?subtype=1  | toomanyconn   | fewer-connections | -",
        "550 5.1.1 <o@example.com> - 198.51.100.3 has sent to too many recipients this hour. IB607 | speeding | hold-and-slow | PT1H",
    })
    void throttleSignalsActOnTheDestination(String reply, String reason, String effect, String hold) {
        Classification c = C.classify(reply);
        assertThat(c.action()).as("%s (rule %s)", reply, c.ruleId()).isEqualTo(Action.THROTTLE);
        assertThat(c.scope()).isEqualTo(Scope.DESTINATION);
        assertThat(c.reason()).as("%s (rule %s)", reply, c.ruleId()).isEqualTo(reason);
        assertThat(c.throttleEffect().map(ThrottleEffect::fileName)).as("%s (rule %s)", reply, c.ruleId()).contains(effect);
        // Only a hold has a length: a slow-down or fewer connections acts through the pace.
        assertThat(c.holdHint()).as("%s (rule %s)", reply, c.ruleId())
                .isEqualTo("-".equals(hold) ? java.util.Optional.empty() : java.util.Optional.of(Duration.parse(hold)));
    }
}
