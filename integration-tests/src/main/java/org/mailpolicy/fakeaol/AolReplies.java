package org.mailpolicy.fakeaol;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * AOL's own words, as its postmaster pages (seeds 000 and 001) quote them. Kept in one place so that the fake's behaviour
 * can be compared with the source documents line by line.
 */
final class AolReplies {
    static final String RELAY_HOST = "rly-dd08.mx.aol.com";
    static final String RELAY_SOFTWARE = "mail_relay_in-dd08.6";

    /** The banner text after the first line; the seed's wording and leading spaces, one reply line each. */
    static final List<String> BANNER_NOTICE = List.of(
            "America Online (AOL) and its affiliated companies do not",
            " authorize the use of its proprietary computers and computer",
            " networks to accept, transmit, or distribute unsolicited bulk",
            " e-mail sent from the internet. Effective immediately: AOL",
            " may no longer accept connections from IP addresses which",
            "have no reverse-DNS (PTR record) assigned.");

    static final String OK = "250 OK";
    static final String EHLO_LAST_LINE = "250 HELP";
    static final String START_MAIL_INPUT = "354 START MAIL INPUT, END WITH \".\" ON A LINE BY ITSELF";
    static final String COMMAND_UNRECOGNIZED = "500 Syntax error, command unrecognized";

    static final String DYN_T1 = "421 4.7.1 : (DYN:T1)";
    static final String RLY_NW = "421 RLY:NW";
    static final String RLY_B1 = "554 RLY:B1";
    static final String RTR_BB = "554 RTR:BB";
    static final String CON_B1 = "521 5.2.1 : (CON:B1)";
    static final String DOWN = "554 ESMTP not accepting connections";
    static final String SHUTTING_DOWN = "421 4.3.2 Service shutting down";

    static final String MAILBOX_NOT_FOUND = "550 MAILBOX NOT FOUND";
    static final String RECIPIENT_REJECTED = "500 5.1.1 : Recipient address rejected: aol.com";
    static final String MAILBOX_FULL = "552 Mailbox full";
    static final String HVU_B1 = "554 HVU:B1";
    static final String HVU_B2 = "421 HVU:B2";
    static final String MESSAGE_TOO_BIG = "552 Message exceeds maximum fixed size";

    /** "The largest piece of e-mail that an AOL member can accept ... is 16 megabytes." */
    static final long MAX_MESSAGE_BYTES = 16L * 1024 * 1024;

    /**
     * The greeting of an accepting relay, one reply line each: seed 000's first line with the current date, AOL's notice,
     * and a last line in the form SubEtha writes itself ({@code 220 <host> ESMTP <software>}), since SubEtha always
     * sends the final greeting line.
     */
    static List<String> banner(ZonedDateTime now) {
        List<String> lines = new ArrayList<>();
        lines.add("220-" + RELAY_HOST + " ESMTP " + RELAY_SOFTWARE + "; "
                + DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT).format(now));
        for (String notice : BANNER_NOTICE) {
            lines.add("220-" + notice);
        }
        lines.add("220 " + RELAY_HOST + " ESMTP " + RELAY_SOFTWARE);
        return List.copyOf(lines);
    }

    private AolReplies() {
    }
}
