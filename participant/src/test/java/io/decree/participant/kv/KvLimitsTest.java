package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.participant.spi.ResourceManager.Vote;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KvLimitsTest {

  @Test
  void tooManyOpenBranchesIsAClearErrorAndFreesUpWhenOneEnds() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().branchesMax(2).build())) {
      h.store.put("t1", "a", 1);
      h.store.put("t2", "b", 1);

      assertThatThrownBy(() -> h.store.put("t3", "c", 1))
          .isInstanceOf(KvLimitException.class)
          .hasMessageContaining("branchesMax=2")
          .extracting(e -> ((KvLimitException) e).limit())
          .isEqualTo("branchesMax");

      h.rm.rollback("t1", new byte[0]);
      h.store.put("t3", "c", 1);
      assertThat(h.store.openBranchCount()).isEqualTo(2);
    }
  }

  @Test
  void tooManyKeysInOneBranchIsAClearErrorThatLeavesTheBranchUsable() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().keysPerBranchMax(2).build())) {
      h.store.put("t1", "a", 1);
      h.store.get("t1", "b");

      assertThatThrownBy(() -> h.store.put("t1", "c", 1))
          .isInstanceOf(KvLimitException.class)
          .hasMessageContaining("keysPerBranchMax=2");
      assertThatThrownBy(() -> h.store.getAll("t2", List.of("a", "b", "c")))
          .isInstanceOf(KvLimitException.class);

      h.store.put("t1", "b", 2); // keys it already holds are fine
      assertThat(h.rm.prepare("t1").vote()).isEqualTo(Vote.YES);
    }
  }

  @Test
  void aFullStoreRefusesNewKeysButNotUpdates() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().keysMax(2).build())) {
      h.commit("t1", Map.of("a", 1L, "b", 1L));

      assertThatThrownBy(() -> h.store.put("t2", "c", 1))
          .isInstanceOf(KvLimitException.class)
          .hasMessageContaining("keysMax=2");
      h.store.put("t2", "a", 5);
    }
  }

  @Test
  void badKeysAndTxIdsAreRefused() throws Exception {
    try (KvHarness h = KvHarness.open(KvConfig.builder().keyBytesMax(8).build())) {
      assertThatThrownBy(() -> h.store.put("t1", "123456789", 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("key of 9 UTF-8 bytes");
      assertThatThrownBy(() -> h.store.put("t1", "ééééé", 1)) // 10 bytes in UTF-8
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> h.store.get("", "a"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("txId must be non-empty");
      assertThatThrownBy(() -> h.store.get("t1", null))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(h.store.openBranchCount()).isZero();
    }
  }

  @Test
  void invalidConfigsNameTheField() {
    assertThatThrownBy(() -> KvConfig.builder().lockTimeoutMillis(0).build().validate())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lockTimeoutMillis");
    assertThatThrownBy(() -> KvConfig.builder().walRecordBytesMax(4096).build().validate())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("largest write set");
    assertThatThrownBy(() -> KvConfig.builder().checkpointEveryCommits(0).build().validate())
        .hasMessageContaining("checkpointEveryCommits");
    KvConfig.defaults().validate();
  }

  @Test
  void appliedTxIdsBeyondTheRetentionAreForgottenOldestFirst() {
    BoundedTxIdMap<Long> applied = new BoundedTxIdMap<>(3);
    for (long i = 0; i < 5; i++) {
      applied.put("t" + i, i);
    }
    assertThat(applied.contains("t0")).isFalse();
    assertThat(applied.contains("t1")).isFalse();
    assertThat(applied.entries()).extracting(Map.Entry::getKey).containsExactly("t2", "t3", "t4");
    assertThat(applied.forgotten()).isEqualTo(2);
  }
}
