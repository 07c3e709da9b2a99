package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.participant.spi.ResourceManager.PrepareResult;
import io.decree.wal.ChronicleWal;
import io.decree.wal.WalConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on the real WAL: what was committed is there after the process opens it again. */
class KvChronicleDurabilityTest {
  @TempDir Path tmp;

  private final AtomicLong clockMillis = new AtomicLong(1_700_000_000_000L);

  private ChronicleWal openWal() {
    return ChronicleWal.open(
        WalConfig.builder()
            .directory(tmp.resolve("kv-wal"))
            .maxRecordBytes(64 * 1024)
            .rollPeriod(WalConfig.RollPeriod.SECONDLY)
            .clockMillis(clockMillis::get)
            .build());
  }

  private static KvConfig config() {
    return KvConfig.builder()
        .walRecordBytesMax(64 * 1024)
        .keysPerBranchMax(64)
        .checkpointEveryCommits(1_000_000) // checkpoints only when the test asks
        .build();
  }

  @Test
  void committedDataSurvivesCloseAndReopenAndCommitsStayIdempotent() throws Exception {
    SortedMap<String, Long> expected = new TreeMap<>();
    byte[] first;
    try (ChronicleWal wal = openWal();
        KvStore store = KvStore.open(wal, config())) {
      KvResourceManager rm = new KvResourceManager("kv:a", store);
      rm.recover(List.of());
      first = commit(rm, store, "t0", Map.of("alice", 100L, "bob", 50L));
      for (int i = 1; i <= 20; i++) {
        commit(rm, store, "t" + i, Map.of("alice", 100L - i, "bob", 50L + i));
      }
      expected.putAll(store.readCommittedAll());
    }
    assertThat(expected).containsEntry("alice", 80L).containsEntry("bob", 70L);

    try (ChronicleWal wal = openWal();
        KvStore store = KvStore.open(wal, config())) {
      KvResourceManager rm = new KvResourceManager("kv:a", store);
      rm.recover(List.of());
      assertThat(store.readCommittedAll()).isEqualTo(expected);

      rm.commit("t0", first); // already applied before the restart

      assertThat(store.readCommittedAll()).isEqualTo(expected);
      assertThat(store.get("t21", "alice")).isEqualTo(80);
    }
  }

  @Test
  void aCheckpointLetsTheWalDeleteOldFilesAndKeepsTheData() throws Exception {
    SortedMap<String, Long> expected;
    byte[] early;
    try (ChronicleWal wal = openWal();
        KvStore store = KvStore.open(wal, config())) {
      KvResourceManager rm = new KvResourceManager("kv:a", store);
      rm.recover(List.of());
      early = commit(rm, store, "t0", Map.of("k0", 0L));
      for (int i = 1; i < 40; i++) {
        if (i % 10 == 0) {
          clockMillis.addAndGet(1_000); // a new cycle file
        }
        commit(rm, store, "t" + i, Map.of("k" + (i % 7), (long) i));
      }
      assertThat(wal.files()).hasSize(4);
      clockMillis.addAndGet(1_000);

      store.checkpoint();

      assertThat(wal.files()).hasSize(1);
      commit(rm, store, "after", Map.of("k0", -1L));
      expected = store.readCommittedAll();
    }

    try (ChronicleWal wal = openWal();
        KvStore store = KvStore.open(wal, config())) {
      KvResourceManager rm = new KvResourceManager("kv:a", store);
      rm.recover(List.of());
      assertThat(store.readCommittedAll()).isEqualTo(expected);
      rm.commit("t0", early); // its commit record is deleted, but the snapshot remembers it
      assertThat(store.readCommittedAll()).isEqualTo(expected);
    }
  }

  private static byte[] commit(
      KvResourceManager rm, KvStore store, String txId, Map<String, Long> writes) throws Exception {
    writes.forEach((k, v) -> store.put(txId, k, v));
    PrepareResult vote = rm.prepare(txId);
    rm.commit(txId, vote.branchData());
    return vote.branchData();
  }
}
