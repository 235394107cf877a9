package org.mailpolicy.suppression;

/** The suppression store cannot be read or written (the database is gone, the disk is full). */
public final class SuppressionStoreException extends RuntimeException {
    public SuppressionStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
