package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.participant.spi.ResourceException;
import io.decree.participant.spi.ResourceManager.PreparedBranch;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * After a crash the store knows only what it committed; the runtime's log hands back the branches
 * that were prepared, and until their decision nobody may read or overwrite their keys.
 */
class KvRecoveryTest {

  @Test
  void recoveryReLocksTheKeysOfInDoubtBranchesUntilTheDecision() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      h.commit("t0", Map.of("a", 100L, "b", 100L));
      byte[] t1 = h.prepare("t1", Map.of("a", 150L, "b", 50L));
      h.crash();

      List<String> held = h.rm.recover(List.of(new PreparedBranch("t1", t1)));

      assertThat(held).containsExactly("t1");
      assertThat(h.store.locks().heldBy("t1"))
          .isEqualTo(Map.of("a", LockTable.Mode.EXCLUSIVE, "b", LockTable.Mode.EXCLUSIVE));
      assertThatThrownBy(() -> h.store.get("t2", "a")).isInstanceOf(LockTimeoutException.class);
      assertThatThrownBy(() -> h.store.put("t3", "b", 0)).isInstanceOf(LockTimeoutException.class);
      assertThat(h.store.readCommitted("a"))
          .as("status shows the last committed value")
          .isEqualTo(100);

      h.rm.commit("t1", t1);

      assertThat(h.store.get("t4", "a")).isEqualTo(150);
      assertThat(h.store.get("t4", "b")).isEqualTo(50);
    }
  }

  @Test
  void aRecoveredBranchThatIsRolledBackFreesItsKeys() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      h.commit("t0", Map.of("a", 100L));
      byte[] t1 = h.prepare("t1", Map.of("a", 150L));
      h.crash();
      h.rm.recover(List.of(new PreparedBranch("t1", t1)));

      h.rm.rollback("t1", t1);

      h.store.put("t2", "a", 1);
      assertThat(h.store.readCommitted("a")).isEqualTo(100);
    }
  }

  @Test
  void aBranchCommittedBeforeTheCrashIsNotReAdoptedNorReApplied() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      byte[] t1 = h.commit("t1", Map.of("a", 10L));
      h.commit("t2", Map.of("a", 20L));
      // The runtime crashed before it logged that t1 was done, so its log still shows t1 prepared.
      h.crash();

      assertThat(h.rm.recover(List.of(new PreparedBranch("t1", t1)))).isEmpty();
      h.rm.commit("t1", t1);

      assertThat(h.store.readCommitted("a")).isEqualTo(20);
      assertThat(h.store.locks().lockedKeyCount()).isZero();
    }
  }

  @Test
  void recoveryIsIdempotent() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      byte[] t1 = h.prepare("t1", Map.of("a", 1L));
      byte[] t2 = h.prepare("t2", Map.of("b", 2L));
      h.crash();
      List<PreparedBranch> log =
          List.of(new PreparedBranch("t1", t1), new PreparedBranch("t2", t2));

      assertThat(h.rm.recover(log)).containsExactly("t1", "t2");
      assertThat(h.rm.recover(log)).containsExactly("t1", "t2");
      assertThat(h.store.openBranchCount()).isEqualTo(2);

      h.rm.commit("t1", t1);
      h.rm.rollback("t2", t2);
      assertThat(h.store.readCommittedAll()).isEqualTo(Map.of("a", 1L));
      assertThat(h.store.openBranchCount()).isZero();
    }
  }

  @Test
  void aCommitWithItsWriteSetIsAppliedEvenIfRecoveryDidNotAdoptTheBranch() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      byte[] t1 = h.prepare("t1", Map.of("a", 1L));
      h.crash();
      h.rm.recover(List.of());

      h.rm.commit("t1", t1);
      h.rm.commit("t1", t1);

      assertThat(h.store.readCommitted("a")).isEqualTo(1);
      h.crash();
      h.rm.recover(List.of());
      assertThat(h.store.readCommitted("a")).isEqualTo(1);
    }
  }

  @Test
  void recoveryThatCannotTakeALockIsRetryable() throws Exception {
    try (KvHarness h = KvHarness.open(KvHarness.fastLocks().build())) {
      byte[] t1 = h.prepare("t1", Map.of("a", 1L));
      h.crash();
      h.rm.recover(List.of());
      h.store.get("t2", "a"); // the runtime forgot t1 the first time round

      assertThatThrownBy(() -> h.rm.recover(List.of(new PreparedBranch("t1", t1))))
          .isInstanceOf(ResourceException.class)
          .extracting(e -> ((ResourceException) e).retryable())
          .isEqualTo(true);

      h.rm.rollback("t2", new byte[0]);
      assertThat(h.rm.recover(List.of(new PreparedBranch("t1", t1)))).containsExactly("t1");
    }
  }
}
