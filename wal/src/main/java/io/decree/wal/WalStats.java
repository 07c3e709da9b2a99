package io.decree.wal;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of {@link ChronicleWal}'s write path since open: how many records each sync covered and
 * where the writer's time went. Always on: they cost a few {@code nanoTime} calls and adds per
 * batch, against a sync of a hundred microseconds or more.
 *
 * @param batches syncs done
 * @param records records those syncs covered
 * @param writeNanos writer time encoding, writing and validating records in Chronicle
 * @param syncNanos writer time in {@code FileChannel.force}
 * @param completeNanos writer time completing futures (waking their waiters)
 * @param batchSizeLog2 {@code batchSizeLog2[k]} counts syncs that covered {@code [2^k, 2^(k+1))}
 *     records (lazy records written by earlier batches included)
 * @param validationsSkipped records not read back after writing because they began in a mapped
 *     chunk Chronicle had already moved past (their CRC is still checked on every read)
 */
public record WalStats(
    long batches,
    long records,
    long writeNanos,
    long syncNanos,
    long completeNanos,
    long[] batchSizeLog2,
    long validationsSkipped) {

  public double meanBatch() {
    return batches == 0 ? 0 : (double) records / batches;
  }

  /** The difference {@code this - earlier}, for measuring an interval. */
  public WalStats minus(WalStats earlier) {
    long[] sizes = batchSizeLog2.clone();
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] -= earlier.batchSizeLog2[i];
    }
    return new WalStats(
        batches - earlier.batches,
        records - earlier.records,
        writeNanos - earlier.writeNanos,
        syncNanos - earlier.syncNanos,
        completeNanos - earlier.completeNanos,
        sizes,
        validationsSkipped - earlier.validationsSkipped);
  }

  @Override
  public String toString() {
    long b = Math.max(1, batches);
    StringBuilder sizes = new StringBuilder();
    for (int k = 0; k < batchSizeLog2.length; k++) {
      if (batchSizeLog2[k] > 0) {
        sizes.append(sizes.length() == 0 ? "" : " ").append(1 << k).append("+:");
        sizes.append(batchSizeLog2[k]);
      }
    }
    return String.format(
        "%,d syncs, %.1f records/sync; per sync: write %,d us, force %,d us, complete %,d us;"
            + " batch sizes {%s}",
        batches,
        meanBatch(),
        writeNanos / b / 1000,
        syncNanos / b / 1000,
        completeNanos / b / 1000,
        sizes);
  }

  /**
   * Syncs and records of every {@link ChronicleWal} this process has opened, summed: how many syncs
   * an end-to-end transaction costs when one JVM hosts several logs (the bench does).
   */
  public record ProcessTotals(long syncs, long records) {
    public ProcessTotals minus(ProcessTotals earlier) {
      return new ProcessTotals(syncs - earlier.syncs, records - earlier.records);
    }
  }

  private static final LongAdder processSyncs = new LongAdder();
  private static final LongAdder processRecords = new LongAdder();

  public static ProcessTotals processTotals() {
    return new ProcessTotals(processSyncs.sum(), processRecords.sum());
  }

  /** The live counters, written by the writer thread; readers take a snapshot. */
  static final class Counters {
    private static final int BUCKETS = 32;
    private final LongAdder batches = new LongAdder();
    private final LongAdder records = new LongAdder();
    private final LongAdder writeNanos = new LongAdder();
    private final LongAdder syncNanos = new LongAdder();
    private final LongAdder completeNanos = new LongAdder();
    private final LongAdder[] sizes = new LongAdder[BUCKETS];
    private final LongAdder validationsSkipped = new LongAdder();

    Counters() {
      for (int i = 0; i < BUCKETS; i++) {
        sizes[i] = new LongAdder();
      }
    }

    void batchDone(int batchRecords, long writeNanos, long syncNanos, long completeNanos) {
      batches.increment();
      records.add(batchRecords);
      processSyncs.increment();
      processRecords.add(batchRecords);
      this.writeNanos.add(writeNanos);
      this.syncNanos.add(syncNanos);
      this.completeNanos.add(completeNanos);
      sizes[31 - Integer.numberOfLeadingZeros(Math.max(1, batchRecords))].increment();
    }

    void validationSkipped() {
      validationsSkipped.increment();
    }

    WalStats snapshot() {
      long[] s = new long[BUCKETS];
      for (int i = 0; i < BUCKETS; i++) {
        s[i] = sizes[i].sum();
      }
      return new WalStats(
          batches.sum(),
          records.sum(),
          writeNanos.sum(),
          syncNanos.sum(),
          completeNanos.sum(),
          s,
          validationsSkipped.sum());
    }
  }
}
