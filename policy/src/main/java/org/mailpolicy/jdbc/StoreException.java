package org.mailpolicy.jdbc;

/**
 * A store of the plugin cannot be read or written: the database is unreachable, the credentials are
 * wrong, the embedded file is locked by another process, the disk is full. The message says what
 * was being done and in which database.
 */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
