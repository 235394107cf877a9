package org.mailpolicy.shared;

/** The shared database cannot be read or written (unreachable, wrong credentials, disk full). */
public final class SharedStoreException extends RuntimeException {
    public SharedStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
