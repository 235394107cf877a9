package org.mailpolicy.rules;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * One top-level alternative of a text rule's regex ({@link RequiredLiterals#branches}): its source
 * and the literals it needs. A text matches the regex exactly when it matches one of its branches.
 * Immutable.
 */
final class RegexBranch {
    /** Literal sets kept per branch, the most selective first: more cost states and catch few more. */
    private static final int MAX_REQUIREMENTS = 3;
    /** A literal set with a shorter literal than this is met by nearly every text: not worth a search. */
    private static final int MIN_REQUIRED_LENGTH = 3;

    private final String regex;
    private final ImmutableList<ImmutableSet<String>> requirements;
    private final ImmutableSet<String> exactly;

    private RegexBranch(String regex, ImmutableList<ImmutableSet<String>> requirements, ImmutableSet<String> exactly) {
        this.regex = regex;
        this.requirements = requirements;
        this.exactly = exactly;
    }

    /**
     * A branch that matches exactly the texts holding one of {@code exactly} (null when it does not),
     * or, otherwise, needs one literal of each of the sets of {@code conjunction}: of those, the
     * most selective are kept, those with a literal too short to say much left out.
     */
    static RegexBranch of(String regex, Set<String> exactly, List<Set<String>> conjunction) {
        List<Set<String>> needed = new ArrayList<>();
        if (exactly != null) {
            needed.add(exactly);
        } else {
            for (Set<String> literals : conjunction) {
                if (shortest(literals) >= MIN_REQUIRED_LENGTH && !needed.contains(literals)) {
                    needed.add(literals);
                }
            }
        }
        needed.sort(Comparator.comparingInt(RegexBranch::shortest).reversed());
        ImmutableList.Builder<ImmutableSet<String>> kept = ImmutableList.builder();
        for (Set<String> literals : needed.subList(0, Math.min(MAX_REQUIREMENTS, needed.size()))) {
            kept.add(ImmutableSet.copyOf(literals));
        }
        return new RegexBranch(regex, kept.build(), exactly == null ? null : ImmutableSet.copyOf(exactly));
    }

    private static int shortest(Set<String> literals) {
        return literals.stream().mapToInt(String::length).min().orElse(0);
    }

    /** A whole regex {@link RequiredLiterals} does not understand: one branch, needing no literal. */
    static RegexBranch unread(String regex) {
        return new RegexBranch(regex, ImmutableList.of(), null);
    }

    /** The branch as a regex of its own (compiled with the rule's flags, it matches what it matched within). */
    String regex() {
        return regex;
    }

    /**
     * Literal sets (ASCII lower case) the text must hold one of each of, the most selective first;
     * empty when none is known.
     */
    List<ImmutableSet<String>> requirements() {
        return requirements;
    }

    /**
     * The strings the branch matches when it matches nothing else (see
     * {@link RequiredLiterals#exactly}): a text holding one matches the branch, without running it.
     * Null otherwise. Then the branch's one literal set is this one.
     */
    ImmutableSet<String> exactly() {
        return exactly;
    }
}
