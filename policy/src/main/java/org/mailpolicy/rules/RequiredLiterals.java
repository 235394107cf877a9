package org.mailpolicy.rules;

import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Derives from a case-insensitive Java regex a set of literals of which every match contains at
 * least one (lower-cased in ASCII, as {@link java.util.regex.Pattern#CASE_INSENSITIVE} without
 * UNICODE_CASE folds only ASCII). The classifier runs a text rule's regex only when the reply's text
 * holds one of them. It must never leave out a literal a match could rely on, so it reads only the
 * syntax it understands fully and gives up on anything else (inline flags, back-references,
 * {@code \p}, {@code \Q}, nested classes...): a rule without literals is always tested.
 *
 * <p>{@link #branches} reads a regex branch by branch (its top-level alternatives), each with every
 * literal set it needs, so that a branch is tried only when all of them are met, and alone.
 */
final class RequiredLiterals {
    /** Largest set of alternatives followed through a concatenation; beyond it the product is cut. */
    private static final int MAX_ALTERNATIVES = 64;
    /** A character class with more members than this says nothing useful: any character. */
    private static final int MAX_CLASS = 32;

    private final String regex;
    private int pos;

    private RequiredLiterals(String regex) {
        this.regex = regex;
    }

    /** The literals, or empty when none can be derived safely (the regex must then always be tried). */
    static Optional<ImmutableSet<String>> of(String regex) {
        return read(regex, false);
    }

    /**
     * The strings the regex matches, when it matches nothing else: literals, groups, alternatives,
     * {@code ?} and classes without ASCII letters, but no anchor, word boundary or look-around. Then
     * {@code find} succeeds exactly when the text, its ASCII case folded, holds one of them, and the
     * regex need not run. Empty otherwise.
     */
    static Optional<ImmutableSet<String>> exactly(String regex) {
        return read(regex, true);
    }

    /**
     * The regex's top-level alternatives, each as a regex of its own with what it needs: a text
     * matches the regex exactly when it matches one of them (find looks for a match of either at
     * each position). Empty when the regex holds syntax this reader does not understand.
     */
    static Optional<List<RegexBranch>> branches(String regex) {
        if (hasSurrogate(regex)) {
            return Optional.empty();
        }
        try {
            RequiredLiterals parser = new RequiredLiterals(regex);
            List<RegexBranch> out = new ArrayList<>();
            while (true) {
                int start = parser.pos;
                Info info = parser.concatenation();
                boolean exact = info.pure && info.exact != null && !info.exact.isEmpty() && !info.exact.contains("");
                String branch = regex.substring(start, parser.pos);
                out.add(RegexBranch.of(branch, exact ? info.exact : null, info.conjunction));
                if (!parser.more()) {
                    return Optional.of(out);
                }
                if (parser.peek() != '|') {
                    return Optional.empty(); // a ')' without its '('
                }
                parser.pos++;
            }
        } catch (Unsupported | IndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }

    private static boolean hasSurrogate(String regex) {
        for (int i = 0; i < regex.length(); i++) {
            if (Character.isSurrogate(regex.charAt(i))) {
                return true; // a class member of two chars would be read as two members
            }
        }
        return false;
    }

    private static Optional<ImmutableSet<String>> read(String regex, boolean exactly) {
        if (hasSurrogate(regex)) {
            return Optional.empty();
        }
        try {
            RequiredLiterals parser = new RequiredLiterals(regex);
            Info info = parser.alternation();
            if (parser.pos != regex.length()) {
                return Optional.empty();
            }
            if (exactly && !info.pure) {
                return Optional.empty();
            }
            Set<String> required = exactly ? info.exact : info.required;
            if (required == null || required.isEmpty() || required.contains("")) {
                return Optional.empty();
            }
            return Optional.of(ImmutableSet.copyOf(required));
        } catch (Unsupported | IndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }

    /** ASCII lower case: what CASE_INSENSITIVE without UNICODE_CASE compares. */
    static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    /** Thrown for syntax this reader does not understand; the regex is then always tried. */
    private static final class Unsupported extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsupported() {
            super(null, null, false, false);
        }
    }

    /**
     * What is known of a piece of the regex: every string it can match (lower-cased), when that is a
     * small finite set, and a set of literals one of which every match contains (null: none known).
     */
    private static final class Info {
        static final Info ANY = new Info(null, null, false);
        /** An anchor, a word boundary or a look-around: matches no text, yet may refuse a match. */
        static final Info ASSERTION = new Info(Set.of(""), null, false);

        final Set<String> exact;
        final Set<String> required;
        /** True when exact is all the piece checks: no assertion in it, no class with ASCII letters. */
        final boolean pure;
        /** Literal sets every match holds one of each of (required is the best of them). */
        final List<Set<String>> conjunction;

        Info(Set<String> exact, Set<String> required, boolean pure) {
            this(exact, required, pure, required == null ? List.of() : List.of(required));
        }

        Info(Set<String> exact, Set<String> required, boolean pure, List<Set<String>> conjunction) {
            this.exact = exact;
            this.required = required;
            this.pure = pure && exact != null;
            this.conjunction = conjunction;
        }

        static Info exactly(Set<String> strings, boolean pure) {
            if (strings.size() > MAX_ALTERNATIVES) {
                return ANY;
            }
            return new Info(strings, strings.contains("") ? null : strings, pure);
        }
    }

    private boolean more() {
        return pos < regex.length();
    }

    private char peek() {
        return regex.charAt(pos);
    }

    private Info alternation() {
        Info first = concatenation();
        if (!more() || peek() != '|') {
            return first;
        }
        Set<String> exact = first.exact == null ? null : new LinkedHashSet<>(first.exact);
        Set<String> required = first.required == null ? null : new LinkedHashSet<>(first.required);
        boolean pure = first.pure;
        while (more() && peek() == '|') {
            pos++;
            Info branch = concatenation();
            pure &= branch.pure;
            if (exact != null && branch.exact != null) {
                exact.addAll(branch.exact);
            } else {
                exact = null;
            }
            if (required != null && branch.required != null) {
                required.addAll(branch.required);
            } else {
                required = null; // a branch that needs no literal lets every text through
            }
        }
        if (exact != null && exact.size() > MAX_ALTERNATIVES) {
            exact = null;
        }
        return new Info(exact, required, pure);
    }

    private Info concatenation() {
        Set<String> running = Set.of("");
        boolean whole = true;
        boolean pure = true;
        List<Set<String>> candidates = new java.util.ArrayList<>();
        // Each piece's literals are in every match of the concatenation, which holds a match of the
        // piece; but a piece spelled out in a run says less than the run, which holds it.
        List<Set<String>> conjunction = new ArrayList<>();
        while (more() && peek() != '|' && peek() != ')') {
            Info piece = quantified(atom());
            pure &= piece.pure;
            if (piece.required != null) {
                candidates.add(piece.required);
            }
            if (piece.exact != null && (long) running.size() * piece.exact.size() <= MAX_ALTERNATIVES) {
                running = product(running, piece.exact);
            } else {
                // The run of known strings ends here: what it spelled is required; a new run starts.
                candidates.add(running);
                addRequirement(conjunction, running);
                if (piece.exact == null) {
                    conjunction.addAll(piece.conjunction);
                }
                whole = false;
                running = piece.exact != null ? piece.exact : Set.of("");
            }
        }
        candidates.add(running);
        addRequirement(conjunction, running);
        Set<String> best = null;
        for (Set<String> c : candidates) {
            if (!c.contains("") && (best == null || better(c, best))) {
                best = c;
            }
        }
        return new Info(whole ? running : null, best, pure, conjunction);
    }

    private static void addRequirement(List<Set<String>> conjunction, Set<String> literals) {
        if (!literals.contains("")) {
            conjunction.add(literals);
        }
    }

    /** Longer shortest literal first (fewer false candidates), then fewer literals. */
    private static boolean better(Set<String> a, Set<String> b) {
        int shortestA = a.stream().mapToInt(String::length).min().orElse(0);
        int shortestB = b.stream().mapToInt(String::length).min().orElse(0);
        return shortestA != shortestB ? shortestA > shortestB : a.size() < b.size();
    }

    private static Set<String> product(Set<String> left, Set<String> right) {
        Set<String> out = new LinkedHashSet<>();
        for (String l : left) {
            for (String r : right) {
                out.add(l + r);
            }
        }
        return out;
    }

    private Info quantified(Info atom) {
        if (!more()) {
            return atom;
        }
        char c = peek();
        int min;
        int max;
        if (c == '?') {
            min = 0;
            max = 1;
            pos++;
        } else if (c == '*') {
            min = 0;
            max = Integer.MAX_VALUE;
            pos++;
        } else if (c == '+') {
            min = 1;
            max = Integer.MAX_VALUE;
            pos++;
        } else if (c == '{') {
            int close = regex.indexOf('}', pos);
            if (close < 0) {
                throw new Unsupported();
            }
            String[] bounds = regex.substring(pos + 1, close).split(",", -1);
            try {
                min = Integer.parseInt(bounds[0].trim());
                max = bounds.length == 1 ? min
                        : bounds[1].trim().isEmpty() ? Integer.MAX_VALUE : Integer.parseInt(bounds[1].trim());
            } catch (NumberFormatException e) {
                throw new Unsupported();
            }
            if (bounds.length > 2) {
                throw new Unsupported();
            }
            pos = close + 1;
        } else {
            return atom;
        }
        if (more() && (peek() == '?' || peek() == '+')) {
            pos++; // lazy or possessive: matches no more than the greedy form
        }
        if (min == 1 && max == 1) {
            return atom;
        }
        if (min == 0) {
            if (max == 1 && atom.exact != null) {
                Set<String> optional = new LinkedHashSet<>(atom.exact);
                optional.add("");
                return Info.exactly(optional, atom.pure);
            }
            return Info.ANY;
        }
        // At least one repetition: whatever one needs, all need; the strings themselves are unknown.
        return new Info(null, atom.required, false);
    }

    private Info atom() {
        char c = regex.charAt(pos++);
        switch (c) {
            case '(':
                return group();
            case '[':
                return characterClass();
            case '\\':
                return escape();
            case '.':
                return Info.ANY;
            case '^':
            case '$':
                return Info.ASSERTION;
            case '*':
            case '+':
            case '?':
            case '{':
                throw new Unsupported();
            default:
                return Info.exactly(Set.of(String.valueOf(lower(c))), true);
        }
    }

    private Info group() {
        boolean lookaround = false;
        if (more() && peek() == '?') {
            pos++;
            char kind = regex.charAt(pos++);
            if (kind == '=' || kind == '!') {
                lookaround = true;
            } else if (kind == '<' && (peek() == '=' || peek() == '!')) {
                pos++;
                lookaround = true;
            } else if (kind == '<') {
                int close = regex.indexOf('>', pos);
                if (close < 0) {
                    throw new Unsupported();
                }
                pos = close + 1; // a named group: a group
            } else if (kind != ':' && kind != '>') {
                throw new Unsupported(); // inline flags and the like change how the rest reads
            }
        }
        Info inner = alternation();
        if (!more() || peek() != ')') {
            throw new Unsupported();
        }
        pos++;
        // A look-around consumes nothing; what it asserts is not counted on.
        return lookaround ? Info.ASSERTION : inner;
    }

    private Info escape() {
        char c = regex.charAt(pos++);
        switch (c) {
            case 'b':
            case 'B':
            case 'A':
            case 'z':
            case 'Z':
            case 'G':
                return Info.ASSERTION;
            case 'd':
            case 'D':
            case 's':
            case 'S':
            case 'w':
            case 'W':
            case 'h':
            case 'H':
            case 'v':
            case 'V':
            case 'R':
            case 'X':
                return Info.ANY;
            default:
                return Info.exactly(Set.of(String.valueOf(escapedLiteral(c))), true);
        }
    }

    /** The character an escape other than a class stands for; unsupported for the rest. */
    private static char escapedLiteral(char c) {
        switch (c) {
            case 't':
                return '\t';
            case 'n':
                return '\n';
            case 'r':
                return '\r';
            case 'f':
                return '\f';
            case 'e':
                return '\u001b';
            case 'a':
                return '\u0007';
            default:
                if (Character.isLetterOrDigit(c) || c > 127) {
                    throw new Unsupported();
                }
                return lower(c);
        }
    }

    private Info characterClass() {
        boolean negated = false;
        if (peek() == '^') {
            negated = true;
            pos++;
        }
        if (peek() == ']') {
            throw new Unsupported();
        }
        Set<String> members = new LinkedHashSet<>();
        boolean anything = negated;
        while (peek() != ']') {
            char c = regex.charAt(pos++);
            if (c == '[' || c == '&' && peek() == '&') {
                throw new Unsupported();
            }
            char from;
            if (c == '\\') {
                char e = regex.charAt(pos++);
                if ("dDsSwWhHvV".indexOf(e) >= 0) {
                    anything = true;
                    continue;
                }
                from = escapedLiteral(e);
            } else {
                from = c;
            }
            char to = from;
            if (peek() == '-' && regex.charAt(pos + 1) != ']') {
                pos++;
                char end = regex.charAt(pos++);
                if (end == '[') {
                    throw new Unsupported();
                }
                to = end == '\\' ? escapedLiteral(regex.charAt(pos++)) : end;
                if (c != '\\') {
                    from = c; // the range runs between the characters as written, before folding
                }
            }
            if (to - from >= MAX_CLASS) {
                anything = true;
                continue;
            }
            for (char m = from; m <= to; m++) {
                members.add(String.valueOf(lower(m)));
            }
        }
        pos++;
        if (anything || members.size() > MAX_CLASS) {
            return Info.ANY;
        }
        // A class folds ASCII letters by its own rules (ranges); only one without them is exact.
        boolean asciiLetters = members.stream().anyMatch(m -> m.charAt(0) >= 'a' && m.charAt(0) <= 'z');
        return Info.exactly(members, !asciiLetters);
    }
}
