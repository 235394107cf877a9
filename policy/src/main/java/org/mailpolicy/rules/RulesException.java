package org.mailpolicy.rules;

/** A rules file that cannot be used; the message names the file, line and field. */
public final class RulesException extends Exception {
    public RulesException(String message) {
        super(message);
    }

    public RulesException(String message, Throwable cause) {
        super(message, cause);
    }
}
