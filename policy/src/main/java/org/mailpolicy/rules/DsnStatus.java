package org.mailpolicy.rules;

import com.google.common.collect.ImmutableMap;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.reply.EnhancedStatus;

/** Derives the RFC 3463 status a DSN reports for a classification. */
final class DsnStatus {
    /** subject.detail per reason, from RFC 3463's own definitions; the class comes from the action. */
    private static final Map<String, int[]> BY_REASON = ImmutableMap.<String, int[]>builder()
            .put("userunknown", new int[] {1, 1})
            .put("hasmoved", new int[] {1, 6})
            .put("hostunknown", new int[] {1, 2})
            .put("mailboxfull", new int[] {2, 2})
            .put("suspend", new int[] {2, 1})
            .put("systemfull", new int[] {3, 1})
            .put("mesgtoobig", new int[] {3, 4})
            .put("notaccept", new int[] {3, 2})
            .put("systemerror", new int[] {3, 0})
            .put("mailererror", new int[] {3, 0})
            .put("networkerror", new int[] {4, 1})
            .put("expired", new int[] {4, 7})
            .put("norelaying", new int[] {7, 1})
            .put("syntaxerror", new int[] {5, 2})
            .put("contenterror", new int[] {6, 0})
            .put("securityerror", new int[] {7, 0})
            .put("authfailure", new int[] {7, 1})
            .put("blocked", new int[] {7, 1})
            .put("badreputation", new int[] {7, 1})
            .put("requireptr", new int[] {7, 25})
            .put("rejected", new int[] {7, 1})
            .put("spamdetected", new int[] {7, 1})
            .put("virusdetected", new int[] {7, 1})
            .put("policyviolation", new int[] {7, 1})
            .put("toomanyconn", new int[] {4, 5})
            .put("speeding", new int[] {7, 0})
            .build();

    private DsnStatus() {
    }

    static EnhancedStatus of(Classification c) {
        Optional<EnhancedStatus> own = c.reply().enhancedStatus();
        int wantedClass = c.action().isFinal() ? 5 : 4;
        if (own.isPresent() && own.get().statusClass() != 2) {
            // The reply's own code carries the receiver's detail; the class follows our decision,
            // because the DSN says what happened to the message (a 554 RTR:GE we retry is delayed).
            return own.get().withClass(wantedClass);
        }
        int[] sd = BY_REASON.get(c.reason());
        if (sd == null) {
            return EnhancedStatus.of(wantedClass, 0, 0);
        }
        return EnhancedStatus.of(wantedClass, sd[0], sd[1]);
    }
}
