package io.decree.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChronicleWalRecoveryTest {
  @TempDir Path tmp;

  private WalConfig.Builder config() {
    return WalConfig.builder().directory(tmp.resolve("wal")).maxRecordBytes(4096);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> replayStrings(WriteAheadLog wal) {
    List<String> out = new ArrayList<>();
    wal.replay(r -> out.add(new String(r.payload(), StandardCharsets.UTF_8)));
    return out;
  }

  /** Writes raw documents behind the WAL's back, as a torn write would leave them. */
  private void writeRawDocuments(byte[]... documents) {
    try (SingleChronicleQueue q =
            SingleChronicleQueueBuilder.binary(tmp.resolve("wal"))
                .rollCycle(RollCycles.FAST_HOURLY)
                .build();
        ExcerptAppender appender = q.createAppender()) {
      for (byte[] doc : documents) {
        try (DocumentContext dc = appender.writingDocument()) {
          dc.wire().bytes().write(doc);
        }
      }
    }
  }

  @Test
  void aTornTailIsCutAndStaysCutAcrossReopens() {
    long lastGood;
    try (ChronicleWal wal = ChronicleWal.open(config().build())) {
      for (int i = 0; i < 5; i++) {
        wal.append(0, bytes("good-" + i)).join();
      }
      lastGood = wal.durablePosition();
    }
    byte[] frame = RecordCodec.encode(0, lastGood, bytes("torn-record"));
    // A torn frame, then a whole one written after it but never synced (page reordering).
    writeRawDocuments(
        Arrays.copyOf(frame, frame.length - 3), RecordCodec.encode(0, lastGood, bytes("unsynced")));
    try (ChronicleWal wal = ChronicleWal.open(config().build())) {
      assertThat(replayStrings(wal))
          .containsExactly("good-0", "good-1", "good-2", "good-3", "good-4");
      wal.append(0, bytes("after-cut")).join();
    }
    try (ChronicleWal wal = ChronicleWal.open(config().build())) {
      assertThat(replayStrings(wal)).hasSize(6).endsWith("after-cut");
    }
  }

  @Test
  void aBadRecordBeforeTheTailRefusesToOpenNamingFileAndPosition() throws IOException {
    Path file;
    try (ChronicleWal wal = ChronicleWal.open(config().build())) {
      for (int i = 0; i < 20; i++) {
        wal.append(0, bytes("record-" + i + "-MARKER")).join(); // one sync per record
      }
      file = wal.files().get(0);
    }
    byte[] content = Files.readAllBytes(file);
    int at = indexOf(content, bytes("record-7-MARKER"));
    assertThat(at).isPositive();
    content[at] ^= 0x20;
    Files.write(file, content);
    assertThatThrownBy(() -> ChronicleWal.open(config().build()))
        .isInstanceOf(WalCorruptedException.class)
        .hasMessageContaining(file.getFileName().toString())
        .hasMessageContaining("position")
        .hasMessageContaining("crc32c");
    // The refusal released everything: the lock can be taken again.
    content[at] ^= 0x20;
    Files.write(file, content);
    try (ChronicleWal wal = ChronicleWal.open(config().build())) {
      assertThat(replayStrings(wal)).hasSize(20);
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void appendsFailBeforeTheDiskIsFullAndRecoverWhenSpaceReturns() {
    long reserve = 64L << 20;
    AtomicLong usable = new AtomicLong(reserve * 4);
    try (ChronicleWal wal =
        ChronicleWal.open(
            config().diskReserveBytes(reserve).usableSpaceProbe(dir -> usable.get()).build())) {
      wal.append(0, bytes("fits")).join();
      usable.set(reserve + 10);
      assertThatThrownBy(() -> wal.append(0, bytes("too much")).join())
          .isInstanceOf(CompletionException.class)
          .cause()
          .isInstanceOf(WalDiskFullException.class)
          .hasMessageContaining("reserve");
      usable.set(reserve * 4);
      wal.append(0, bytes("fits again")).join();
      assertThat(replayStrings(wal)).containsExactly("fits", "fits again");
    }
  }

  @Test
  void aFailedSyncFailsThePendingRecordsAndEveryLaterAppend() {
    AtomicBoolean failSync = new AtomicBoolean();
    try (ChronicleWal wal =
        ChronicleWal.open(
            config()
                .beforeSync(
                    () -> {
                      if (failSync.get()) {
                        throw new IOException("EIO (simulated)");
                      }
                    })
                .build())) {
      wal.append(0, bytes("ok")).join();
      failSync.set(true);
      assertThatThrownBy(() -> wal.append(0, bytes("lost")).join())
          .cause()
          .isInstanceOf(WalSyncException.class)
          .hasMessageContaining("EIO (simulated)");
      failSync.set(false);
      assertThatThrownBy(() -> wal.append(0, bytes("after")).join())
          .cause()
          .isInstanceOf(WalSyncException.class);
      assertThat(replayStrings(wal)).containsExactly("ok");
    }
  }

  @Test
  void aFullQueueBlocksTheAppender() throws Exception {
    CountDownLatch syncMayProceed = new CountDownLatch(1);
    try (ChronicleWal wal =
        ChronicleWal.open(
            config()
                .queueCapacity(2)
                .maxBatch(1)
                .beforeSync(
                    () -> {
                      try {
                        syncMayProceed.await(30, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    })
                .build())) {
      List<CompletableFuture<Long>> futures = new ArrayList<>();
      Thread appender =
          new Thread(
              () -> {
                for (int i = 0; i < 5; i++) {
                  futures.add(wal.append(0, bytes("r" + i)));
                }
              });
      appender.start();
      // One record is in the (stalled) sync, two fill the queue: the appender must block.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (appender.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(appender.getState()).isEqualTo(Thread.State.TIMED_WAITING);
      assertThat(appender.isAlive()).isTrue();
      syncMayProceed.countDown();
      appender.join(30_000);
      assertThat(appender.isAlive()).isFalse();
      futures.forEach(CompletableFuture::join);
      assertThat(replayStrings(wal)).containsExactly("r0", "r1", "r2", "r3", "r4");
    }
  }

  @Test
  void aBatchThatSpansAFileRollSyncsBothFiles() throws Exception {
    AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    CountDownLatch firstSyncMayProceed = new CountDownLatch(1);
    AtomicBoolean firstSync = new AtomicBoolean(true);
    AtomicBoolean rollInNextRecord = new AtomicBoolean(false);
    WalConfig cfg =
        config()
            .rollPeriod(WalConfig.RollPeriod.SECONDLY)
            .clockMillis(clock::get)
            .beforeSync(
                () -> {
                  if (firstSync.getAndSet(false)) {
                    try {
                      firstSyncMayProceed.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                })
            .midRecordWrite(
                () -> {
                  // The record being written stays in this second's file; the next one rolls.
                  if (rollInNextRecord.getAndSet(false)) {
                    clock.addAndGet(1_000);
                  }
                })
            .build();
    try (ChronicleWal wal = ChronicleWal.open(cfg)) {
      CompletableFuture<Long> stalled = wal.append(0, bytes("first"));
      // While the first batch waits in its sync, queue two records: they form the next batch.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (wal.stats().batches() == 0 && firstSync.get() && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      CompletableFuture<Long> before = wal.append(0, bytes("before-roll"));
      CompletableFuture<Long> after = wal.append(0, bytes("after-roll"));
      rollInNextRecord.set(true);
      firstSyncMayProceed.countDown();
      stalled.join();
      before.join();
      after.join();
      assertThat(wal.files()).hasSize(2);
      wal.append(0, bytes("still writing")).join();
    }
    try (ChronicleWal wal = ChronicleWal.open(cfg)) {
      assertThat(replayStrings(wal))
          .containsExactly("first", "before-roll", "after-roll", "still writing");
    }
  }

  @Test
  void retentionDeletesOnlyWholeFilesBelowTheRetainedPosition() {
    AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    WalConfig cfg =
        config().rollPeriod(WalConfig.RollPeriod.SECONDLY).clockMillis(clock::get).build();
    List<List<Long>> perFile = new ArrayList<>();
    try (ChronicleWal wal = ChronicleWal.open(cfg)) {
      for (int file = 0; file < 4; file++) {
        List<Long> positions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          positions.add(wal.append(0, bytes("f" + file + "r" + i)).join());
        }
        perFile.add(positions);
        clock.addAndGet(1_000);
      }
      assertThat(wal.files()).hasSize(4);
      List<Path> files = wal.files();
      // A position in the middle of file 2 keeps files 2 and 3 whole.
      wal.retainFrom(perFile.get(2).get(1));
      assertThat(wal.files()).containsExactly(files.get(2), files.get(3));
      assertThat(files.get(0)).doesNotExist();
      assertThat(files.get(1)).doesNotExist();
      assertThat(replayStrings(wal))
          .containsExactly("f2r0", "f2r1", "f2r2", "f3r0", "f3r1", "f3r2");
      // Retaining beyond the end never deletes the file being written.
      wal.retainFrom(Long.MAX_VALUE);
      assertThat(wal.files()).containsExactly(files.get(3));
      wal.append(0, bytes("later")).join();
    }
    try (ChronicleWal wal = ChronicleWal.open(cfg)) {
      assertThat(replayStrings(wal)).containsExactly("f3r0", "f3r1", "f3r2", "later");
    }
  }

  @Test
  void aSecondOpenInTheSameProcessIsRefused() {
    try (ChronicleWal wal = ChronicleWal.open(config().build())) {
      assertThatThrownBy(() -> ChronicleWal.open(config().build()))
          .isInstanceOf(WalLockedException.class)
          .hasMessageContaining("pid=" + ProcessHandle.current().pid());
      wal.append(0, bytes("still works")).join();
    }
  }

  @Test
  void configValidationNamesTheField() {
    assertThatThrownBy(() -> WalConfig.builder().build().validate())
        .hasMessageContaining("directory");
    assertThatThrownBy(() -> config().queueCapacity(0).build().validate())
        .hasMessageContaining("queueCapacity");
    assertThatThrownBy(() -> config().maxBatch(10_000).build().validate())
        .hasMessageContaining("maxBatch");
    assertThatThrownBy(() -> config().diskReserveBytes(1).build().validate())
        .hasMessageContaining("diskReserveBytes");
  }
}
