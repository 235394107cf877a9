package org.mailpolicy.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mailpolicy.rules.ReplyClassifier;
import org.mailpolicy.rules.RuleSet;
import org.mailpolicy.rules.RulesException;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A rule set about twice the size of the built-in one, for measuring how the classifier scales with
 * rules: every built-in rule gets a variant under the id {@code synthetic.<id>}, as another
 * provider's rule of the same shape would be. A variant keeps its rule's conditions, except that
 * the ASCII letters of its text regex (outside escapes, classes, quantifiers and group syntax) and
 * of its colon tokens are rotated by 13 (ROT13): the regexes keep their structure and their number
 * of literals, but speak of words no real reply holds. The variants come first, so the built-in
 * rules, defined later, win every tie: the doubled classifier answers as the built-in one does
 * (the benchmark checks that on its mix).
 */
final class SyntheticRules {
    private SyntheticRules() {
    }

    /** The built-in rules preceded by a variant of each. */
    static ReplyClassifier doubledClassifier() {
        String builtIn = builtInYaml();
        Map<String, Object> document = load(builtIn);
        List<Map<String, Object>> all = new ArrayList<>();
        // Variants from a second reading, so that no object is shared and the dump has no aliases.
        for (Map<String, Object> rule : rules(load(builtIn))) {
            all.add(variant(rule));
        }
        all.addAll(rules(document));
        Map<String, Object> doubled = new LinkedHashMap<>();
        doubled.put("version", document.get("version"));
        doubled.put("rules", all);
        DumperOptions options = new DumperOptions();
        options.setWidth(Integer.MAX_VALUE);
        String yaml = new Yaml(options).dump(doubled);
        try {
            // The built-in ids come again, after the variants: each replaces its built-in rule and
            // takes the later position, so the order is variants, then the built-in rules.
            return ReplyClassifier.builtIn().plus(RuleSet.parse(yaml, "synthetic-rules.yaml"));
        } catch (RulesException e) {
            throw new IllegalStateException("synthetic rules are broken: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> load(String yaml) {
        return new Yaml(new LoaderOptions()).load(yaml);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rules(Map<String, Object> document) {
        return (List<Map<String, Object>>) document.get("rules");
    }

    private static String builtInYaml() {
        try (InputStream in = ReplyClassifier.class.getResourceAsStream(ReplyClassifier.BUILT_IN_RESOURCE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> variant(Map<String, Object> rule) {
        Map<String, Object> copy = new LinkedHashMap<>(rule);
        copy.put("id", "synthetic." + rule.get("id"));
        Object match = rule.get("match");
        if (match instanceof Map) {
            Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) match);
            if (m.get("text") != null) {
                m.put("text", rotateRegexLetters(String.valueOf(m.get("text"))));
            }
            Object token = m.get("token");
            if (token instanceof List) {
                List<Object> rotated = new ArrayList<>();
                for (Object t : (List<Object>) token) {
                    rotated.add(rotateToken(String.valueOf(t)));
                }
                m.put("token", rotated);
            } else if (token != null) {
                m.put("token", rotateToken(String.valueOf(token)));
            }
            copy.put("match", m);
        }
        return copy;
    }

    /** DYN:T1 becomes QLA:G1; the bare RTRU stays (its variant then loses every tie). */
    private static String rotateToken(String token) {
        return token.indexOf(':') < 0 ? token : rot13(token, 0, token.length());
    }

    /** ROT13 of the literal letters of a regex; escapes, classes, {m,n} and (?...) syntax as they are. */
    static String rotateRegexLetters(String regex) {
        StringBuilder out = new StringBuilder(regex.length());
        int i = 0;
        int n = regex.length();
        while (i < n) {
            char c = regex.charAt(i);
            int end;
            if (c == '\\') {
                end = Math.min(n, i + 2);
            } else if (c == '[') {
                end = classEnd(regex, i);
            } else if (c == '{') {
                end = regex.indexOf('}', i) + 1;
            } else if (c == '(' && i + 1 < n && regex.charAt(i + 1) == '?') {
                end = groupSyntaxEnd(regex, i);
            } else {
                out.append(rot13(regex, i, i + 1));
                i++;
                continue;
            }
            out.append(regex, i, end);
            i = end;
        }
        return out.toString();
    }

    private static int classEnd(String regex, int open) {
        int i = open + 1;
        if (i < regex.length() && regex.charAt(i) == '^') {
            i++;
        }
        if (i < regex.length() && regex.charAt(i) == ']') {
            i++;
        }
        while (i < regex.length() && regex.charAt(i) != ']') {
            i += regex.charAt(i) == '\\' ? 2 : 1;
        }
        return Math.min(regex.length(), i + 1);
    }

    /** (?: (?= (?! (?<= (?<! (?<name>: the characters up to where the group's content starts. */
    private static int groupSyntaxEnd(String regex, int open) {
        int i = open + 2;
        if (i < regex.length() && regex.charAt(i) == '<') {
            if (i + 1 < regex.length() && (regex.charAt(i + 1) == '=' || regex.charAt(i + 1) == '!')) {
                return i + 2;
            }
            return regex.indexOf('>', i) + 1;
        }
        return Math.min(regex.length(), i + 1);
    }

    private static String rot13(String s, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= 'a' && c <= 'z') {
                c = (char) ('a' + (c - 'a' + 13) % 26);
            } else if (c >= 'A' && c <= 'Z') {
                c = (char) ('A' + (c - 'A' + 13) % 26);
            }
            out.append(c);
        }
        return out.toString();
    }
}
