package io.decree.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link WriteAheadLog} promises; run against the real WAL and the fake. Reused by other
 * modules through the test-jar.
 */
public abstract class WriteAheadLogContract {
  protected static final int MAX_RECORD_BYTES = 64 * 1024;

  private final List<WriteAheadLog> opened = new ArrayList<>();

  /** Opens a fresh, empty WAL allowing payloads up to {@link #MAX_RECORD_BYTES}. */
  protected abstract WriteAheadLog openFresh();

  /** Opens the same log again; {@code previous} has been closed. */
  protected abstract WriteAheadLog reopen(WriteAheadLog previous);

  protected final WriteAheadLog track(WriteAheadLog wal) {
    opened.add(wal);
    return wal;
  }

  @AfterEach
  void closeAll() {
    opened.forEach(WriteAheadLog::close);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<WalRecord> replayAll(WriteAheadLog wal, long from) {
    List<WalRecord> out = new ArrayList<>();
    wal.replay(from, out::add);
    return out;
  }

  private static long join(CompletableFuture<Long> f) {
    return f.orTimeout(30, TimeUnit.SECONDS).join();
  }

  @Test
  void appendsGetIncreasingPositionsAndReplayInOrder() {
    WriteAheadLog wal = track(openFresh());
    List<Long> positions = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      positions.add(join(wal.append(i % 3, bytes("record-" + i))));
    }
    assertThat(positions).isSorted().doesNotHaveDuplicates();
    List<WalRecord> replayed = new ArrayList<>();
    wal.replay(replayed::add);
    assertThat(replayed).hasSize(50);
    for (int i = 0; i < 50; i++) {
      assertThat(replayed.get(i).position()).isEqualTo(positions.get(i));
      assertThat(replayed.get(i).type()).isEqualTo(i % 3);
      assertThat(new String(replayed.get(i).payload(), StandardCharsets.UTF_8))
          .isEqualTo("record-" + i);
    }
  }

  @Test
  void emptyAndMaximumPayloadsRoundTrip() {
    WriteAheadLog wal = track(openFresh());
    join(wal.append(1, new byte[0]));
    byte[] big = new byte[MAX_RECORD_BYTES];
    big[big.length - 1] = 7;
    join(wal.append(2, big));
    List<WalRecord> replayed = replayAll(wal, 0);
    assertThat(replayed).extracting(r -> r.payload().length).containsExactly(0, MAX_RECORD_BYTES);
    assertThat(replayed.get(1).payload()).isEqualTo(big);
  }

  @Test
  void replayFromAPositionStartsThere() {
    WriteAheadLog wal = track(openFresh());
    List<Long> positions = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      positions.add(join(wal.append(0, bytes("r" + i))));
    }
    assertThat(replayAll(wal, positions.get(7)))
        .extracting(WalRecord::position)
        .containsExactlyElementsOf(positions.subList(7, 20));
    assertThat(replayAll(wal, positions.get(19) + 1)).isEmpty();
  }

  @Test
  void reopenKeepsEveryAcknowledgedRecordAndKeepsPositionsIncreasing() {
    WriteAheadLog wal = openFresh();
    List<Long> positions = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      positions.add(join(wal.append(0, bytes("before-" + i))));
    }
    wal.close();
    WriteAheadLog again = track(reopen(wal));
    assertThat(replayAll(again, 0))
        .extracting(WalRecord::position)
        .containsExactlyElementsOf(positions);
    long next = join(again.append(0, bytes("after")));
    assertThat(next).isGreaterThan(positions.get(9));
    assertThat(replayAll(again, next)).hasSize(1);
  }

  @Test
  void retentionNeverDropsARecordAtOrAfterTheRetainedPosition() {
    WriteAheadLog wal = track(openFresh());
    List<Long> positions = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      positions.add(join(wal.append(0, bytes("r" + i))));
    }
    wal.retainFrom(positions.get(12));
    assertThat(replayAll(wal, 0))
        .extracting(WalRecord::position)
        .containsSubsequence(positions.subList(12, 30))
        .endsWith(positions.get(29));
    assertThat(replayAll(wal, positions.get(12)))
        .extracting(WalRecord::position)
        .containsExactlyElementsOf(positions.subList(12, 30));
  }

  @Test
  void oversizeNullAndReservedTypesAreRejectedAtOnce() {
    WriteAheadLog wal = track(openFresh());
    assertThatThrownBy(() -> wal.append(0, new byte[MAX_RECORD_BYTES + 1]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRecordBytes");
    assertThatThrownBy(() -> wal.append(0, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> wal.append(-1, new byte[1]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(replayAll(wal, 0)).isEmpty();
  }

  @Test
  void aClosedWalRefusesWork() {
    WriteAheadLog wal = openFresh();
    join(wal.append(0, bytes("x")));
    wal.close();
    wal.close(); // idempotent
    assertThatThrownBy(() -> join(wal.append(0, bytes("y"))))
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(WalClosedException.class);
    assertThatThrownBy(() -> wal.replay(r -> {})).isInstanceOf(WalClosedException.class);
    assertThatThrownBy(() -> wal.retainFrom(1)).isInstanceOf(WalClosedException.class);
  }

  @Test
  void manyConcurrentAppendersAllBecomeDurableInOnePerThreadOrder() throws Exception {
    WriteAheadLog wal = track(openFresh());
    int threads = 8;
    int perThread = 300;
    ConcurrentLinkedQueue<long[]> acks = new ConcurrentLinkedQueue<>(); // {thread, seq, pos}
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread w =
          new Thread(
              () -> {
                List<CompletableFuture<Long>> futures = new ArrayList<>();
                for (int s = 0; s < perThread; s++) {
                  futures.add(wal.append(thread, bytes(thread + ":" + s)));
                }
                for (int s = 0; s < perThread; s++) {
                  acks.add(new long[] {thread, s, join(futures.get(s))});
                }
              });
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join(60_000);
      assertThat(w.isAlive()).isFalse();
    }
    assertThat(acks).hasSize(threads * perThread);
    List<WalRecord> replayed = replayAll(wal, 0);
    assertThat(replayed).hasSize(threads * perThread);
    assertThat(replayed).extracting(WalRecord::position).isSorted().doesNotHaveDuplicates();
    int[] nextSeq = new int[threads];
    for (WalRecord r : replayed) {
      String[] parts = new String(r.payload(), StandardCharsets.UTF_8).split(":");
      int thread = Integer.parseInt(parts[0]);
      assertThat(r.type()).isEqualTo(thread);
      assertThat(Integer.parseInt(parts[1])).isEqualTo(nextSeq[thread]++);
    }
  }
}
