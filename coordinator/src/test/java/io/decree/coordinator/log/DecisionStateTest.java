package io.decree.coordinator.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorConfig;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.EndRecord;
import io.decree.core.coordinator.CoordinatorRecord.HorizonRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import io.decree.core.coordinator.TxPhase;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecisionStateTest {
  private static final ParticipantRef A = new ParticipantRef("a", "127.0.0.1:1");
  private static final ParticipantRef B = new ParticipantRef("b", "127.0.0.1:2");

  static TxId tx(long createdAtMillis, long sequence) {
    return new TxId(createdAtMillis, 7, sequence);
  }

  static DecisionRecord decision(TxId tx, Decision d) {
    return new DecisionRecord(tx, d, List.of(A, B), tx.createdAtMillis() + 10);
  }

  @Test
  void firstDecisionWins() {
    DecisionState state = new DecisionState();
    TxId tx = tx(1_000, 1);
    DecisionRecord commit = decision(tx, Decision.COMMIT);

    assertThat(state.apply(commit).winner()).isEqualTo(commit);
    DecisionState.Result second = state.apply(decision(tx, Decision.ABORT));

    assertThat(second.kind()).isEqualTo(DecisionState.Kind.DECIDED);
    assertThat(second.winner()).isEqualTo(commit);
    assertThat(state.status(tx).decision()).contains(commit);
  }

  @Test
  void horizonForgetsEndedTransactionsOnlyAndRefusesToRedecideThem() {
    DecisionState state = new DecisionState();
    TxId endedOld = tx(1_000, 1);
    TxId liveOld = tx(1_500, 2);
    TxId young = tx(5_000, 3);
    state.apply(decision(endedOld, Decision.COMMIT));
    state.apply(new EndRecord(endedOld, 2_000));
    state.apply(decision(liveOld, Decision.ABORT));
    state.apply(decision(young, Decision.COMMIT));
    state.apply(new EndRecord(young, 6_000));

    state.apply(new HorizonRecord(3_000));

    assertThat(state.status(endedOld).state()).isEqualTo(DecisionStatus.State.FORGOTTEN);
    assertThat(state.status(liveOld).state()).isEqualTo(DecisionStatus.State.DECIDED);
    assertThat(state.status(young).ended()).isTrue();
    assertThat(state.apply(decision(endedOld, Decision.ABORT)).kind())
        .isEqualTo(DecisionState.Kind.FORGOTTEN);
    assertThat(state.status(tx(2_999, 9)).state()).isEqualTo(DecisionStatus.State.FORGOTTEN);
    assertThat(state.status(tx(3_000, 9)).state()).isEqualTo(DecisionStatus.State.NONE);
  }

  @Test
  void onePhaseDelegationIsHeldUntilItsOutcomeIsLogged() {
    DecisionState state = new DecisionState();
    TxId tx = tx(1_000, 1);
    state.apply(new OnePhaseRecord(tx, A));
    assertThat(state.status(tx).onePhaseParticipant()).contains(A);

    DecisionRecord outcome = new DecisionRecord(tx, Decision.COMMIT, List.of(), 1_100);
    state.apply(outcome);

    assertThat(state.status(tx).decision()).contains(outcome);
    assertThat(state.recoveryRecords()).containsExactly(outcome);
  }

  @Test
  void recoveryRecordsRebuildACoordinatorCore() {
    DecisionState state = new DecisionState();
    TxId ended = tx(4_000, 1);
    TxId committing = tx(4_100, 2);
    TxId delegated = tx(4_200, 3);
    state.apply(decision(ended, Decision.COMMIT));
    state.apply(decision(committing, Decision.COMMIT));
    state.apply(new OnePhaseRecord(delegated, A));
    state.apply(new EndRecord(ended, 4_500));
    state.apply(new HorizonRecord(3_000));

    List<CoordinatorRecord> records = state.recoveryRecords();
    assertThat(records)
        .containsExactly(
            decision(ended, Decision.COMMIT),
            decision(committing, Decision.COMMIT),
            new EndRecord(ended, 4_500),
            new OnePhaseRecord(delegated, A),
            new HorizonRecord(3_000));

    CoordinatorCore core = new CoordinatorCore(CoordinatorConfig.defaults(), 99);
    core.onRecover(records, 5_000);
    assertThat(core.describe(ended, 5_000).orElseThrow().phase()).isEqualTo(TxPhase.ENDED);
    assertThat(core.describe(committing, 5_000).orElseThrow().phase())
        .isEqualTo(TxPhase.COMMITTING);
    assertThat(core.describe(delegated, 5_000).orElseThrow().phase()).isEqualTo(TxPhase.ONE_PHASE);
    assertThat(core.forgottenBeforeMillis()).isEqualTo(3_000);
  }

  @Test
  void snapshotRoundTripsAndRejectsCorruption() {
    DecisionState state = new DecisionState();
    for (int i = 0; i < 50; i++) {
      TxId tx = tx(10_000 + i, i);
      state.apply(decision(tx, i % 3 == 0 ? Decision.ABORT : Decision.COMMIT));
      if (i % 2 == 0) {
        state.apply(new EndRecord(tx, 20_000 + i));
      }
    }
    state.apply(new OnePhaseRecord(tx(30_000, 1), B));
    state.apply(new HorizonRecord(9_000));

    byte[] snapshot = state.toSnapshot();
    DecisionState loaded = DecisionState.fromSnapshot(snapshot);

    assertThat(loaded.recoveryRecords()).isEqualTo(state.recoveryRecords());
    assertThat(loaded.horizonMillis()).isEqualTo(9_000);

    snapshot[snapshot.length / 2] ^= 1;
    assertThatThrownBy(() -> DecisionState.fromSnapshot(snapshot))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("checksum");
  }
}
