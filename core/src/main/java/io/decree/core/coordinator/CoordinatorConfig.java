package io.decree.core.coordinator;

import io.decree.core.Backoff;
import io.decree.core.TxId;

/**
 * The coordinator core's limits and timings, validated at construction.
 *
 * @param inFlightMax undecided plus deciding transactions at once; begin is refused beyond it
 * @param participantsPerTxMax enlist is refused beyond it
 * @param txTimeoutMaxMillis the largest timeout a client may ask for at begin
 * @param prepareTimeoutMillis how long phase 1 may wait for all votes before deciding ABORT
 * @param retry backoff for re-sent prepares, phase-2 messages and failed log appends
 * @param retentionMillis how long an ended transaction's decision is kept for status queries
 * @param rememberedMax ended transactions kept at most; the oldest are forgotten first
 * @param clockSkewMaxMillis ids created further in the future than this are refused as unknown
 * @param onePhaseCommit whether a single participant decides itself (one-phase commit)
 * @param unsafeSendBeforeDurable TEST ONLY: breaks persist-before-send so tests can prove that the
 *     simulator catches it. Never set in production.
 */
public record CoordinatorConfig(
    int inFlightMax,
    int participantsPerTxMax,
    long txTimeoutMaxMillis,
    long prepareTimeoutMillis,
    Backoff retry,
    long retentionMillis,
    int rememberedMax,
    long clockSkewMaxMillis,
    boolean onePhaseCommit,
    boolean unsafeSendBeforeDurable) {

  public CoordinatorConfig {
    require(inFlightMax > 0, "inFlightMax must be > 0");
    require(participantsPerTxMax > 0, "participantsPerTxMax must be > 0");
    require(txTimeoutMaxMillis > 0, "txTimeoutMaxMillis must be > 0");
    require(prepareTimeoutMillis > 0, "prepareTimeoutMillis must be > 0");
    require(retry != null, "retry backoff is required");
    require(retentionMillis >= 0, "retentionMillis must be >= 0");
    require(rememberedMax > 0, "rememberedMax must be > 0");
    require(clockSkewMaxMillis >= 0, "clockSkewMaxMillis must be >= 0");
  }

  public static CoordinatorConfig defaults() {
    return new CoordinatorConfig(
        10_000,
        64,
        600_000,
        10_000,
        new Backoff(50, 5_000),
        600_000,
        100_000,
        TxId.CLOCK_SKEW_MAX_MILLIS,
        true,
        false);
  }

  public CoordinatorConfig withOnePhaseCommit(boolean enabled) {
    Copy c = new Copy(this);
    c.onePhaseCommit = enabled;
    return c.build();
  }

  public CoordinatorConfig withUnsafeSendBeforeDurable(boolean unsafe) {
    Copy c = new Copy(this);
    c.unsafeSendBeforeDurable = unsafe;
    return c.build();
  }

  public CoordinatorConfig withTimings(
      long prepareTimeoutMillis, Backoff retry, long retentionMillis) {
    Copy c = new Copy(this);
    c.prepareTimeoutMillis = prepareTimeoutMillis;
    c.retry = retry;
    c.retentionMillis = retentionMillis;
    return c.build();
  }

  public CoordinatorConfig withLimits(int inFlightMax, int participantsPerTxMax) {
    Copy c = new Copy(this);
    c.inFlightMax = inFlightMax;
    c.participantsPerTxMax = participantsPerTxMax;
    return c.build();
  }

  /** A mutable copy, so each {@code with...} changes its fields and nothing else. */
  private static final class Copy {
    int inFlightMax;
    int participantsPerTxMax;
    long txTimeoutMaxMillis;
    long prepareTimeoutMillis;
    Backoff retry;
    long retentionMillis;
    int rememberedMax;
    long clockSkewMaxMillis;
    boolean onePhaseCommit;
    boolean unsafeSendBeforeDurable;

    Copy(CoordinatorConfig c) {
      inFlightMax = c.inFlightMax;
      participantsPerTxMax = c.participantsPerTxMax;
      txTimeoutMaxMillis = c.txTimeoutMaxMillis;
      prepareTimeoutMillis = c.prepareTimeoutMillis;
      retry = c.retry;
      retentionMillis = c.retentionMillis;
      rememberedMax = c.rememberedMax;
      clockSkewMaxMillis = c.clockSkewMaxMillis;
      onePhaseCommit = c.onePhaseCommit;
      unsafeSendBeforeDurable = c.unsafeSendBeforeDurable;
    }

    CoordinatorConfig build() {
      return new CoordinatorConfig(
          inFlightMax,
          participantsPerTxMax,
          txTimeoutMaxMillis,
          prepareTimeoutMillis,
          retry,
          retentionMillis,
          rememberedMax,
          clockSkewMaxMillis,
          onePhaseCommit,
          unsafeSendBeforeDurable);
    }
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException("coordinator config: " + message);
    }
  }
}
