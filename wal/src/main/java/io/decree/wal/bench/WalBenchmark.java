package io.decree.wal.bench;

import io.decree.wal.ChronicleWal;
import io.decree.wal.WalConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Measures the WAL against raw {@code FileChannel.force} on the same disk in the same run, and
 * prints ratios. Not a test: it never asserts on time.
 *
 * <pre>
 * java [chronicle flags] -cp ... io.decree.wal.bench.WalBenchmark [--seconds 5]
 *     [--record-bytes 100] [--dir /path/on/the/disk/to/measure]
 * </pre>
 *
 * Phases (each {@code --seconds} long): raw single write+force latency; raw batched force (64
 * records per force) rate; WAL append+sync latency with one closed-loop writer; WAL durable
 * records/s with 1, 8 and 64 closed-loop appenders. The default (5 s) finishes in about 35 s.
 */
public final class WalBenchmark {
  private static final int RAW_BATCH = 64;

  private WalBenchmark() {}

  public static void main(String[] args) throws Exception {
    long seconds = 5;
    int recordBytes = 100;
    Path dir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Long.parseLong(args[++i]);
        case "--record-bytes" -> recordBytes = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        default -> {
          System.err.println(
              "usage: WalBenchmark [--seconds N] [--record-bytes N] [--dir PATH]; unknown: "
                  + args[i]);
          System.exit(2);
        }
      }
    }
    Path base =
        dir == null ? Files.createTempDirectory("decree-wal-bench") : Files.createDirectories(dir);
    Path work = Files.createTempDirectory(base, "run");
    long nanos = seconds * 1_000_000_000L;
    try {
      System.out.printf(
          "WAL benchmark: %d s per phase, %d-byte records, dir %s%n", seconds, recordBytes, work);
      Histogram raw = rawForceLatency(work.resolve("raw-single"), recordBytes, nanos);
      double rawBatched = rawBatchedForceRate(work.resolve("raw-batched"), recordBytes, nanos);
      Histogram wal = walLatency(work.resolve("wal-latency"), recordBytes, nanos);
      print("raw write+force      ", raw);
      System.out.printf(
          "raw batched force     %,.0f records/s (%d per force)%n", rawBatched, RAW_BATCH);
      print("wal append+sync (1)  ", wal);
      System.out.printf(
          "ratio wal p50 / raw p50 = %.2f  (target <= 1.5)%n",
          (double) wal.getValueAtPercentile(50) / raw.getValueAtPercentile(50));
      for (int appenders : new int[] {1, 8, 64}) {
        double rate =
            walThroughput(work.resolve("wal-" + appenders), recordBytes, nanos, appenders);
        System.out.printf(
            "wal %2d appenders      %,.0f durable records/s  = %.2fx raw batched%n",
            appenders, rate, rate / rawBatched);
      }
    } finally {
      deleteRecursively(work);
    }
  }

  private static void print(String label, Histogram h) {
    System.out.printf(
        "%s p50 %,d us  p99 %,d us  max %,d us  (n=%,d)%n",
        label,
        h.getValueAtPercentile(50) / 1000,
        h.getValueAtPercentile(99) / 1000,
        h.getMaxValue() / 1000,
        h.getTotalCount());
  }

  private static Histogram rawForceLatency(Path file, int recordBytes, long nanos)
      throws IOException {
    Histogram h = new Histogram(3);
    ByteBuffer record = ByteBuffer.allocate(recordBytes);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long end = System.nanoTime() + nanos;
      while (System.nanoTime() < end) {
        long start = System.nanoTime();
        record.clear();
        ch.write(record);
        ch.force(false);
        h.recordValue(System.nanoTime() - start);
      }
    }
    return h;
  }

  private static double rawBatchedForceRate(Path file, int recordBytes, long nanos)
      throws IOException {
    ByteBuffer batch = ByteBuffer.allocate(recordBytes * RAW_BATCH);
    long records = 0;
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long start = System.nanoTime();
      long end = start + nanos;
      while (System.nanoTime() < end) {
        batch.clear();
        ch.write(batch);
        ch.force(false);
        records += RAW_BATCH;
      }
      return records * 1e9 / (System.nanoTime() - start);
    }
  }

  private static ChronicleWal open(Path dir, int recordBytes) {
    return ChronicleWal.open(
        WalConfig.builder().directory(dir).maxRecordBytes(Math.max(recordBytes, 1024)).build());
  }

  private static Histogram walLatency(Path dir, int recordBytes, long nanos) {
    Histogram h = new Histogram(3);
    byte[] payload = new byte[recordBytes];
    try (ChronicleWal wal = open(dir, recordBytes)) {
      long end = System.nanoTime() + nanos;
      while (System.nanoTime() < end) {
        long start = System.nanoTime();
        wal.append(1, payload).join();
        h.recordValue(System.nanoTime() - start);
      }
    }
    return h;
  }

  private static double walThroughput(Path dir, int recordBytes, long nanos, int appenders)
      throws InterruptedException {
    byte[] payload = new byte[recordBytes];
    LongAdder durable = new LongAdder();
    try (ChronicleWal wal = open(dir, recordBytes)) {
      long start = System.nanoTime();
      long end = start + nanos;
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < appenders; i++) {
        Thread t =
            new Thread(
                () -> {
                  while (System.nanoTime() < end) {
                    wal.append(1, payload).join();
                    durable.increment();
                  }
                });
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join();
      }
      return durable.sum() * 1e9 / (System.nanoTime() - start);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
