package org.mailpolicy.james.testing;

/**
 * The ports a James boot binds on 127.0.0.1; 0 picks a free one (tests), fixed numbers are for the sandbox.
 *
 * @param smtp     SMTP submission/relay port
 * @param imap     IMAP port (plain, no TLS)
 * @param webAdmin WebAdmin HTTP port
 */
public record JamesPorts(int smtp, int imap, int webAdmin) {
    public static final JamesPorts SANDBOX = new JamesPorts(2525, 1143, 8000);
    public static final JamesPorts EPHEMERAL = new JamesPorts(0, 0, 0);

    public JamesPorts {
        check(smtp, "smtp");
        check(imap, "imap");
        check(webAdmin, "webAdmin");
    }

    private static void check(int port, String name) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " port must be between 0 and 65535, was " + port);
        }
    }
}
