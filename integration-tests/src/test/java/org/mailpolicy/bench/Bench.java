package org.mailpolicy.bench;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** What the benchmark mains share: {@code --flag value} arguments, logging to a file, one JSON line per result. */
final class Bench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String usage;
    private final Map<String, String> flags = new HashMap<>();

    private Bench(String usage) {
        this.usage = usage;
    }

    /**
     * Reads {@code --name value} pairs (only the names in {@code known}) and sends James's and the plugin's logging to
     * {@code -Dbench.log} (default {@code bench-<name>.log} in the system's temporary folder): stdout stays for results.
     * Call first in main, before anything logs.
     */
    static Bench start(String name, String usage, String[] args, Set<String> known) {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "org/mailpolicy/bench/bench-logback.xml");
        }
        if (System.getProperty("bench.log") == null) {
            System.setProperty("bench.log", System.getProperty("java.io.tmpdir") + "/bench-" + name + ".log");
        }
        Bench bench = new Bench(usage);
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (!flag.startsWith("--") || !known.contains(flag.substring(2)) || i + 1 >= args.length) {
                bench.fail("unknown option or missing value: " + flag);
            }
            bench.flags.put(flag.substring(2), args[++i]);
        }
        return bench;
    }

    String stringFlag(String name, String defaultValue) {
        return flags.getOrDefault(name, defaultValue);
    }

    int intFlag(String name, int defaultValue, int min) {
        String text = flags.get(name);
        if (text == null) {
            return defaultValue;
        }
        try {
            int value = Integer.parseInt(text.trim());
            if (value >= min) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        fail("--" + name + " must be a whole number of at least " + min + ", was '" + text + "'");
        return defaultValue;
    }

    double doubleFlag(String name, double defaultValue, double min) {
        String text = flags.get(name);
        if (text == null) {
            return defaultValue;
        }
        try {
            double value = Double.parseDouble(text.trim());
            if (value >= min) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        fail("--" + name + " must be a number of at least " + min + ", was '" + text + "'");
        return defaultValue;
    }

    /** Progress for the person watching, on stderr. */
    static void progress(String format, Object... args) {
        System.err.printf(format + "%n", args);
    }

    /** One result as a JSON object on one line of stdout, fields in the given order. */
    static void result(Map<String, ?> fields) {
        try {
            System.out.println(JSON.writeValueAsString(new LinkedHashMap<>(fields)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }

    /** Prints the mistake and the usage, and exits 2. */
    void fail(String message) {
        System.err.println(message + "\nusage: " + usage);
        System.exit(2);
    }
}
