package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mailpolicy.reply.Stage;

/**
 * Every reply from the seed documents (AOL's postmaster page, the field reports, the SMTP code
 * reference) and the common replies of the large receivers and servers, with the decision the
 * engine must take. The expected values are the project's decisions, not the rules file read back.
 */
class SeedRepliesTest {
    private static final ReplyClassifier CLASSIFIER = ReplyClassifier.builtIn();

    @ParameterizedTest(name = "[{index}] {0} -> {1}/{2}/{3}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // AOL RTR blocks (seed 000)
        "554 RTR:BB                                 | bounce   | blocked        | destination",
        "554 RTR:CH                                 | bounce   | securityerror  | destination",
        "554 RTR:BG                                 | bounce   | blocked        | destination",
        "554 RTR:RD                                 | bounce   | requireptr     | destination",
        "554 RTR:SC                                 | bounce   | blocked        | destination",
        "554 RTRU                                   | bounce   | blocked        | destination",
        "554 RTR:GE                                 | retry    | systemerror    | destination",
        "554 RTR:BL                                 | bounce   | badreputation  | destination",
        // HVU
        "554 HVU:B1                                 | bounce   | spamdetected   | message",
        "421 HVU:B2                                 | retry    | spamdetected   | message",
        // DNS
        "554 DNS:B1                                 | bounce   | requireptr     | destination",
        "554 DNS:B2                                 | bounce   | requireptr     | destination",
        "421 DNS:NR                                 | throttle | requireptr     | destination",
        // RLY
        "554 RLY:B1                                 | throttle | blocked        | destination",
        "554 RLY:B2                                 | bounce   | badreputation  | destination",
        "421 RLY:B3                                 | throttle | badreputation  | destination",
        "554 RLY:BD                                 | bounce   | spamdetected   | message",
        "421 RLY:CH                                 | throttle | securityerror  | destination",
        "554 RLY:CH                                 | bounce   | securityerror  | destination",
        "421 RLY:CH2                                | throttle | securityerror  | destination",
        "554 RLY:CS4                                | bounce   | securityerror  | message",
        "554 RLY:IR                                 | bounce   | badreputation  | destination",
        "421 RLY:NW                                 | throttle | speeding       | destination",
        "421 RLY:SN                                 | bounce   | policyviolation | message",
        "554 RLY:SN                                 | bounce   | policyviolation | message",
        // DYN, CON
        "421 DYN:T1                                 | throttle | speeding       | destination",
        "421 4.7.1 : (DYN:T1)                       | throttle | speeding       | destination",
        "421 DYN:T2                                 | throttle | systemerror    | destination",
        "554 CON:B1                                 | bounce   | blocked        | destination",
        "421 CON:B1                                 | throttle | badreputation  | destination",
        // AOL mailer-daemon replies
        "550 MAILBOX NOT FOUND                      | suppress | userunknown    | recipient",
        "5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND' | suppress | userunknown | recipient",
        "Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'MAILBOX NOT FOUND' (delivery attempts: 0) | suppress | userunknown | recipient",
        "500 5.1.1 : Recipient address rejected: aol.com | suppress | userunknown | recipient",
        "552 Mailbox full                           | retry    | mailboxfull    | recipient",
        "552 Message exceeds maximum fixed size     | bounce   | mesgtoobig     | message",
        "550 \"jdoe\" Is Not Accepting Mail From This Sender | bounce | filtered   | message",
        "550 Access denied                          | bounce   | blocked        | destination",
        "550 Sender domain not found in DNS         | bounce   | rejected       | message",
        "550 Requested action not taken: DNS FAILURE | bounce  | rejected       | message",
        "550 Service unavailable                    | bounce   | blocked        | destination",
        "452 Requested action not taken             | retry    | systemfull     | destination",
        "500 Syntax error, command unrecognized     | bounce   | syntaxerror    | message",
        // Field reports (seeds 002 and 004)
        "SMTP error from remote mail server after end of data: host []: 521 5.2.1 :(CON:B1) | bounce | blocked | destination",
        "521 5.2.1 : (CON:B1) http://postmaster.info.aol.com/errors/554conb1.html | bounce | blocked | destination",
        "delivery temporarily suspended: host[] refused to talk to me: 421 Service unavailable \u2013 try again later | throttle | systemerror | destination",
        "421 Service unavailable - try again later  | throttle | systemerror    | destination",
        "failed after I sent the message. Remote host said: 521 5.2.1 \u201cTempFail\u201d | retry | systemerror | destination",
        "521 5.2.1 \"TempFail\"                      | retry    | systemerror    | destination",
        "554 ESMTP not accepting connections        | throttle | systemerror    | destination",
        "Diagnostic-Code: smtp; 554 ESMTP not accepting connections | throttle | systemerror | destination",
        "421 4.7.0 Error: too many errors           | retry    | systemerror    | destination",
        "SMTP service unavailable: \u201c421 4.2.1 \u201cService unavailable. Please try again later.\u201d\u201d received from ( while connected from ( to ( | throttle | systemerror | destination",
        "IPADDR failed after I sent the message./Remote host said: 521 5.2.1 : AOL will not accept delivery of this message./ | bounce | rejected | message",
        // SMTP code reference examples (seed 003)
        "SMTP Error 101, Error opening connection   | retry    | networkerror   | destination",
        "Connection refused, 111 Can't open SMTP stream | retry | networkerror  | destination",
        "420 TCP connection timeout                 | retry    | networkerror   | destination",
        "421 Too many concurrent SMTP connections from this IP address; please try again later | throttle | toomanyconn | destination",
        "422 The recipient's mailbox is over its storage limit | retry | mailboxfull | recipient",
        "431 Disk full                              | retry    | systemfull     | destination",
        "432 The recipient's Exchange Server incoming mail queue has been stopped | retry | systemerror | destination",
        "441 The recipient's server is not responding | retry  | networkerror   | destination",
        "442 The connection was dropped during transmission | retry | networkerror | destination",
        "446 The maximum hop count was exceeded for the message | retry | networkerror | message",
        "447 Your outgoing message timed out        | retry    | networkerror   | message",
        "449 Routing error                          | retry    | networkerror   | destination",
        "450 Please try again later                 | retry    | systemerror    | destination",
        "SMTP error from remote mail server after end of data, host mx: 451 1.2.3.4 has recently sent spam. If you are not a spammer, please try later. | throttle | blocked | destination",
        "451 4.7.1 Please try again later           | retry    | systemerror    | destination",
        "452 Out of memory                          | retry    | systemfull     | destination",
        "465 SMTP: Invalid response code received from server | retry | systemerror | message",
        "471 Please try again later                 | retry    | systemerror    | destination",
        "500 unrecognized command                   | bounce   | syntaxerror    | message",
        "501 5.5.4 Invalid Address                  | bounce   | userunknown    | recipient",
        "502 Command not implemented                | bounce   | syntaxerror    | message",
        "503 Bad sequence of commands               | bounce   | syntaxerror    | message",
        "504 Need to authenticate first             | bounce   | securityerror  | destination",
        "510 Bad email address                      | bounce   | userunknown    | recipient",
        "511 sorry, recipient address has invalid format | bounce | userunknown  | recipient",
        "512 Host server for the recipient's domain name cannot be found | bounce | hostunknown | recipient",
        "513 Address type is incorrect              | bounce   | userunknown    | recipient",
        "523 Size exceeds recipient's limit         | bounce   | mesgtoobig     | message",
        "SMTP error 530 : The message cannot be delivered due to a configuration error on the server. | bounce | securityerror | destination",
        "530, response: 5.7.0 Must issue a STARTTLS command first | bounce | securityerror | destination",
        "#5.5.0 smtp;541 Internet Security Systems' Proventia(TM) intrusion prevention appliance blocked forwarding of message | bounce | spamdetected | message",
        "550 mailbox temporarily disabled           | bounce   | suspend        | recipient",
        "5.1.0 - Unknown address error 550-'Mailbox is inactive' | bounce | suspend | recipient",
        "550 5.7.1 Relaying prohibited              | bounce   | norelaying     | recipient",
        "SMTP error 550 5.1.3 STOREDRV.Submit; invalid recipient address | bounce | userunknown | recipient",
        "Transcript of session follows: Command: Data... Response: 550 Cyberoam Anti Spam Engine has identified this email as a spam. | bounce | spamdetected | message",
        // Exchange Online directory-based edge blocking: 5.4.1 with these words means "not in the directory"
        "SMTP error from remote mail server - 550 5.4.1 billing@thatcompany.com : Recipient address rejected \u2013 Access Denied | suppress | userunknown | recipient",
        "551 User not local; please try <x@example.org> | bounce | hasmoved     | recipient",
        "552 5.2.3 Message size exceeds fixed maximum message size | bounce | mesgtoobig | message",
        "5.5.0 smtp;553 sorry, that domain isn't allowed to be relayed thru this MTA (#5.7.1) | bounce | norelaying | recipient",
        "5.5.0 smtp;553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1) | bounce | norelaying | recipient",
        "553 sorry, relaying denied from your location | bounce | norelaying     | recipient",
        "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0] - mta1.mail.ne1.yahoo.com | suppress | userunknown | recipient",
        "554 this user doesn\u2019t have a Yahoo.com account | suppress | userunknown | recipient",
        "554 delivery error: Sorry your message to x@yahoo.com cannot be delivered. This account has been disabled or discontinued | bounce | suspend | recipient",
        "SMTP error from remote mail server after initial connection to host mx1.ozemail.com.au : 554 filter.ozemail.com.au | bounce | blocked | destination",
        "5.5.0 SMTP; 571 Delivery not authorized, message refused | bounce | policyviolation | message",
        "571 email address we do not relay          | bounce   | norelaying     | recipient",
        // Gmail
        "421-4.7.28 [1.2.3.4] Our system has detected an unusual rate of unsolicited mail originating from your IP address. | throttle | speeding | destination",
        "450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. | retry | speeding | recipient",
        "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos | suppress | userunknown | recipient",
        "452-4.2.2 The email account that you tried to reach is over quota. | retry | mailboxfull | recipient",
        "552-5.2.2 The email account that you tried to reach is over quota and inactive. | retry | mailboxfull | recipient",
        "550-5.2.1 The email account that you tried to reach is disabled. | bounce | suspend | recipient",
        "550-5.7.1 Our system has detected that this message is likely unsolicited mail. | bounce | spamdetected | message",
        "550-5.7.26 This mail has been blocked because the sender is unauthenticated. | bounce | authfailure | message",
        // Yahoo
        // volume or complaints: Yahoo is judging the sender's reputation
        "421 4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred due to unexpected volume or user complaints | throttle | badreputation | destination",
        "421 4.7.1 [TS01] Messages from 1.2.3.4 temporarily deferred due to user complaints | throttle | speeding | destination",
        "421 4.7.1 [TS02] Messages from 1.2.3.4 temporarily deferred due to user complaints | throttle | speeding | destination",
        "553 5.7.1 [TS03] All messages from 1.2.3.4 will be permanently deferred; Retrying will NOT succeed. | bounce | badreputation | destination",
        "554 Message not allowed - [PH01] Email not accepted for policy reasons. | bounce | policyviolation | message",
        // Microsoft
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302) | bounce | userunknown | recipient",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup | suppress | userunknown | recipient",
        "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found | suppress | userunknown | recipient",
        "451 4.7.500 Server busy. Please try again later from [1.2.3.4]. (S77714) | throttle | speeding | destination",
        "550 5.7.1 Unfortunately, messages from [1.2.3.4] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). | bounce | blocked | destination",
        "421 RP-001 (BAY004-MC1F34) Unfortunately, some messages from 1.2.3.4 weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day. | throttle | speeding | destination",
        "550 SC-001 (BAY004-MC5F3) Unfortunately, messages from 1.2.3.4 weren't sent. Please contact your Internet service provider. You can tell them that Hotmail does not relay dynamically-assigned IP ranges. | bounce | blocked | destination",
        "550 5.7.606 Access denied, banned sending IP [1.2.3.4] | bounce | blocked | destination",
        "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException | retry | mailboxfull | recipient",
        // Postfix
        "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table | suppress | userunknown | recipient",
        "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in virtual mailbox table | suppress | userunknown | recipient",
        "450 4.1.1 <x@example.com>: Recipient address rejected: User unknown in virtual mailbox table | retry | userunknown | recipient",
        "554 5.7.1 <x@example.com>: Relay access denied | bounce | norelaying | recipient",
        "421 4.7.0 mx.example.com Error: too many connections from 1.2.3.4 | throttle | toomanyconn | destination",
        "554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using zen.spamhaus.org | bounce | blocked | destination",
        "450 4.7.1 Client host rejected: cannot find your hostname, [1.2.3.4] | throttle | requireptr | destination",
        "450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/ | retry | policyviolation | message",
        "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname | bounce | policyviolation | destination",
        // qmail
        "550 Sorry, no mailbox here by that name. (#5.1.1) | suppress | userunknown | recipient",
        "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1) | bounce | norelaying | recipient",
        // Exim
        "550 Unrouteable address                    | bounce   | hostunknown    | recipient",
        "550 No Such User Here                      | suppress | userunknown    | recipient",
        "550-Verification failed for <sender@example.com> 550 Sender verify failed | bounce | rejected | message",
        "550 Administrative prohibition             | bounce   | blocked        | destination",
        "451 Temporary local problem - please try later | retry | systemerror   | destination",
        // No code at all
        "Connection refused                         | retry    | networkerror   | destination",
        "Read timed out                             | retry    | networkerror   | destination",
        "Unknown host                               | retry    | hostunknown    | destination",
        "Connection reset                           | retry    | networkerror   | destination",
        "java.net.UnknownHostException: mx.nowhere.example | retry | hostunknown | destination",
        "javax.mail.MessagingException: Could not connect to SMTP host: mx.aol.com, port: 25; nested exception is: java.net.ConnectException: Connection refused | retry | networkerror | destination",
        "Could not connect to SMTP host: mx.aol.com, port: 25, response: 421 | throttle | systemerror | destination",
        "javax.net.ssl.SSLHandshakeException: PKIX path building failed | retry | securityerror | destination",
        "No route to host                           | retry    | networkerror   | destination",
        "`` | retry | undefined | message",
        "something nobody has seen before           | retry    | undefined      | message",
        // RFC 3463 and basic-code fallbacks
        "550 5.1.1 <x@example.com>... Bad destination mailbox | bounce | userunknown | recipient",
        "550 5.1.1 <x@example.com>... User unknown  | suppress | userunknown    | recipient",
        "450 4.2.2 quota                            | retry    | mailboxfull    | recipient",
        "554 5.3.4 too big for system               | bounce   | mesgtoobig     | message",
        "451 4.4.5 congestion                       | throttle | toomanyconn    | destination",
        "550 5.7.25 reverse DNS validation failed   | bounce   | requireptr     | destination",
        "559 something                              | bounce   | undefined      | message",
        "459 something                              | retry    | undefined      | message",
        "250 2.0.0 OK                               | retry    | undefined      | message",
    })
    void seedReplies(String reply, String action, String reason, String scope) {
        Classification c = CLASSIFIER.classify(reply);
        assertThat(c.action().id()).as("action (rule %s)", c.ruleId()).isEqualTo(action);
        assertThat(c.reason()).as("reason (rule %s)", c.ruleId()).isEqualTo(reason);
        assertThat(c.scope().id()).as("scope (rule %s)", c.ruleId()).isEqualTo(scope);
        assertThat(c.explanation()).isNotBlank();
        assertThat(c.remedy()).isNotBlank();
        assertThat(c.source()).isNotBlank();
    }

    @Test
    void throttlesCarryHoldHintsAndAolTransientsCarryRetryHints() {
        assertThat(CLASSIFIER.classify("421 DYN:T1").holdHint()).contains(Duration.ofMinutes(15));
        assertThat(CLASSIFIER.classify("421 RLY:NW").holdHint()).isPresent();
        assertThat(CLASSIFIER.classify("554 RTR:GE").retryHint()).contains(Duration.ofHours(24));
        assertThat(CLASSIFIER.classify("554 RLY:B1").action()).isNotEqualTo(Action.BOUNCE);
    }

    @Test
    void stageDecidesWhatA421WithoutTokenIsAbout() {
        assertThat(CLASSIFIER.classify("421 mx.example.com closing", Stage.CONNECT).action()).isEqualTo(Action.THROTTLE);
        assertThat(CLASSIFIER.classify("421 mx.example.com closing", Stage.CONNECT).scope()).isEqualTo(Scope.DESTINATION);
        assertThat(CLASSIFIER.classify("421 4.3.0 mx.example.com odd", Stage.RCPT).action()).isEqualTo(Action.RETRY);
        assertThat(CLASSIFIER.classify("554 no SMTP service here", Stage.CONNECT).scope()).isEqualTo(Scope.DESTINATION);
        assertThat(CLASSIFIER.classify("554 no SMTP service here", Stage.DATA).scope()).isEqualTo(Scope.MESSAGE);
    }

    @Test
    void repliesAboutQuotaRelayingPolicyReputationContentDnsOrBlocksNeverSuppress() {
        String[] notUnknownUsers = {
            "552 5.2.2 user unknown? no: mailbox full",
            "550 5.7.1 user unknown in our block list, blocked using zen.spamhaus.org",
            "550 5.7.1 Relay access denied for unknown user",
            "554 5.7.1 spam detected, user unknown",
            "550 5.7.26 DMARC policy rejects this, no such user",
            "550 sender verify failed: user unknown",
            "550 reverse DNS missing; no such user",
            "550 5.1.1 The user's mailbox is over quota",
            "550 5.1.1 Bad destination mailbox address"};
        for (String r : notUnknownUsers) {
            assertThat(CLASSIFIER.classify(r).action()).as(r).isNotEqualTo(Action.SUPPRESS);
        }
    }

    @Test
    void everyActionIsReachable() {
        assertThat(CLASSIFIER.classify("451 4.3.0 later").action()).isEqualTo(Action.RETRY);
        assertThat(CLASSIFIER.classify("421 DYN:T1").action()).isEqualTo(Action.THROTTLE);
        assertThat(CLASSIFIER.classify("554 5.7.1 message refused").action()).isEqualTo(Action.BOUNCE);
        assertThat(CLASSIFIER.classify("550 MAILBOX NOT FOUND").action()).isEqualTo(Action.SUPPRESS);
    }
}
