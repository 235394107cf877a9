package org.mailpolicy.rules;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The trie of {@link LiteralSearch}'s ASCII literals (lower case), built once, then compiled to
 * arrays for {@link #walk}: from a node, through a text, reporting each literal the text completes.
 * Not thread-safe while built; immutable and thread-safe once compiled.
 */
final class LiteralTrie {
    static final int ROOT = 0;

    private final List<TreeMap<Character, Integer>> children = new ArrayList<>();
    private final List<Set<Integer>> slots = new ArrayList<>();
    private final List<Integer> depths = new ArrayList<>();

    private int[] firstEdge;
    private char[] edgeFirstChar;
    private int[] labelStart;
    private int[] labelLength;
    private int[] edgeTarget;
    private char[] labels;
    private int[] slotStart;
    private int[] slotsByNode;

    LiteralTrie() {
        newNode(0);
    }

    private int newNode(int depth) {
        children.add(new TreeMap<>());
        slots.add(new LinkedHashSet<>());
        depths.add(depth);
        return children.size() - 1;
    }

    void add(String lowerLiteral, int slot) {
        int node = ROOT;
        for (int k = 0; k < lowerLiteral.length(); k++) {
            Integer child = children.get(node).get(lowerLiteral.charAt(k));
            if (child == null) {
                child = newNode(k + 1);
                children.get(node).put(lowerLiteral.charAt(k), child);
            }
            node = child;
        }
        slots.get(node).add(slot);
    }

    int size() {
        return children.size();
    }

    int depth(int node) {
        return depths.get(node);
    }

    TreeMap<Character, Integer> children(int node) {
        return children.get(node);
    }

    Set<Integer> slotsEndingAt(int node) {
        return slots.get(node);
    }

    void compile(int fromDepth) {
        int nodes = children.size();
        boolean[] stop = new boolean[nodes];
        for (int n = 0; n < nodes; n++) {
            int d = depths.get(n);
            stop[n] = d == fromDepth || d > fromDepth && (!slots.get(n).isEmpty() || children.get(n).size() != 1);
        }
        firstEdge = new int[nodes + 1];
        List<Integer> firsts = new ArrayList<>();
        List<Integer> targets = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        StringBuilder pool = new StringBuilder();
        for (int n = 0; n < nodes; n++) {
            firstEdge[n] = targets.size();
            if (!stop[n]) {
                continue;
            }
            for (Map.Entry<Character, Integer> c : children.get(n).entrySet()) {
                firsts.add(pool.length());
                pool.append(c.getKey());
                int m = c.getValue();
                while (!stop[m]) {
                    Map.Entry<Character, Integer> only = children.get(m).firstEntry();
                    pool.append(only.getKey());
                    m = only.getValue();
                }
                targets.add(m);
                lengths.add(pool.length() - firsts.get(firsts.size() - 1));
            }
        }
        firstEdge[nodes] = targets.size();
        labels = pool.toString().toCharArray();
        labelStart = firsts.stream().mapToInt(Integer::intValue).toArray();
        labelLength = lengths.stream().mapToInt(Integer::intValue).toArray();
        edgeTarget = targets.stream().mapToInt(Integer::intValue).toArray();
        edgeFirstChar = new char[edgeTarget.length];
        for (int e = 0; e < edgeTarget.length; e++) {
            edgeFirstChar[e] = labels[labelStart[e]];
        }
        slotStart = new int[nodes + 1];
        List<Integer> all = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            slotStart[n] = all.size();
            all.addAll(slots.get(n));
        }
        slotStart[nodes] = all.size();
        slotsByNode = all.stream().mapToInt(Integer::intValue).toArray();
    }

    void walk(int node, String text, int from, long[] found) {
        int n = node;
        int i = from;
        int end = text.length();
        while (i < end) {
            char c = lower(text.charAt(i));
            int e = firstEdge[n];
            int last = firstEdge[n + 1];
            while (e < last && edgeFirstChar[e] != c) {
                e++;
            }
            if (e == last) {
                return;
            }
            int length = labelLength[e];
            if (i + length > end) {
                return;
            }
            for (int k = 1, at = labelStart[e]; k < length; k++) {
                if (lower(text.charAt(i + k)) != labels[at + k]) {
                    return;
                }
            }
            i += length;
            n = edgeTarget[e];
            for (int k = slotStart[n], stop = slotStart[n + 1]; k < stop; k++) {
                int slot = slotsByNode[k];
                found[slot >>> 6] |= 1L << slot;
            }
        }
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }
}
