package org.mailpolicy.rules;

/**
 * One reply's text and the literal sets {@link TextRuleIndex}'s search finds in it: searched once,
 * on first use, and read by the text tier and by the suppression guard alike. Lives for one
 * classification, on one thread.
 */
final class TextScan {
    final String text;
    /** Set by {@link TextRuleIndex} when it first searches; null until then. */
    long[] found;

    TextScan(String text) {
        this.text = text;
    }
}
