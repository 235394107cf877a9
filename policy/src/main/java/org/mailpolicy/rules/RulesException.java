package org.mailpolicy.rules;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * A rules file that cannot be used. Carries every problem found, each reading
 * {@code file:line: field: message}, so an operator fixes them in one pass.
 */
public final class RulesException extends Exception {
    private final ImmutableList<String> errors;

    public RulesException(String message) {
        super(message);
        this.errors = ImmutableList.of(message);
    }

    public RulesException(String message, Throwable cause) {
        super(message, cause);
        this.errors = ImmutableList.of(message);
    }

    /** One exception for several problems; the message lists them all. */
    public RulesException(List<String> errors) {
        super(describe(errors));
        this.errors = ImmutableList.copyOf(errors);
    }

    /** Each problem as {@code file:line: field: message}, in file order. */
    public List<String> errors() {
        return errors;
    }

    private static String describe(List<String> errors) {
        if (errors.size() == 1) {
            return errors.get(0);
        }
        StringBuilder sb = new StringBuilder(errors.size() + " errors in reply rules:");
        for (String e : errors) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
