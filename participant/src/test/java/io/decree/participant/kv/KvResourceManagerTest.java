package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.participant.spi.ResourceException;
import io.decree.participant.spi.ResourceManager.PrepareResult;
import io.decree.participant.spi.ResourceManager.Vote;
import io.decree.wal.InMemoryWal;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;

class KvResourceManagerTest {

  @Test
  void aBranchThatOnlyReadVotesReadOnlyAndReleasesItsLocks() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      h.store.get("t1", "a");

      assertThat(h.rm.prepare("t1").vote()).isEqualTo(Vote.READ_ONLY);

      assertThat(h.store.locks().heldBy("t1")).isEmpty();
      h.store.put("t2", "a", 1); // would time out if t1 still held its shared lock
      assertThat(h.rm.prepare("t1").vote()).as("repeated prepare").isEqualTo(Vote.READ_ONLY);
      h.rm.commit("t1", new byte[0]); // nothing to do, but harmless
      assertThatThrownBy(() -> h.store.get("t1", "a"))
          .isInstanceOf(BranchStateException.class)
          .hasMessageContaining("already ended");
    }
  }

  @Test
  void anUnknownBranchVotesNo() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      PrepareResult vote = h.rm.prepare("never-seen");

      assertThat(vote.vote()).isEqualTo(Vote.NO);
      assertThat(vote.reason()).isEqualTo("no work under this transaction id; lost in a restart?");
      assertThatThrownBy(() -> h.store.put("never-seen", "a", 1))
          .isInstanceOf(BranchStateException.class);
    }
  }

  @Test
  void yesCarriesTheWriteSetAndKeepsOnlyExclusiveLocks() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      h.store.get("t1", "x");
      h.store.put("t1", "b", 2);
      h.store.put("t1", "a", 1);

      PrepareResult vote = h.rm.prepare("t1");

      assertThat(vote.vote()).isEqualTo(Vote.YES);
      KvCodec.WriteSet ws = KvCodec.decodeWriteSet(vote.branchData());
      assertThat(ws.txId()).isEqualTo("t1");
      assertThat(ws.writes()).containsExactlyEntriesOf(new TreeMap<>(Map.of("a", 1L, "b", 2L)));
      assertThat(h.store.locks().heldBy("t1"))
          .isEqualTo(Map.of("a", LockTable.Mode.EXCLUSIVE, "b", LockTable.Mode.EXCLUSIVE));
      h.store.put("t2", "x", 9); // the shared lock on x went at prepare
      assertThatThrownBy(() -> h.store.get("t3", "a")).isInstanceOf(LockTimeoutException.class);
      assertThat(h.rm.prepare("t1").branchData())
          .as("repeated prepare")
          .isEqualTo(vote.branchData());
      assertThatThrownBy(() -> h.store.put("t1", "c", 3))
          .isInstanceOf(BranchStateException.class)
          .hasMessageContaining("already prepared");
    }
  }

  @Test
  void aRepeatedCommitIsNotAppliedTwice() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      byte[] t1 = h.commit("t1", Map.of("a", 10L));
      h.commit("t2", Map.of("a", 20L));

      h.rm.commit("t1", t1);
      h.rm.commit("t1", t1);

      assertThat(h.store.readCommitted("a")).isEqualTo(20);
      assertThat(h.wal.durableCount()).as("one commit record per branch").isEqualTo(2);
    }
  }

  @Test
  void aCommitRepeatedAfterARestartIsNotAppliedTwice() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      byte[] t1 = h.commit("t1", Map.of("a", 10L));
      h.commit("t2", Map.of("a", 20L));

      h.restart();
      h.rm.recover(List.of());
      h.rm.commit("t1", t1);

      assertThat(h.store.readCommitted("a")).isEqualTo(20);
    }
  }

  @Test
  void oneBranchCommitsInOnePhaseWithoutPrepare() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      h.store.put("t1", "a", 3);

      h.rm.commit("t1", new byte[0]);
      h.rm.commit("t1", new byte[0]);

      assertThat(h.store.readCommitted("a")).isEqualTo(3);
      h.restart();
      h.rm.recover(List.of());
      h.rm.commit("t1", new byte[0]);
      assertThat(h.store.readCommitted("a")).isEqualTo(3);
    }
  }

  @Test
  void rollbackIsIdempotentAndForgetsTheWrites() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      h.prepare("t1", Map.of("a", 1L));

      h.rm.rollback("t1", new byte[0]);
      h.rm.rollback("t1", new byte[0]);
      h.rm.rollback("never-seen", new byte[0]);

      assertThat(h.store.readCommitted("a")).isZero();
      assertThat(h.store.locks().lockedKeyCount()).isZero();
      assertThat(h.rm.prepare("t1").vote()).isEqualTo(Vote.NO);
    }
  }

  @Test
  void contradictoryDecisionsAreRefusedAndNotRetryable() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      byte[] committed = h.commit("t1", Map.of("a", 1L));
      byte[] rolledBack = h.prepare("t2", Map.of("b", 1L));
      h.rm.rollback("t2", rolledBack);

      assertThatThrownBy(() -> h.rm.rollback("t1", committed))
          .isInstanceOf(ResourceException.class)
          .hasMessageContaining("already committed")
          .extracting(e -> ((ResourceException) e).retryable())
          .isEqualTo(false);
      assertThatThrownBy(() -> h.rm.commit("t2", rolledBack))
          .isInstanceOf(ResourceException.class)
          .hasMessageContaining("rolled back")
          .extracting(e -> ((ResourceException) e).retryable())
          .isEqualTo(false);
      assertThat(h.store.readCommitted("b")).isZero();
    }
  }

  @Test
  void aCommitWithNothingToApplyIsRefused() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      assertThatThrownBy(() -> h.rm.commit("lost", new byte[0]))
          .isInstanceOf(ResourceException.class)
          .hasMessageContaining("no work under this transaction id")
          .extracting(e -> ((ResourceException) e).retryable())
          .isEqualTo(false);
    }
  }

  @Test
  void foreignOrMismatchedBranchDataIsRefused() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      byte[] t1 = h.prepare("t1", Map.of("a", 1L));

      assertThatThrownBy(() -> h.rm.commit("t1", new byte[] {1, 2, 3}))
          .isInstanceOf(ResourceException.class)
          .hasMessageContaining("not a kv write set");
      assertThatThrownBy(() -> h.rm.commit("t9", t1))
          .isInstanceOf(ResourceException.class)
          .hasMessageContaining("belongs to t1");
      assertThat(h.store.branchState("t1")).isEqualTo(BranchState.PREPARED);
    }
  }

  @Test
  void aCommitNotConfirmedDurableStaysRetryableAndBlocksRollback() throws Exception {
    InMemoryWal wal = new InMemoryWal();
    KvConfig config = KvConfig.builder().walSyncTimeoutMillis(50).build();
    try (KvHarness h = KvHarness.open(config, wal)) {
      byte[] t1 = h.prepare("t1", Map.of("a", 1L));
      wal.syncMode(InMemoryWal.SyncMode.MANUAL);

      assertThatThrownBy(() -> h.rm.commit("t1", t1))
          .isInstanceOf(ResourceException.class)
          .hasMessageContaining("not confirmed durable")
          .asInstanceOf(InstanceOfAssertFactories.type(ResourceException.class))
          .extracting(ResourceException::retryable)
          .isEqualTo(true);
      assertThat(h.store.branchState("t1")).isEqualTo(BranchState.COMMITTING);
      assertThat(h.store.readCommitted("a")).isZero();
      assertThatThrownBy(() -> h.rm.rollback("t1", t1))
          .isInstanceOf(ResourceException.class)
          .hasMessageContaining("may be durable");
      assertThatThrownBy(() -> h.store.get("t2", "a"))
          .as("the branch keeps its locks")
          .isInstanceOf(LockTimeoutException.class);

      wal.sync(); // the first record becomes durable after all
      CompletableFuture<Void> retry =
          h.async(
              () -> {
                h.rm.commit("t1", t1);
                return null;
              });
      KvHarness.awaitTrue(() -> wal.unsyncedCount() == 1, "the retried commit record");
      wal.sync();
      retry.get(5, TimeUnit.SECONDS);
      wal.syncMode(InMemoryWal.SyncMode.AUTO);

      assertThat(h.store.readCommitted("a")).isEqualTo(1);
      h.commit("t3", Map.of("a", 3L));
      h.restart(); // the log holds t1 twice; replay applies it once, then t3
      h.rm.recover(List.of());
      assertThat(h.store.readCommitted("a")).isEqualTo(3);
    }
  }

  @Test
  void businessWorkWaitsForRecovery() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.defaults())) {
      h.commit("t1", Map.of("a", 1L));
      h.restart();

      assertThatThrownBy(() -> h.store.get("t2", "a"))
          .isInstanceOf(KvNotRecoveredException.class)
          .hasMessageContaining("recover");
      assertThatThrownBy(() -> h.rm.prepare("t9"))
          .as("a NO now could contradict a YES in the runtime's log")
          .isInstanceOf(ResourceException.class)
          .extracting(e -> ((ResourceException) e).retryable())
          .isEqualTo(true);
      assertThat(h.store.readCommitted("a")).isEqualTo(1);

      h.rm.recover(List.of());
      assertThat(h.store.get("t2", "a")).isEqualTo(1);
    }
  }
}
