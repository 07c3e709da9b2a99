package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.wal.InMemoryWal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class KvCheckpointTest {

  @Test
  void checkpointsCutTheLogAndKeepDataAndAppliedTxIds() throws Exception {
    KvConfig config = KvConfig.builder().checkpointEveryCommits(5).build();
    try (KvHarness h = KvHarness.open(config)) {
      byte[] first = h.commit("t0", Map.of("k0", 0L));
      for (int i = 1; i < 23; i++) {
        h.commit("t" + i, Map.of("k" + (i % 10), (long) i));
      }
      SortedMap<String, Long> expected = h.store.readCommittedAll();

      // 23 commits, a snapshot (one chunk) after every 5th: the last one came after commit 20.
      assertThat(h.wal.durableCount()).isEqualTo(1 + 3);

      h.restart();
      h.rm.recover(List.of());
      assertThat(h.store.readCommittedAll()).isEqualTo(expected);
      h.rm.commit("t0", first);
      assertThat(h.store.readCommittedAll()).isEqualTo(expected);
    }
  }

  @Test
  void aSnapshotLargerThanOneRecordIsWrittenInChunks() throws Exception {
    KvConfig config =
        KvConfig.builder()
            .walRecordBytesMax(512)
            .keysPerBranchMax(4)
            .keyBytesMax(32)
            .txIdBytesMax(32)
            .checkpointEveryCommits(1_000_000)
            .build();
    try (KvHarness h = KvHarness.open(config, new InMemoryWal(InMemoryWal.SyncMode.AUTO, 512))) {
      for (int i = 0; i < 100; i++) {
        h.commit(
            "t" + i,
            Map.of(
                "key-" + i, (long) i, "key-" + (i + 100), (long) -i, "key-" + (i + 200), 2L * i));
      }
      SortedMap<String, Long> expected = h.store.readCommittedAll();

      h.store.checkpoint();

      assertThat(h.wal.durableCount()).isGreaterThan(5);
      h.restart();
      h.rm.recover(List.of());
      assertThat(h.store.readCommittedAll()).isEqualTo(expected).hasSize(300);
    }
  }

  @Test
  void anIncompleteSnapshotIsIgnoredOnReplay() throws Exception {
    InMemoryWal wal = new InMemoryWal();
    wal.append(KvCodec.TYPE_COMMIT, KvCodec.encodeWriteSet("t1", sorted(Map.of("a", 1L)))).join();
    // A snapshot torn by a crash: two of its three chunks, claiming a state that never was.
    byte[] bogus = KvCodec.encodeState(Map.of("a", 999L, "z", 999L), List.of());
    List<byte[]> chunks = KvCodec.encodeSnapshotChunks(7, concat(bogus, bogus, bogus), 40);
    assertThat(chunks.size()).isGreaterThan(2);
    wal.append(KvCodec.TYPE_SNAPSHOT_CHUNK, chunks.get(0)).join();
    wal.append(KvCodec.TYPE_SNAPSHOT_CHUNK, chunks.get(1)).join();
    wal.append(KvCodec.TYPE_COMMIT, KvCodec.encodeWriteSet("t2", sorted(Map.of("b", 2L)))).join();
    // And a lone later chunk whose start is missing.
    wal.append(KvCodec.TYPE_SNAPSHOT_CHUNK, chunks.get(2)).join();

    try (KvHarness h = KvHarness.open(KvConfig.defaults(), wal)) {
      assertThat(h.store.readCommittedAll()).isEqualTo(Map.of("a", 1L, "b", 2L));
      h.store.checkpoint(); // the next snapshot gets a fresh sequence number and is used
      h.restart();
      assertThat(h.store.readCommittedAll()).isEqualTo(Map.of("a", 1L, "b", 2L));
    }
  }

  @Test
  void aCrashBeforeTheSnapshotIsSyncedLosesNothing() throws Exception {
    KvConfig config = KvConfig.builder().walSyncTimeoutMillis(20).build();
    InMemoryWal wal = new InMemoryWal();
    try (KvHarness h = KvHarness.open(config, wal)) {
      for (int i = 0; i < 10; i++) {
        h.commit("t" + i, Map.of("k" + i, (long) i));
      }
      Map<String, Long> expected = new HashMap<>(h.store.readCommittedAll());
      wal.syncMode(InMemoryWal.SyncMode.MANUAL);

      org.assertj.core.api.Assertions.assertThatThrownBy(h.store::checkpoint)
          .isInstanceOf(KvDurabilityException.class);
      h.crash();

      assertThat(h.store.readCommittedAll()).isEqualTo(expected);
    }
  }

  static SortedMap<String, Long> sorted(Map<String, Long> m) {
    return new TreeMap<>(m);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] all = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }
}
