package org.mailpolicy.rules;

import com.google.common.collect.ImmutableSet;
import java.util.Set;

/**
 * Sisimai's reason names (lower case), the only reasons a rule may give: a typo would silently split
 * statistics, and a policy file's expiry per reason ({@code suppression.expire}) would never apply.
 */
public final class Reasons {
    public static final Set<String> ALL = ImmutableSet.of("authfailure", "badreputation", "blocked", "contenterror",
            "expired", "filtered", "hasmoved", "hostunknown", "mailboxfull", "mailererror", "mesgtoobig",
            "networkerror", "norelaying", "notaccept", "notcompliantrfc", "onhold", "policyviolation", "rejected",
            "requireptr", "securityerror", "spamdetected", "speeding", "suspend", "syntaxerror", "systemerror",
            "systemfull", "toomanyconn", "undefined", "userunknown", "virusdetected");

    private Reasons() {
    }
}
