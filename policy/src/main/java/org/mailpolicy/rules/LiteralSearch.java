package org.mailpolicy.rules;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Finds, in one pass over a text, which literal sets ("slots") have one of their literals in it,
 * folding ASCII case as the rules' regexes do. Immutable and thread-safe.
 *
 * <p>Two stages, so that the part read for every character stays small enough for the processor's
 * first-level cache. First an Aho-Corasick automaton over the literals' first {@code depth}
 * characters (4, fewer if a huge rules file needs it), compiled to a table indexed by state and
 * character class whose entries are the next state's row: one table read per character of the
 * text. Where it has read a literal's whole start, the trie of the literals' remainders is walked
 * on from there, through the text that follows, and reports every literal it completes. A literal
 * as long as the start, or shorter, is reported by the automaton itself. The automaton over whole
 * literals, which this replaced, needed a table of 860 KB for the built-in rules and a cache miss
 * for most characters.
 *
 * <p>Literals with a non-ASCII character (a handful, in the rules for French, German, Japanese...
 * replies) are searched one by one, and only in texts that have a non-ASCII character. A literal
 * holding another of the same slot is dropped: a text holding it holds the shorter one.
 */
final class LiteralSearch {
    /** Characters of each literal in the automaton; the rest is read by walking the trie. */
    private static final int MAX_DEPTH = 4;
    /** Table entries are rows (state times classes) in a char. */
    private static final int MAX_ENTRIES = Character.MAX_VALUE + 1;

    private final int words;
    private final int classes;
    /** The character class of each ASCII character (upper case folded onto lower); 0: in no literal's start. */
    private final byte[] asciiClass = new byte[128];
    /** Next state's row, at {@code row + class}. */
    private final char[] next;
    /** Rows from here on belong to states that report something. */
    private final int firstReportingRow;
    /** {@code row * reciprocal >>> 32} is the row's state: a division, without its cost, for every report. */
    private final long reciprocal;
    /**
     * Per state s: slots of the literals that end there, its own and those of shorter suffixes, at
     * {@code endingSlots[endingStart[s]]} to {@code endingSlots[endingStart[s + 1] - 1]}.
     */
    private final int[] endingStart;
    private final int[] endingSlots;
    /** Per state: its node in the trie of whole literals, to walk on from; -1 when it has nothing deeper. */
    private final int[] trieNode;
    private final LiteralTrie trie;
    private final String[] wideLiterals;
    private final int[] wideSlot;

