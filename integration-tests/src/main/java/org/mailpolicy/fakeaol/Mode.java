package org.mailpolicy.fakeaol;

/**
 * How the fake AOL treats connections, as AOL's postmaster pages describe its relays behaving.
 * Connect-time modes answer the greeting; the others act at MAIL FROM or during DATA.
 */
public enum Mode {
    /** Multi-line AOL banner, replies decided by the recipient's local part. */
    NORMAL,
    /** Greeting {@code 421 4.7.1 : (DYN:T1)}, then the connection is closed. */
    DYN_T1,
    /** A new IP: only {@code perMinute} messages a minute per client (default 2), {@code 421 RLY:NW} beyond. */
    RLY_NW,
    /**
     * {@code perMinute} messages a minute per client (default 3), {@code 421 4.7.1 : (DYN:T1)} beyond; a client that keeps
     * connecting while over the limit gets the dynamic block {@code 554 RLY:B1} at connect.
     */
    RATE_LIMIT,
    /** Greeting {@code 554 RTR:BB}: the client's IP is listed as dynamic or residential. */
    RTR_BB,
    /** Greeting {@code 521 5.2.1 : (CON:B1)}. */
    CON_B1,
    /** Greeting {@code 554 ESMTP not accepting connections}. */
    DOWN,
    /** Reads the whole message after DATA, then closes the connection without any reply. */
    DROP_IN_DATA,
    /** Waits {@code delayMillis} (default 30 s) before the greeting, longer than a client's read timeout. */
    SLOW,
    /**
     * A broken directory behind the relays (an LDAP outage): every RCPT is answered {@code 550 MAILBOX NOT FOUND},
     * whatever the local part, real users included.
     */
    DIRECTORY_OUTAGE,
    /**
     * Random failures, reproducible from {@code seed}: about one RCPT in five and one end of DATA in four get a 4xx or
     * 5xx reply (421, 450, 451, 452, 550, 552, 554); one end of DATA in twenty is accepted (the message is kept) and the
     * connection closed before the reply, as a relay that crashes after committing the message. The other replies are
     * NORMAL's. See {@link ChaosReplies}.
     */
    CHAOS,
    /**
     * Answers {@code reply} at {@code stage} (the greeting, MAIL FROM, each RCPT TO or the end of DATA) to every
     * conversation, as another provider's server would: how tests see the plugin act on Yahoo's, Microsoft's, Gmail's
     * or Postfix's throttle replies. A 421 closes the connection, as everywhere else.
     */
    REPLY;

    boolean isRateLimited() {
        return this == RLY_NW || this == RATE_LIMIT;
    }
}
