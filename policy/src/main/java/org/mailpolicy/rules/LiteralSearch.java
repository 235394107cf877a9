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
 * character class (a row of a power of two entries per state) whose entries are the next state:
 * one table read per character of the text, two halves of the text read side by side. Where it has read a literal's whole start, the trie of the literals' remainders is walked
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
    /**
     * Characters of each literal in the automaton; the rest is read by walking the trie. Depth 8
     * (half the walks, a table four times as large) measured the same on the benchmark's mix.
     */
    private static final int MAX_DEPTH = 4;
    /** Table entries are states, in a char. */
    private static final int MAX_STATES = Character.MAX_VALUE + 1;
    /** At most 512 KB of table; a shallower automaton beyond. */
    private static final int MAX_ENTRIES = 1 << 18;

    private final int words;
    private final int classes;
    /** The character class of each ASCII character (upper case folded onto lower); 0: in no literal's start. */
    private final byte[] asciiClass = new byte[128];
    /** {@link #asciiClass} for the 256 characters of Latin-1, 0 from 128 on: read without a branch. */
    private final byte[] latin1Class = new byte[256];
    private final int depth;
    /** Next state, at {@code (state << shift) + class}. */
    private final char[] next;
    /** A state's row starts at {@code state << shift}: a power of two at least the number of classes. */
    private final int shift;
    /** States from here on report something. */
    private final int firstReportingState;
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
        System.arraycopy(asciiClass, 0, latin1Class, 0, 128);
        this.depth = depth;
        this.classes = classCount;
        this.shift = 32 - Integer.numberOfLeadingZeros(classCount - 1);
        int states = nodes.size();
        if (states > MAX_STATES || (long) states << shift > MAX_ENTRIES) {
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

        // States that report nothing first, so that one comparison tells the rest.
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
        this.firstReportingState = r;
        for (int s = 0; s < states; s++) {
            if (reports[s]) {
                rank[s] = r++;
            }
        }
        this.next = new char[states << shift];
        this.trieNode = new int[states];
        int[] stateAtRank = new int[states];
        for (int s = 0; s < states; s++) {
            stateAtRank[rank[s]] = s;
            for (int cls = 0; cls < classes; cls++) {
                next[(rank[s] << shift) + cls] = (char) rank[transition[s][cls]];
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
        // Two runs of the automaton over the two halves of the text, interleaved. Each step waits
        // for the table read of the step before, so a single run leaves the processor mostly
        // waiting; two independent runs overlap their waits (about 50 ns less a classification on
        // the benchmark's mix). The second run starts depth characters before the middle: a state
        // depends on the last depth characters only, so from the middle on it is the state a run
        // from the start would be in, and whatever it reports before is there too (found twice,
        // which is harmless).
        int n = text.length();
        int half = n >>> 1;
        int second = Math.max(0, half - depth);
        int a = 0;
        int b = 0;
        int seen = 0;
        int i = 0;
        for (int j = second; i < half; i++, j++) {
            char c = text.charAt(i);
            char d = text.charAt(j);
            seen |= c | d;
            a = next[(a << shift) + latin1Class[Math.min(c, 255)]];
            b = next[(b << shift) + latin1Class[Math.min(d, 255)]];
            if (a >= firstReportingState) {
                report(text, i, a, slots);
            }
            if (b >= firstReportingState) {
                report(text, j, b, slots);
            }
        }
        for (int j = second + half; j < n; j++) {
            char d = text.charAt(j);
            seen |= d;
            b = next[(b << shift) + latin1Class[Math.min(d, 255)]];
            if (b >= firstReportingState) {
                report(text, j, b, slots);
            }
        }
        boolean wide = seen >= 128;
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
