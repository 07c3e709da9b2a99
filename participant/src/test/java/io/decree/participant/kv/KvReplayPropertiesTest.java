package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.participant.spi.ResourceManager.PrepareResult;
import io.decree.participant.spi.ResourceManager.Vote;
import io.decree.wal.InMemoryWal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Any mix of commits, rollbacks, checkpoints (automatic and explicit, multi-chunk), clean restarts
 * and crashes leaves exactly the committed state, and every repeated commit stays a no-op.
 */
class KvReplayPropertiesTest {

  sealed interface Op permits Commit, Abort, Checkpoint, Restart, Crash, RepeatCommit {}

  record Commit(Map<String, Long> writes) implements Op {}

  record Abort(Map<String, Long> writes) implements Op {}

  record Checkpoint() implements Op {}

  record Restart() implements Op {}

  record Crash() implements Op {}

  record RepeatCommit(int which) implements Op {}

  @Property(tries = 60)
  void replayRebuildsExactlyTheCommittedState(@ForAll("ops") List<Op> ops) throws Exception {
    KvConfig config =
        KvConfig.builder()
            .walRecordBytesMax(256)
            .keysPerBranchMax(3)
            .keyBytesMax(8)
            .txIdBytesMax(16)
            .checkpointEveryCommits(4)
            .build();
    TreeMap<String, Long> model = new TreeMap<>();
    List<String> committedTxIds = new ArrayList<>();
    List<byte[]> committedData = new ArrayList<>();
    try (KvHarness h = KvHarness.open(config, new InMemoryWal(InMemoryWal.SyncMode.AUTO, 256))) {
      int n = 0;
      for (Op op : ops) {
        String txId = "t" + n++;
        // Java 17: no pattern matching in switch yet.
        if (op instanceof Commit c) {
          committedData.add(h.commit(txId, c.writes()));
          committedTxIds.add(txId);
          model.putAll(c.writes());
        } else if (op instanceof Abort a) {
          a.writes().forEach((k, v) -> h.store.put(txId, k, v));
          PrepareResult vote = h.rm.prepare(txId);
          assertThat(vote.vote()).isEqualTo(Vote.YES);
          h.rm.rollback(txId, vote.branchData());
        } else if (op instanceof Checkpoint) {
          h.store.checkpoint();
        } else if (op instanceof Restart) {
          h.restart();
          h.rm.recover(List.of());
        } else if (op instanceof Crash) {
          h.crash();
          h.rm.recover(List.of());
        } else if (op instanceof RepeatCommit r && !committedTxIds.isEmpty()) {
          int i = r.which() % committedTxIds.size();
          h.rm.commit(committedTxIds.get(i), committedData.get(i));
        }
        assertThat(h.store.readCommittedAll()).isEqualTo(model);
      }
      h.restart();
      h.rm.recover(List.of());
      assertThat(h.store.readCommittedAll()).isEqualTo(model);
      for (int i = 0; i < committedTxIds.size(); i++) {
        h.rm.commit(committedTxIds.get(i), committedData.get(i));
      }
      assertThat(h.store.readCommittedAll()).isEqualTo(model);
    }
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Map<String, Long>> writes =
        Arbitraries.maps(
                Arbitraries.of("a", "b", "c", "d", "e", "f"), Arbitraries.longs().between(-9, 99))
            .ofMinSize(1)
            .ofMaxSize(3);
    Arbitrary<Op> op =
        Arbitraries.frequencyOf(
            weighted(8, writes.map(Commit::new)),
            weighted(2, writes.map(Abort::new)),
            weighted(1, Arbitraries.just(new Checkpoint())),
            weighted(1, Arbitraries.just(new Restart())),
            weighted(1, Arbitraries.just(new Crash())),
            weighted(2, Arbitraries.integers().between(0, 1_000).map(RepeatCommit::new)));
    return op.list().ofMaxSize(40);
  }

  private static Tuple.Tuple2<Integer, Arbitrary<? extends Op>> weighted(
      int weight, Arbitrary<? extends Op> arbitrary) {
    return Tuple.of(weight, arbitrary);
  }
}
