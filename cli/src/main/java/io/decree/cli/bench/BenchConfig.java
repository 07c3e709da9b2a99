package io.decree.cli.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * What one end-to-end benchmark run does, validated at construction.
 *
 * @param participants account services each transaction writes to; 1 takes the one-phase path
 * @param inFlight transactions in flight at once (one worker thread each)
 * @param warmup run but not measured, so JIT, connections and WAL files are warm
 * @param duration measured
 * @param dataDir where the WALs go; empty: a temporary directory deleted afterwards
 * @param txTimeout the coordinator aborts a transaction not decided within this
 * @param coordinators 1: a single node over its WAL; 3 or more: a cluster over the Raft log
 */
public record BenchConfig(
    int participants,
    int inFlight,
    Duration warmup,
    Duration duration,
    Optional<Path> dataDir,
    Duration txTimeout,
    int coordinators) {
  /** Limits, so a typo cannot start ten thousand threads or servers. */
  public static final int PARTICIPANTS_MAX = 16;

  public static final int IN_FLIGHT_MAX = 4_096;

  public static final int COORDINATORS_MAX = 7;

  public BenchConfig {
    if (participants < 1 || participants > PARTICIPANTS_MAX) {
      throw new IllegalArgumentException(
          "bench: --participants must be 1.." + PARTICIPANTS_MAX + ", got " + participants);
    }
    if (inFlight < 1 || inFlight > IN_FLIGHT_MAX) {
      throw new IllegalArgumentException(
          "bench: --in-flight must be 1.." + IN_FLIGHT_MAX + ", got " + inFlight);
    }
    if (warmup.isNegative()) {
      throw new IllegalArgumentException("bench: --warmup must be >= 0, got " + warmup);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("bench: --duration must be > 0, got " + duration);
    }
    if (txTimeout.isNegative() || txTimeout.isZero()) {
      throw new IllegalArgumentException("bench: transaction timeout must be > 0");
    }
    if (coordinators < 1 || coordinators == 2 || coordinators > COORDINATORS_MAX) {
      throw new IllegalArgumentException(
          "bench: --coordinators must be 1 (single node) or 3.."
              + COORDINATORS_MAX
              + " (a cluster), got "
              + coordinators);
    }
    dataDir = dataDir == null ? Optional.empty() : dataDir;
  }

  /** A single-node run. */
  public BenchConfig(
      int participants,
      int inFlight,
      Duration warmup,
      Duration duration,
      Optional<Path> dataDir,
      Duration txTimeout) {
    this(participants, inFlight, warmup, duration, dataDir, txTimeout, 1);
  }

  /** The same run with another coordinator count. */
  public BenchConfig withCoordinators(int count) {
    return new BenchConfig(participants, inFlight, warmup, duration, dataDir, txTimeout, count);
  }
}
