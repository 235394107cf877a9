package org.mailpolicy.it;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.Yaml;

/**
 * What Prometheus stores from one scrape of James's {@code GET /metrics}: the text exposition format (version 0.0.4)
 * read into series, then the {@code metric_relabel_configs} of a scrape job applied as Prometheus applies them (in
 * order; {@code replace} and {@code drop} on {@code source_labels: [__name__]}, the regex anchored at both ends), so
 * that a test checks the labels a dashboard queries, from the rules the repository ships.
 */
final class PrometheusScrape {
    /** One series: its name, its labels (sorted), its value. */
    record Series(String name, Map<String, String> labels, double value) {
        boolean has(Map<String, String> wanted) {
            return labels.entrySet().containsAll(wanted.entrySet());
        }
    }

    private record Rule(String action, String sourceLabel, Pattern regex, String targetLabel, String replacement) {
    }

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)\\})?\\s+(\\S+)(?:\\s+\\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private PrometheusScrape() {
    }

    /** The samples of an exposition text, comments and blank lines skipped; a line that is neither fails. */
    static List<Series> parse(String exposition) {
        List<Series> series = new ArrayList<>();
        int lineNumber = 0;
        for (String line : exposition.split("\n")) {
            lineNumber++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("/metrics line " + lineNumber + " is not a sample: " + line);
            }
            Map<String, String> labels = new TreeMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            series.add(new Series(m.group(1), labels, Double.parseDouble(m.group(3))));
        }
        return series;
    }

    /** The first job's {@code metric_relabel_configs} in a Prometheus configuration file, applied to {@code series}. */
    static List<Series> relabel(List<Series> series, Path scrapeConfig) throws IOException {
        List<Rule> rules = rules(scrapeConfig);
        List<Series> kept = new ArrayList<>();
        for (Series s : series) {
            relabel(s, rules).ifPresent(kept::add);
        }
        return kept;
    }

    private static Optional<Series> relabel(Series s, List<Rule> rules) {
        Map<String, String> labels = new LinkedHashMap<>(s.labels());
        labels.put("__name__", s.name());
        for (Rule rule : rules) {
            String value = labels.getOrDefault(rule.sourceLabel(), "");
            Matcher m = rule.regex().matcher(value);
            if (!m.matches()) {
                continue;
            }
            if (rule.action().equals("drop")) {
                return Optional.empty();
            }
            String replaced = m.replaceFirst(rule.replacement());
            if (replaced.isEmpty()) {
                labels.remove(rule.targetLabel());
            } else {
                labels.put(rule.targetLabel(), replaced);
            }
        }
        String name = labels.remove("__name__");
        return Optional.of(new Series(name, new TreeMap<>(labels), s.value()));
    }

    @SuppressWarnings("unchecked")
    private static List<Rule> rules(Path file) throws IOException {
        Map<String, Object> config;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            config = new Yaml().load(reader);
        }
        List<Map<String, Object>> jobs = (List<Map<String, Object>>) config.get("scrape_configs");
        List<Map<String, Object>> configs = (List<Map<String, Object>>) jobs.get(0).get("metric_relabel_configs");
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            Map<String, Object> c = configs.get(i);
            String where = file + ": metric_relabel_configs[" + i + "]";
            String action = (String) c.getOrDefault("action", "replace");
            List<String> sources = (List<String>) c.get("source_labels");
            if (sources == null || sources.size() != 1 || !(action.equals("replace") || action.equals("drop"))) {
                throw new IllegalArgumentException(where + ": this reader knows replace and drop on one source label");
            }
            String target = (String) c.get("target_label");
            if (action.equals("replace") && target == null) {
                throw new IllegalArgumentException(where + ": replace needs a target_label");
            }
            // Prometheus anchors the regex at both ends. Its replacement is Go's Expand: "${1}" is group 1 (so is "$1",
            // but only when no name character follows); Java's replacement writes group 1 as "$1".
            String replacement = String.valueOf(c.getOrDefault("replacement", "$1"));
            if (Pattern.compile("\\$\\d+[A-Za-z0-9_]").matcher(replacement).find()) {
                throw new IllegalArgumentException(where + ": '" + replacement + "': Prometheus reads $N followed by a name"
                        + " character as a group name; write ${N}");
            }
            rules.add(new Rule(action, sources.get(0), Pattern.compile("^(?:" + c.get("regex") + ")$"), target,
                    replacement.replaceAll("\\$\\{(\\d+)\\}", "\\$$1")));
        }
        return rules;
    }
}
