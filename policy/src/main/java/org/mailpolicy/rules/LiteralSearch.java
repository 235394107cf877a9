package org.mailpolicy.rules;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds, in one pass over a text, which rules have one of their required literals in it: an
 * Aho-Corasick automaton over the literals in ASCII, compiled to a table indexed by state and
 * character class, so each character of the text costs one table read. Matching folds ASCII case
 * like the rules' regexes do. Literals with a non-ASCII character (a handful, in the rules for
 * French, German, Japanese... replies) are searched one by one, and only in texts that have a
 * non-ASCII character. Immutable and thread-safe.
 *
 * <p>A literal that holds another of the same rule is dropped: a text holding it holds the shorter
 * one, so no rule is lost. States are numbered in a char; should a huge rules file need more, the
 * literals are cut to their start (64 characters, then 32...), which loses no rule either but lets
 * more texts through to the regex: cutting the built-in literals to 10 characters halved the
 * classifier's speed, for a table a third the size.
 */
final class LiteralSearch {
    /** Literals are first taken whole; these are the cuts tried when the states do not fit. */
    private static final int FIRST_CUT = 64;
    private final int classes;
    /** The character class of each ASCII character (upper case folded onto lower); 0: in no literal. */
    private final byte[] asciiClass = new byte[128];
    /** Next state, at {@code state * classes + class}. */
    private final char[] next;
    /** Per state, the rules (bits) a literal ending there belongs to; null when none. */
    private final long[][] found;
    private final String[] wideLiterals;
    private final int[] wideRule;
    private final int words;
    /** True when literals were cut to fit the states in a char: a hit then no longer proves a match. */
    private final boolean cut;

    private LiteralSearch(List<Set<String>> fullLiteralsByRule, int maxLiteral) {
        List<Set<String>> literalsByRule = new ArrayList<>();
        boolean anyCut = false;
        for (Set<String> literals : fullLiteralsByRule) {
            literalsByRule.add(shortened(literals, maxLiteral));
            anyCut |= literals.stream().anyMatch(l -> l.length() > maxLiteral);
        }
        this.cut = anyCut;
        this.words = Math.max(1, (literalsByRule.size() + 63) / 64);
        List<String> wide = new ArrayList<>();
        List<Integer> wideOwner = new ArrayList<>();
        int classCount = 1;
        for (Set<String> literals : literalsByRule) {
            for (String literal : literals) {
                for (int k = 0; k < literal.length(); k++) {
                    char c = literal.charAt(k);
                    if (c < 128 && asciiClass[c] == 0) {
                        asciiClass[c] = (byte) classCount++;
                    }
                }
            }
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            asciiClass[c] = asciiClass[RequiredLiterals.lower(c)];
        }
        this.classes = classCount;

        // The trie, then its failure links breadth first, then the full transition table.
        List<Map<Integer, Integer>> children = new ArrayList<>();
        List<long[]> own = new ArrayList<>();
        children.add(new HashMap<>());
        own.add(null);
        for (int rule = 0; rule < literalsByRule.size(); rule++) {
            for (String literal : literalsByRule.get(rule)) {
                if (!literal.chars().allMatch(c -> c < 128)) {
                    wide.add(literal);
                    wideOwner.add(rule);
                    continue;
                }
                int state = 0;
                for (int k = 0; k < literal.length(); k++) {
                    int cls = asciiClass[literal.charAt(k)];
                    Integer child = children.get(state).get(cls);
                    if (child == null) {
                        child = children.size();
                        children.add(new HashMap<>());
                        own.add(null);
                        children.get(state).put(cls, child);
                    }
                    state = child;
                }
                long[] bits = own.get(state);
                if (bits == null) {
                    bits = new long[words];
                    own.set(state, bits);
                }
                bits[rule >>> 6] |= 1L << rule;
            }
        }
        int states = children.size();
        if (states > Character.MAX_VALUE) {
            throw new TooManyStates();
        }
        this.next = new char[states * classes];
        this.found = new long[states][];
        int[] fail = new int[states];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (Map.Entry<Integer, Integer> e : children.get(0).entrySet()) {
            next[e.getKey()] = (char) (int) e.getValue();
            queue.add(e.getValue());
        }
        found[0] = own.get(0);
        while (!queue.isEmpty()) {
            int state = queue.poll();
            found[state] = merge(own.get(state), found[fail[state]]);
            for (int cls = 0; cls < classes; cls++) {
                Integer child = children.get(state).get(cls);
                if (child == null) {
                    next[state * classes + cls] = next[fail[state] * classes + cls];
                } else {
                    fail[child] = next[fail[state] * classes + cls];
                    next[state * classes + cls] = (char) (int) child;
                    queue.add(child);
                }
            }
        }
        this.wideLiterals = wide.toArray(new String[0]);
        this.wideRule = wideOwner.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * {@code literalsByRule.get(i)}: rule i's literals, lower-cased; rule i is bit i. Built from the
     * literals cut shorter and shorter until the table's states fit in a char.
     */
    static LiteralSearch of(List<Set<String>> literalsByRule) {
        for (int maxLiteral = Integer.MAX_VALUE; ; maxLiteral = Math.min(FIRST_CUT, maxLiteral / 2)) {
            try {
                return new LiteralSearch(literalsByRule, maxLiteral);
            } catch (TooManyStates e) {
                if (maxLiteral == 1) {
                    throw new IllegalStateException("too many distinct characters in the rules' literals", e);
                }
            }
        }
    }

    private static final class TooManyStates extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TooManyStates() {
            super(null, null, false, false);
        }
    }

