package org.mailpolicy.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.mailpolicy.destination.DestinationPolicy;
import org.mailpolicy.james.PolicyRuntime;
import org.mailpolicy.state.DestinationState;
import org.mailpolicy.state.Pace;

/**
 * What a delivery benchmark saw over time, for the plot in docs/benchmarks.md (bin/plot-pace): every
 * {@link #EVERY}, one JSON line of type {@code sample} on stdout with the receiver's acceptances and
 * refusals so far and, for the plugin, the destination's effective rate and concurrency and whether
 * it is held. The result line still comes last.
 */
final class PaceTimeline {
    static final Duration EVERY = Duration.ofSeconds(5);

    private final String benchmark;
    private final String system;
    private final Optional<Path> policyFile;
    private final String destinationKey;
    private final DestinationPolicy destination;
    private final Instant start;
    private Instant next;

    /**
     * @param policyFile the plugin's policy file in James's conf/ (its runtime is this JVM's), empty for stock James
     */
    PaceTimeline(String benchmark, String system, Optional<Path> policyFile, String destinationKey,
                 DestinationPolicy destination, Instant start) {
        this.benchmark = benchmark;
        this.system = system;
        this.policyFile = policyFile;
        this.destinationKey = destinationKey;
        this.destination = destination;
        this.start = start;
        this.next = start;
    }

    /** Writes a sample if one is due; the text for the progress line either way. */
    String sample(long accepted, long refused) throws Exception {
        Instant now = Instant.now();
        Optional<Pace> pace = Optional.empty();
        boolean held = false;
        if (policyFile.isPresent()) {
            Optional<DestinationState> state = PolicyRuntime.forPolicyFile(policyFile.get().toString()).destinations()
                    .get(destinationKey);
            pace = Optional.of(state.map(s -> s.paceUnder(destination, now)).orElse(Pace.initial(destination, now)));
            held = state.map(s -> s.isHeldAt(now)).orElse(false);
        }
        if (!now.isBefore(next)) {
            next = next.plus(EVERY);
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("benchmark", benchmark);
            line.put("system", system);
            line.put("type", "sample");
            line.put("seconds", Bench.round(Duration.between(start, now).toMillis() / 1000.0, 1));
            line.put("accepted", accepted);
            line.put("refused", refused);
            line.put("effectiveRate", pace.map(p -> Bench.round(p.effectiveRate(destination), 1)).orElse(null));
            line.put("effectiveConcurrency", pace.map(p -> p.effectiveConcurrency(destination)).orElse(null));
            line.put("held", policyFile.isPresent() ? held : null);
            Bench.result(line);
        }
        String heldText = held ? ", held" : "";
        return pace.map(p -> String.format(java.util.Locale.ROOT, ", pace %.1f/%s over %d connection(s)%s",
                p.effectiveRate(destination), destination.rateLimit().map(r -> r.toString().substring(
                        r.toString().indexOf('/') + 1)).orElse("-"), p.effectiveConcurrency(destination),
                heldText)).orElse("");
    }
}
