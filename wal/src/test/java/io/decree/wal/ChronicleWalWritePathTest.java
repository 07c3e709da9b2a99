package io.decree.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit under concurrency: futures complete in position order and only after their batch's
 * sync, and a failed sync fails its batch and everything after it but nothing synced before it.
 */
class ChronicleWalWritePathTest {
  @TempDir Path tmp;

  /**
   * Chronicle maps a cycle file in chunks ({@code WalConfig.CHRONICLE_BLOCK_BYTES}); a record can
   * start in one and end in the next. Writing and validating such records must neither fail nor
   * touch memory Chronicle already unmapped (an earlier read-back did, and crashed the JVM with
   * SIGSEGV after some 50 MB), and every record must replay intact.
   */
  @Test
  void recordsAcrossManyMappedChunksAreWrittenAndReplayIntact() throws Exception {
    WalConfig config =
        WalConfig.builder().directory(tmp.resolve("wal")).maxRecordBytes(8192).build();
    int records = 24_000;
    java.util.Random random = new java.util.Random(42);
    int[] sizes = new int[records];
    long total = 0;
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      List<CompletableFuture<Long>> window = new ArrayList<>();
      for (int i = 0; i < records; i++) {
        sizes[i] = 1 + random.nextInt(6_000);
        total += sizes[i];
        byte[] payload = new byte[sizes[i]];
        java.util.Arrays.fill(payload, (byte) i);
        window.add(wal.append(1, payload));
        if (window.size() == 64) {
          window.forEach(f -> f.orTimeout(30, TimeUnit.SECONDS).join());
          window.clear();
        }
      }
      window.forEach(f -> f.orTimeout(30, TimeUnit.SECONDS).join());
      // Some record did start in a chunk Chronicle had left: the case this test is about.
      assertThat(wal.stats().validationsSkipped()).isPositive();
    }
    assertThat(total).isGreaterThan(4 * WalConfig.CHRONICLE_BLOCK_BYTES);

