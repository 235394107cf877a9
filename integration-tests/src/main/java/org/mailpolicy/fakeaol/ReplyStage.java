package org.mailpolicy.fakeaol;

/** Where {@link Mode#REPLY} answers with its reply; the stages before it answer as usual. */
public enum ReplyStage {
    CONNECT, MAIL, RCPT, DATA
}
