package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.participant.spi.ResourceManager.Vote;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class KvIsolationTest {

  @Test
  void secondWriterTimesOutWhileTheFirstHoldsTheKey() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      h.store.put("t1", "a", 1);

      assertThatThrownBy(() -> h.store.put("t2", "a", 2))
          .isInstanceOf(LockTimeoutException.class)
          .hasMessageContaining("t2 wanted EXCLUSIVE on 'a'")
          .hasMessageContaining("t1 (EXCLUSIVE)")
          .hasMessageContaining("rollback-only");
      assertThat(h.store.branchState("t2")).isEqualTo(BranchState.ROLLBACK_ONLY);
      assertThatThrownBy(() -> h.store.get("t2", "b"))
          .isInstanceOf(BranchStateException.class)
          .hasMessageContaining("rollback-only");
      var vote = h.rm.prepare("t2");
      assertThat(vote.vote()).isEqualTo(Vote.NO);
      assertThat(vote.reason()).contains("timed out");

      h.rm.commit("t1", h.rm.prepare("t1").branchData());
      assertThat(h.store.readCommitted("a")).isEqualTo(1);
    }
  }

  @Test
  void secondBranchWaitsAndSeesTheFirstBranchesValueOnceItCommits() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().lockTimeoutMillis(10_000).build())) {
      h.store.put("t1", "a", 1);
      CompletableFuture<Long> second =
          h.async(
              () -> {
                long seen = h.store.get("t2", "a");
                h.store.put("t2", "a", seen + 10);
                return seen;
              });
      h.awaitWaiters("a", 1);
      assertThat(second).isNotDone();

      h.rm.commit("t1", h.rm.prepare("t1").branchData());

      assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo(1);
      h.rm.commit("t2", h.rm.prepare("t2").branchData());
      assertThat(h.store.readCommitted("a")).isEqualTo(11);
    }
  }

  @Test
  void uncommittedWritesAreSeenOnlyByTheirOwnBranch() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      h.commit("t0", Map.of("a", 7L));
      h.store.put("t1", "a", 5);

      assertThat(h.store.get("t1", "a")).isEqualTo(5);
      assertThat(h.store.readCommitted("a")).isEqualTo(7);
      assertThat(h.store.readCommittedAll()).containsEntry("a", 7L);
      assertThatThrownBy(() -> h.store.get("t2", "a")).isInstanceOf(LockTimeoutException.class);

      h.rm.rollback("t1", new byte[0]);
      assertThat(h.store.readCommitted("a")).isEqualTo(7);
      assertThat(h.store.get("t3", "a")).isEqualTo(7);
    }
  }

  @Test
  void readersShareAKeyAndHoldWritersOff() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      h.commit("t0", Map.of("a", 7L));
      assertThat(h.store.get("t1", "a")).isEqualTo(7);
      assertThat(h.store.get("t2", "a")).isEqualTo(7);

      assertThatThrownBy(() -> h.store.put("t3", "a", 1))
          .isInstanceOf(LockTimeoutException.class)
          .hasMessageContaining("t1 (SHARED)")
          .hasMessageContaining("t2 (SHARED)");

      h.rm.rollback("t1", new byte[0]);
      h.rm.rollback("t2", new byte[0]);
      h.store.put("t4", "a", 1);
      assertThat(h.store.locks().heldBy("t4")).containsEntry("a", LockTable.Mode.EXCLUSIVE);
    }
  }

  @Test
  void rollbackReleasesLocksAndDiscardsWrites() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().lockTimeoutMillis(10_000).build())) {
      h.store.put("t1", "a", 5);
      CompletableFuture<Long> waiting = h.async(() -> h.store.getForUpdate("t2", "a"));
      h.awaitWaiters("a", 1);

      h.rm.rollback("t1", new byte[0]);

      assertThat(waiting.get(5, TimeUnit.SECONDS)).isZero();
      assertThat(h.store.readCommitted("a")).isZero();
    }
  }

  @Test
  void rollingBackAWaitingBranchEndsItsWait() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().lockTimeoutMillis(10_000).build())) {
      h.store.put("t1", "a", 5);
      h.store.put("t2", "b", 5);
      CompletableFuture<Long> waiting = h.async(() -> h.store.get("t2", "a"));
      h.awaitWaiters("a", 1);

      h.rm.rollback("t2", new byte[0]);

      assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(BranchStateException.class);
      assertThat(h.store.locks().heldBy("t2")).isEmpty();
      assertThat(h.store.locks().waitersOn("a")).isZero();
      h.store.put("t3", "b", 1); // t2's lock on b is gone
    }
  }

  @Test
  void aDeadlockEndsInATimeoutAndTheVictimsLocksAreFreedAtOnce() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().lockTimeoutMillis(300).build())) {
      h.store.put("t1", "a", 1);
      h.store.put("t2", "b", 2);
      CompletableFuture<Void> t1WantsB =
          h.async(
              () -> {
                h.store.put("t1", "b", 1);
                return null;
              });
      h.awaitWaiters("b", 1);
      Throwable t2Failure = null;
      try {
        h.store.put("t2", "a", 2);
      } catch (LockTimeoutException e) {
        t2Failure = e;
      }
      Throwable t1Failure = null;
      try {
        t1WantsB.get(5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        t1Failure = e.getCause();
      }

      // Whoever times out first (usually t1, which waited first) is the victim: it frees its locks
      // at once, so the other one usually gets through; both giving up is allowed too.
      assertThat(t1Failure == null && t2Failure == null)
          .as("a deadlock cannot resolve itself")
          .isFalse();
      for (var side :
          List.of(
              Map.entry("t1", Optional.ofNullable(t1Failure)),
              Map.entry("t2", Optional.ofNullable(t2Failure)))) {
        if (side.getValue().isPresent()) {
          assertThat(side.getValue().get()).isInstanceOf(LockTimeoutException.class);
          assertThat(h.store.locks().heldBy(side.getKey())).isEmpty();
          assertThat(h.store.branchState(side.getKey())).isEqualTo(BranchState.ROLLBACK_ONLY);
        } else {
          assertThat(h.store.locks().heldBy(side.getKey()))
              .containsEntry("a", LockTable.Mode.EXCLUSIVE)
              .containsEntry("b", LockTable.Mode.EXCLUSIVE);
        }
      }
      h.rm.rollback("t1", new byte[0]);
      h.rm.rollback("t2", new byte[0]);
      assertThat(h.store.locks().lockedKeyCount()).isZero();
    }
  }

  @Test
  void twoReadersUpgradingTheSameKeyDeadlockButGetForUpdateSerializesThem() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().lockTimeoutMillis(1_000).build())) {
      h.store.get("t1", "a");
      h.store.get("t2", "a");
      CompletableFuture<Void> upgrade1 =
          h.async(
              () -> {
                h.store.put("t1", "a", 1);
                return null;
              });
      h.awaitWaiters("a", 1);
      // t1 waited first, so it times out first; giving up frees its shared lock and t2 upgrades.
      // t2 starts waiting half a timeout later, so that a loaded machine still wakes it in time.
      Thread.sleep(500);
      h.store.put("t2", "a", 2);
      assertThatThrownBy(() -> upgrade1.get(5, TimeUnit.SECONDS))
          .hasCauseInstanceOf(LockTimeoutException.class);
      h.rm.commit("t2", h.rm.prepare("t2").branchData());
      h.rm.rollback("t1", new byte[0]);

      assertThat(h.store.getForUpdate("t3", "a")).isEqualTo(2);
      CompletableFuture<Long> t4 = h.async(() -> h.store.getForUpdate("t4", "a"));
      h.awaitWaiters("a", 1);
      h.store.put("t3", "a", 3);
      h.rm.commit("t3", h.rm.prepare("t3").branchData());
      assertThat(t4.get(5, TimeUnit.SECONDS)).isEqualTo(3);
    }
  }

  @Test
  void aWaitingWriterHoldsOffNewReaders() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().lockTimeoutMillis(10_000).build())) {
      h.store.get("t1", "a");
      CompletableFuture<Void> writer =
          h.async(
              () -> {
                h.store.put("t2", "a", 1);
                return null;
              });
      h.awaitWaiters("a", 1);
      CompletableFuture<Long> lateReader = h.async(() -> h.store.get("t3", "a"));
      h.awaitWaiters("a", 2);

      h.rm.rollback("t1", new byte[0]);
      writer.get(5, TimeUnit.SECONDS);
      assertThat(lateReader).isNotDone();
      h.rm.commit("t2", h.rm.prepare("t2").branchData());
      assertThat(lateReader.get(5, TimeUnit.SECONDS)).isEqualTo(1);
    }
  }
}
