package org.mailpolicy.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time by thread over a measured window, grouped by thread name with its numbers taken out
 * ({@code PolicyRemoteDelivery-7} counts as {@code PolicyRemoteDelivery-N}): which part of the JVM (the system's delivery
 * threads, the fake's sessions, a store's writer) spent the process's CPU. A flight recording's samples cannot say it,
 * because they over-weight threads that run rarely. Threads that ended inside the window are not seen; what they
 * spent is the process's CPU less the sum, reported as {@code (ended threads and the JVM)}.
 */
final class ThreadCpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Map<Long, Long> cpuNanosById;
    private final Map<String, Long> jvmTicksByKind;
    private final long gcMillis;
    private final long jitMillis;

    private ThreadCpu(Map<Long, Long> cpuNanosById, Map<String, Long> jvmTicksByKind, long gcMillis, long jitMillis) {
        this.cpuNanosById = cpuNanosById;
        this.jvmTicksByKind = jvmTicksByKind;
        this.gcMillis = gcMillis;
        this.jitMillis = jitMillis;
    }

    /** Every live thread's CPU time now. */
    static ThreadCpu snapshot() {
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            long nanos = THREADS.getThreadCpuTime(id);
            if (nanos >= 0) {
                cpu.put(id, nanos);
            }
        }
        return new ThreadCpu(cpu, jvmTicksByKind(), gcMillis(), jitMillis());
    }

    /**
     * CPU milliseconds a mail since this snapshot of the JVM's own threads, which are not Java threads and so not
     * in {@link #perMailSince}: the JIT compilers, the garbage collector's, the VM thread. Read from Linux's
     * {@code /proc/self/task/<tid>/stat} (clock ticks, 10 ms); empty elsewhere.
     */
    Map<String, Double> jvmThreadsPerMailSince(int messages) {
        Map<String, Double> out = new LinkedHashMap<>();
        Map<String, Long> now = jvmTicksByKind();
        for (Map.Entry<String, Long> e : now.entrySet()) {
            long ticks = e.getValue() - jvmTicksByKind.getOrDefault(e.getKey(), 0L);
            out.put(e.getKey(), Bench.round(ticks * 10.0 / messages, 3));
        }
        return out;
    }

    /** CPU clock ticks (user and system) of the JVM's own threads, by kind; empty where /proc is not there. */
    private static Map<String, Long> jvmTicksByKind() {
        Map<String, Long> ticks = new LinkedHashMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return ticks;
        }
        for (java.io.File task : tasks) {
            String stat;
            try {
                stat = java.nio.file.Files.readString(new java.io.File(task, "stat").toPath());
            } catch (java.io.IOException e) {
                continue; // the thread ended meanwhile
            }
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            if (open < 0 || close < open) {
                continue;
            }
            String kind = kindOf(stat.substring(open + 1, close));
            if (kind == null) {
                continue;
            }
            String[] fields = stat.substring(close + 2).split(" ");
            // After the name: state is field 3 of stat(5), utime 14 and stime 15.
            ticks.merge(kind, Long.parseLong(fields[11]) + Long.parseLong(fields[12]), Long::sum);
        }
        return ticks;
    }

    private static String kindOf(String name) {
        if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
            return "JIT compiler";
        }
        if (name.startsWith("G1 ") || name.startsWith("GC Thread")) {
            return "garbage collector";
        }
        if (name.startsWith("VM ")) {
            return "VM";
        }
        return null;
    }

    /** Milliseconds the collectors spent since this snapshot (their own threads are not Java threads, so not above). */
    long gcMillisSince() {
        return gcMillis() - gcMillis;
    }

    /** Milliseconds the JIT compilers spent since this snapshot, all compiler threads together. */
    long jitMillisSince() {
        return jitMillis() - jitMillis;
    }

    private static long gcMillis() {
        long total = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    private static long jitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /**
     * CPU milliseconds a mail since this snapshot, by thread group, largest first; the groups below 1% of {@code
     * processCpuSeconds} are added up under {@code (smaller groups)}.
     */
    Map<String, Double> perMailSince(int messages, double processCpuSeconds) {
        Map<String, Long> byGroup = new HashMap<>();
        long[] ids = THREADS.getAllThreadIds();
        ThreadInfo[] infos = THREADS.getThreadInfo(ids);
        long seen = 0;
        for (int i = 0; i < ids.length; i++) {
            long nanos = THREADS.getThreadCpuTime(ids[i]);
            if (nanos < 0 || infos[i] == null) {
                continue;
            }
            long spent = nanos - cpuNanosById.getOrDefault(ids[i], 0L);
            if (spent > 0) {
                byGroup.merge(infos[i].getThreadName().replaceAll("[0-9]+", "N"), spent, Long::sum);
                seen += spent;
            }
        }
        long processNanos = (long) (processCpuSeconds * 1e9);
        Map<String, Double> out = new LinkedHashMap<>();
        long smaller = 0;
        for (Map.Entry<String, Long> e : byGroup.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).toList()) {
            if (e.getValue() * 100 < processNanos) {
                smaller += e.getValue();
            } else {
                out.put(e.getKey(), perMail(e.getValue(), messages));
            }
        }
        out.put("(smaller groups)", perMail(smaller, messages));
        out.put("(ended threads and the JVM)", perMail(Math.max(0, processNanos - seen), messages));
        return out;
    }

    private static double perMail(long nanos, int messages) {
        return Bench.round(nanos / 1e6 / messages, 3);
    }
}
