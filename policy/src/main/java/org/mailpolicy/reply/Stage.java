package org.mailpolicy.reply;

/** The point of the SMTP conversation at which a reply was received. */
public enum Stage {
    CONNECT, HELO, MAIL, RCPT, DATA, END_OF_DATA,
    /** The caller does not know; rules that name a stage do not match. */
    UNKNOWN
}