    /** The literals cut to their start, without those that hold another (which says no more). */
    private static Set<String> shortened(Set<String> literals, int maxLiteral) {
        Set<String> cut = new java.util.LinkedHashSet<>();
        for (String literal : literals) {
            cut.add(literal.length() > maxLiteral ? literal.substring(0, maxLiteral) : literal);
        }
        Set<String> out = new java.util.LinkedHashSet<>();
        for (String literal : cut) {
            if (cut.stream().noneMatch(other -> !other.equals(literal) && literal.contains(other))) {
                out.add(literal);
            }
        }
        return out;
    }

    private long[] merge(long[] a, long[] b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        long[] out = new long[words];
        for (int w = 0; w < words; w++) {
            out[w] = a[w] | b[w];
        }
        return out;
    }

    /**
     * True when a rule's bit is set exactly when the text holds one of its literals as given; false
     * when literals had to be cut, so that the bit says only that the text might hold one.
     */
    boolean findsWholeLiterals() {
        return !cut;
    }

    /** Words of the bit set {@link #mark} fills. */
    int words() {
        return words;
    }

    /** States of the automaton: its table has this many rows. */
    int states() {
        return found.length;
    }

    /** Sets in {@code rules} the bit of every rule one of whose literals occurs in {@code text}. */
    void mark(String text, long[] rules) {
        int state = 0;
        boolean wide = false;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            int cls;
            if (c < 128) {
                cls = asciiClass[c];
            } else {
                cls = 0;
                wide = true;
            }
            state = next[state * classes + cls];
            long[] bits = found[state];
            if (bits != null) {
                for (int w = 0; w < bits.length; w++) {
                    rules[w] |= bits[w];
                }
            }
        }
        if (wide) {
            for (int k = 0; k < wideLiterals.length; k++) {
                if (containsFoldingAscii(text, wideLiterals[k])) {
                    rules[wideRule[k] >>> 6] |= 1L << wideRule[k];
                }
            }
        }
    }

    private static boolean containsFoldingAscii(String text, String lowerLiteral) {
        int last = text.length() - lowerLiteral.length();
        outer:
        for (int i = 0; i <= last; i++) {
            for (int k = 0; k < lowerLiteral.length(); k++) {
                if (RequiredLiterals.lower(text.charAt(i + k)) != lowerLiteral.charAt(k)) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
