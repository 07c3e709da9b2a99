package io.decree.cli.bench;

import java.util.Locale;

/**
 * What one measured window saw. Counts and latencies cover transactions whose answer arrived inside
 * the window, so those still in flight when it closes are left out of both.
 *
 * @param measuredSeconds wall time of the window
 * @param committed answered COMMITTED
 * @param aborted answered ABORTED (including ones rolled back because a write failed)
 * @param unknown answered UNKNOWN: the coordinator could not say in time
 * @param failed begin refused or a call failed outside the protocol's answers
 * @param latencyP50Millis begin to commit answer, committed and aborted alike
 * @param commitP50Millis the commit call alone: sent to answered (phase 1 and the decision's sync)
 * @param cpuMicrosPerTx process CPU time (all threads: client, coordinator, participants) per
 *     committed transaction
 * @param cpuCoresUsed process CPU time over wall time
 * @param gcMillis collector time in the window, as the JVM counts it
 * @param walSyncsPerTx WAL syncs (all logs in the process) per committed transaction
 * @param walRecordsPerTx WAL records (all logs in the process) per committed transaction
 * @param fileStoreType the file system under the WALs (tmpfs would make every sync free)
 */
public record BenchResult(
    int participants,
    int inFlight,
    double warmupSeconds,
    double measuredSeconds,
    long committed,
    long aborted,
    long unknown,
    long failed,
    double txPerSecond,
    double latencyP50Millis,
    double latencyP90Millis,
    double latencyP99Millis,
    double latencyP999Millis,
    double latencyMaxMillis,
    double latencyMeanMillis,
    double commitP50Millis,
    double commitP99Millis,
    double cpuMicrosPerTx,
    double cpuCoresUsed,
    long gcCount,
    long gcMillis,
    double walSyncsPerTx,
    double walRecordsPerTx,
    String fileStoreType,
    int coordinators) {

  /** One flat JSON object; numbers only, so no escaping is needed. */
  public String toJson() {
    return String.format(
        Locale.ROOT,
        "{\"participants\":%d,\"inFlight\":%d,\"durable\":true,\"warmupSeconds\":%.3f,"
            + "\"measuredSeconds\":%.3f,\"committed\":%d,\"aborted\":%d,\"unknown\":%d,"
            + "\"failed\":%d,\"txPerSecond\":%.1f,\"latencyMillis\":{\"p50\":%.3f,\"p90\":%.3f,"
            + "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f},"
            + "\"commitLatencyMillis\":{\"p50\":%.3f,\"p99\":%.3f},\"cpuMicrosPerTx\":%.1f,"
            + "\"cpuCoresUsed\":%.2f,\"gcCount\":%d,\"gcMillis\":%d,\"walSyncsPerTx\":%.2f,"
            + "\"walRecordsPerTx\":%.2f,"
            + "\"fileStoreType\":\"%s\",\"coordinators\":%d}",
        participants,
        inFlight,
        warmupSeconds,
        measuredSeconds,
        committed,
        aborted,
        unknown,
        failed,
        txPerSecond,
        latencyP50Millis,
        latencyP90Millis,
        latencyP99Millis,
        latencyP999Millis,
        latencyMaxMillis,
        latencyMeanMillis,
        commitP50Millis,
        commitP99Millis,
        cpuMicrosPerTx,
        cpuCoresUsed,
        gcCount,
        gcMillis,
        walSyncsPerTx,
        walRecordsPerTx,
        fileStoreType.replaceAll("[^A-Za-z0-9._-]", "?"),
        coordinators);
  }

  /** A few aligned lines for a person. */
  public String toHuman() {
    return String.format(
        Locale.ROOT,
        "decree bench: %s, %d participant%s (%s), %d in flight, all durable (WALs on %s)%n"
            + "  measured   %.1f s after %.1f s warmup%n"
            + "  outcomes   %d committed, %d aborted, %d unknown, %d failed%n"
            + "  throughput %,.0f tx/s%n"
            + "  latency    p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms%n"
            + "  commit     p50 %.3f ms  p99 %.3f ms (the commit call alone)%n"
            + "  cpu        %.1f us per committed tx (%.2f cores busy)%n"
            + "  gc         %d collections, %d ms%n"
            + "  wal        %.2f syncs and %.2f records per committed tx (all logs)%n",
        coordinators == 1 ? "single coordinator" : coordinators + "-member coordinator cluster",
        participants,
        participants == 1 ? "" : "s",
        participants == 1 ? "one-phase commit" : "two-phase commit",
        inFlight,
        fileStoreType,
        measuredSeconds,
        warmupSeconds,
        committed,
        aborted,
        unknown,
        failed,
        txPerSecond,
        latencyP50Millis,
        latencyP90Millis,
        latencyP99Millis,
        latencyP999Millis,
        latencyMaxMillis,
        commitP50Millis,
        commitP99Millis,
        cpuMicrosPerTx,
        cpuCoresUsed,
        gcCount,
        gcMillis,
        walSyncsPerTx,
        walRecordsPerTx);
  }
}
