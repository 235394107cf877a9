package org.mailpolicy.rules;

import org.mailpolicy.reply.EnhancedStatus;

/** Derives the RFC 3463 status a DSN reports for a classification. TODO(helper: classification) */
final class DsnStatus {
    private DsnStatus() {
    }

    static EnhancedStatus of(Classification c) {
        throw new UnsupportedOperationException("not yet written");
    }
}