    AtomicInteger replayed = new AtomicInteger();
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      wal.replay(
          r -> {
            int i = replayed.getAndIncrement();
            assertThat(r.payload()).hasSize(sizes[i]);
            assertThat(r.payload()[r.payload().length - 1]).isEqualTo((byte) i);
          });
    }
    assertThat(replayed.get()).isEqualTo(records);
  }

  @Test
  void futuresCompleteInPositionOrderAndOnlyAfterTheirSync() throws Exception {
    AtomicLong syncs = new AtomicLong();
    WalConfig config =
        WalConfig.builder()
            .directory(tmp.resolve("wal"))
            .maxRecordBytes(1024)
            .beforeSync(syncs::incrementAndGet)
            .build();
    int threads = 16;
    int perThread = 200;
    List<Long> completionOrder = new ArrayList<>();
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      List<Thread> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Thread w =
            new Thread(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    long syncsBefore = syncs.get();
                    CompletableFuture<Long> f = wal.append(1, new byte[100]);
                    // A callback registered after its future completed runs on this thread
                    // instead; only those run by the WAL's writer show completion order.
                    f.whenComplete(
                        (position, error) -> {
                          if (Thread.currentThread().getName().startsWith("decree-wal-")) {
                            synchronized (completionOrder) {
                              completionOrder.add(error == null ? position : -1);
                            }
                          }
                        });
                    long position = f.orTimeout(30, TimeUnit.SECONDS).join();
                    // Its batch was synced after it was queued, and it is durable now.
                    assertThat(syncs.get()).isGreaterThan(syncsBefore);
                    assertThat(wal.durablePosition()).isGreaterThanOrEqualTo(position);
                  }
                });
        workers.add(w);
        w.start();
      }
      for (Thread w : workers) {
        w.join(60_000);
        assertThat(w.isAlive()).isFalse();
      }
      // The writer counts a batch after completing its futures (it times the completion).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (wal.stats().records() < (long) threads * perThread && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertThat(wal.stats().records()).isEqualTo((long) threads * perThread);
    }
    synchronized (completionOrder) {
      assertThat(completionOrder).isNotEmpty().isSorted().doesNotHaveDuplicates();
    }
  }

  @Test
  void aFailedSyncFailsItsBatchButNotTheBatchesSyncedBeforeIt() throws Exception {
    AtomicInteger syncsLeft = new AtomicInteger(Integer.MAX_VALUE);
    WalConfig config =
        WalConfig.builder()
            .directory(tmp.resolve("wal"))
            .maxRecordBytes(1024)
            .maxBatch(4)
            .beforeSync(failingOnceSpent(syncsLeft))
            .build();
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      syncsLeft.set(5);
      List<CompletableFuture<Long>> futures = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        futures.add(wal.append(1, new byte[100]));
      }
      int ok = 0;
      boolean failedSeen = false;
      for (CompletableFuture<Long> f : futures) {
        try {
          long position = f.orTimeout(30, TimeUnit.SECONDS).join();
          // Once one record failed, every later one failed too: no success after a failure.
          assertThat(failedSeen).isFalse();
          assertThat(position).isLessThanOrEqualTo(wal.durablePosition());
          ok++;
        } catch (CompletionException e) {
          assertThat(e.getCause()).isInstanceOf(WalSyncException.class);
          failedSeen = true;
        }
      }
      assertThat(failedSeen).isTrue();
      assertThat(ok).isLessThanOrEqualTo(5 * 4);
      List<WalRecord> replayed = new ArrayList<>();
      wal.replay(replayed::add);
      assertThat(replayed).hasSize(ok);
    }
  }

  @Test
  void aLazyRecordIsDurableWithTheNextForcedOneAndKeepsItsPlace() {
    WalConfig config =
        WalConfig.builder().directory(tmp.resolve("wal")).maxRecordBytes(1024).build();
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      CompletableFuture<Long> lazy = wal.appendLazily(1, new byte[] {1});
      long forced = wal.append(1, new byte[] {2}).orTimeout(30, TimeUnit.SECONDS).join();
      // The sync that made the forced record durable covered the lazy one written before it.
      assertThat(lazy).isCompleted();
      assertThat(lazy.join()).isLessThan(forced);
      assertThat(wal.durablePosition()).isGreaterThanOrEqualTo(forced);
    }
    assertThat(firstBytesAfterReopen(config)).containsExactly((byte) 1, (byte) 2);
  }

  @Test
  void lazyRecordsAloneAreSyncedOnceTheWriterIsIdleOrClosing() {
    AtomicLong syncs = new AtomicLong();
    WalConfig config =
        WalConfig.builder()
            .directory(tmp.resolve("wal"))
            .maxRecordBytes(1024)
            .beforeSync(syncs::incrementAndGet)
            .build();
    CompletableFuture<Long> atClose;
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      long position = wal.appendLazily(1, new byte[] {1}).orTimeout(30, TimeUnit.SECONDS).join();
      assertThat(wal.durablePosition()).isGreaterThanOrEqualTo(position);
      assertThat(syncs.get()).isEqualTo(1);
      atClose = wal.appendLazily(1, new byte[] {2});
    }
    assertThat(atClose.join()).isPositive();
    assertThat(firstBytesAfterReopen(config)).containsExactly((byte) 1, (byte) 2);
  }

  @Test
  void aFailedSyncFailsTheLazyRecordsWaitingForIt() {
    AtomicInteger syncsLeft = new AtomicInteger(0);
    WalConfig config =
        WalConfig.builder()
            .directory(tmp.resolve("wal"))
            .maxRecordBytes(1024)
            .beforeSync(failingOnceSpent(syncsLeft))
            .build();
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      CompletableFuture<Long> lazy = wal.appendLazily(1, new byte[] {1});
      CompletableFuture<Long> forced = wal.append(1, new byte[] {2});
      for (CompletableFuture<Long> f : List.of(lazy, forced)) {
        assertThat(f.orTimeout(30, TimeUnit.SECONDS))
            .failsWithin(java.time.Duration.ofSeconds(30))
            .withThrowableOfType(java.util.concurrent.ExecutionException.class)
            .withCauseInstanceOf(WalSyncException.class);
      }
    }
  }

  /**
   * A node may run its core in a completion callback, on the writer thread, and the core appends.
   * That append must neither wait for room (only the writer makes room: it would wait forever) nor
   * overtake records queued before it (a checkpoint could then precede a record it does not hold).
   */
  @Test
  void anAppendFromACompletionCallbackNeverWaitsForRoomAndKeepsItsOrder() throws Exception {
    CountDownLatch queueFull = new CountDownLatch(1);
    AtomicInteger syncs = new AtomicInteger();
    WalConfig config =
        WalConfig.builder()
            .directory(tmp.resolve("wal"))
            .maxRecordBytes(1024)
            .queueCapacity(2)
            .maxBatch(1)
            .beforeSync(
                () -> {
                  if (syncs.getAndIncrement() == 0) {
                    try {
                      queueFull.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                })
            .build();
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      CompletableFuture<CompletableFuture<Long>> fromCallback = new CompletableFuture<>();
      wal.append(1, new byte[] {0})
          .whenComplete((position, error) -> fromCallback.complete(wal.append(1, new byte[] {3})));
      // The writer holds record 0 at its first sync; these two fill the queue behind it.
      CompletableFuture<Long> one = wal.append(1, new byte[] {1});
      CompletableFuture<Long> two = wal.append(1, new byte[] {2});
      queueFull.countDown();
      long three =
          fromCallback
              .orTimeout(30, TimeUnit.SECONDS)
              .join()
              .orTimeout(30, TimeUnit.SECONDS)
              .join();
      assertThat(three).isGreaterThan(two.join()).isGreaterThan(one.join());
      // Appends still go through once the callback's record has been written (no room leaked).
      for (int i = 0; i < 3; i++) {
        wal.append(1, new byte[] {4}).orTimeout(30, TimeUnit.SECONDS).join();
      }
    }
    assertThat(firstBytesAfterReopen(config))
        .containsExactly((byte) 0, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 4, (byte) 4);
  }

  /** Reopens the WAL and lists each record's first payload byte, in log order. */
  private static List<Byte> firstBytesAfterReopen(WalConfig config) {
    try (ChronicleWal wal = ChronicleWal.open(config)) {
      List<Byte> replayed = new ArrayList<>();
      wal.replay(r -> replayed.add(r.payload()[0]));
      return replayed;
    }
  }

  /** A sync hook that lets {@code syncsLeft} syncs through, then fails every one with EIO. */
  private static WalConfig.IoHook failingOnceSpent(AtomicInteger syncsLeft) {
    return () -> {
      if (syncsLeft.getAndDecrement() <= 0) {
        throw new IOException("EIO (simulated)");
      }
    };
  }
}
