package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * A policy file that cannot be used. Carries every problem found in the file, not only the first,
 * so an operator fixes them in one pass; each reads {@code file:line: field: message}.
 */
public final class PolicyException extends Exception {
    private final ImmutableList<String> errors;

    public PolicyException(List<String> errors) {
        super(describe(errors));
        this.errors = ImmutableList.copyOf(errors);
    }

    public PolicyException(List<String> errors, Throwable cause) {
        super(describe(errors), cause);
        this.errors = ImmutableList.copyOf(errors);
    }

    /** Each problem as {@code file:line: field: message}, in file order. */
    public List<String> errors() {
        return errors;
    }

    private static String describe(List<String> errors) {
        Preconditions.checkArgument(!errors.isEmpty(), "a PolicyException needs at least one error");
        StringBuilder sb = new StringBuilder();
        sb.append(errors.size() == 1 ? "1 error" : errors.size() + " errors").append(" in delivery policy:");
        for (String e : errors) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