    private LiteralSearch(List<Set<String>> literalsBySlot, int depth) {
        this.words = Math.max(1, (literalsBySlot.size() + 63) / 64);
        List<String> wide = new ArrayList<>();
        List<Integer> wideOwner = new ArrayList<>();
        this.trie = new LiteralTrie();
        for (int slot = 0; slot < literalsBySlot.size(); slot++) {
            for (String literal : withoutLongerOnes(literalsBySlot.get(slot))) {
                if (literal.chars().allMatch(c -> c < 128)) {
                    trie.add(literal, slot);
                } else {
                    wide.add(literal);
                    wideOwner.add(slot);
                }
            }
        }
        this.wideLiterals = wide.toArray(new String[0]);
        this.wideSlot = wideOwner.stream().mapToInt(Integer::intValue).toArray();

        // The automaton's states are the trie's nodes down to depth; each character that starts a
        // path there has a class.
        List<Integer> nodes = new ArrayList<>();
        List<Integer> depths = new ArrayList<>();
        int classCount = 1;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(LiteralTrie.ROOT);
        int[] stateOfNode = new int[trie.size()];
        java.util.Arrays.fill(stateOfNode, -1);
        while (!queue.isEmpty()) {
            int node = queue.poll();
            stateOfNode[node] = nodes.size();
            nodes.add(node);
            int d = trie.depth(node);
            depths.add(d);
            if (d == depth) {
                continue;
            }
            for (Map.Entry<Character, Integer> e : trie.children(node).entrySet()) {
                char c = e.getKey();
                if (asciiClass[c] == 0) {
                    asciiClass[c] = (byte) classCount++;
                }
                queue.add(e.getValue());
            }
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            asciiClass[c] = asciiClass[RequiredLiterals.lower(c)];
        }
        this.classes = classCount;
        int states = nodes.size();
        if ((long) states * classes > MAX_ENTRIES) {
            throw new TooManyStates();
        }

        // Breadth first: a state's failure (its longest proper suffix that is a state) comes before it.
        int[] fail = new int[states];
        int[][] transition = new int[states][classes];
        List<Set<Integer>> ending = new ArrayList<>();
        for (int s = 0; s < states; s++) {
            int node = nodes.get(s);
            Set<Integer> slots = new LinkedHashSet<>(trie.slotsEndingAt(node));
            if (s != 0) {
                slots.addAll(ending.get(fail[s]));
            }
            ending.add(slots);
            for (int cls = 0; cls < classes; cls++) {
                transition[s][cls] = s == 0 ? 0 : transition[fail[s]][cls];
            }
            if (depths.get(s) == depth) {
                continue;
            }
            for (Map.Entry<Character, Integer> e : trie.children(node).entrySet()) {
                int child = stateOfNode[e.getValue()];
                int cls = asciiClass[e.getKey()];
                fail[child] = s == 0 ? 0 : transition[fail[s]][cls];
                transition[s][cls] = child;
            }
        }

        // Rows: states that report nothing first, so that one comparison tells the rest.
        int[] rank = new int[states];
        int r = 0;
        boolean[] reports = new boolean[states];
        for (int s = 0; s < states; s++) {
            boolean deeper = depths.get(s) == depth && !trie.children(nodes.get(s)).isEmpty();
            reports[s] = deeper || !ending.get(s).isEmpty();
            if (!reports[s]) {
                rank[s] = r++;
            }
        }
        this.firstReportingRow = r * classes;
        for (int s = 0; s < states; s++) {
            if (reports[s]) {
                rank[s] = r++;
            }
        }
        // Exact: row is state * classes below 2^16, so the error, below state * classes / 2^32, never
        // reaches the next integer.
        this.reciprocal = (1L << 32) / classes + 1;
        this.next = new char[states * classes];
        this.trieNode = new int[states];
        int[] stateAtRank = new int[states];
        for (int s = 0; s < states; s++) {
            stateAtRank[rank[s]] = s;
            for (int cls = 0; cls < classes; cls++) {
                next[rank[s] * classes + cls] = (char) (rank[transition[s][cls]] * classes);
            }
            boolean deeper = depths.get(s) == depth && !trie.children(nodes.get(s)).isEmpty();
            trieNode[rank[s]] = deeper ? nodes.get(s) : -1;
        }
        this.endingStart = new int[states + 1];
        List<Integer> all = new ArrayList<>();
        for (int k = 0; k < states; k++) {
            endingStart[k] = all.size();
            all.addAll(ending.get(stateAtRank[k]));
        }
        endingStart[states] = all.size();
        this.endingSlots = all.stream().mapToInt(Integer::intValue).toArray();
        trie.compile(depth);
    }

    /** {@code literalsBySlot.get(i)}: slot i's literals, lower-cased; slot i is bit i. */
    static LiteralSearch of(List<Set<String>> literalsBySlot) {
        for (int depth = MAX_DEPTH; ; depth--) {
            try {
                return new LiteralSearch(literalsBySlot, depth);
            } catch (TooManyStates e) {
                if (depth == 1) {
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

    /** The literals without those that hold another (which says no more). */
    private static Set<String> withoutLongerOnes(Set<String> literals) {
        Set<String> out = new LinkedHashSet<>();
        for (String literal : literals) {
            if (literals.stream().noneMatch(other -> !other.equals(literal) && literal.contains(other))) {
                out.add(literal);
            }
        }
        return out;
    }

    /** Words of the bit set {@link #mark} fills. */
    int words() {
        return words;
    }

    /** Sets in {@code slots} the bit of every slot one of whose literals occurs in {@code text}. */
    void mark(String text, long[] slots) {
        int row = 0;
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
            row = next[row + cls];
            if (row >= firstReportingRow) {
                report(text, i, (int) (row * reciprocal >>> 32), slots);
            }
        }
        if (wide) {
            for (int k = 0; k < wideLiterals.length; k++) {
                if (containsFoldingAscii(text, wideLiterals[k])) {
                    slots[wideSlot[k] >>> 6] |= 1L << wideSlot[k];
                }
            }
        }
    }

    /** At state, after the text's character at i: what ends here, then what the text goes on to complete. */
    private void report(String text, int i, int state, long[] slots) {
        for (int k = endingStart[state], last = endingStart[state + 1]; k < last; k++) {
            int slot = endingSlots[k];
            slots[slot >>> 6] |= 1L << slot;
        }
        if (trieNode[state] >= 0) {
            trie.walk(trieNode[state], text, i + 1, slots);
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
