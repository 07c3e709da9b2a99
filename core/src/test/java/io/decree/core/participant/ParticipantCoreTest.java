package io.decree.core.participant;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.core.Message;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rules of the participant core that the simulator found a seed for once. */
class ParticipantCoreTest {
  private static final long RESTARTED_AT = 10_000_000;
  private final ParticipantRef self = new ParticipantRef("p1", "127.0.0.1:1");
  private final ParticipantRef peer = new ParticipantRef("p0", "127.0.0.1:2");

  @Test
  void aPeerQuestionAboutATransactionFromBeforeARestartIsNotAnsweredAborted() {
    // p1 voted READ_ONLY (no record), crashed and restarted; the coordinator committed with that
    // vote. When p0, in doubt, asks p1, "no record here" must not become ABORTED.
    ParticipantCore core = new ParticipantCore(self, ParticipantConfig.defaults());
    core.onRecover(List.of(), RESTARTED_AT);
    core.drain();

    TxId before = new TxId(RESTARTED_AT - 5_000, 1, 1);
    core.onMessage(new Message.OutcomeQuery(before, peer), RESTARTED_AT + 100);

    assertThat(answer(core).outcome()).isEqualTo(Outcome.UNKNOWN);
  }

  @Test
  void aPeerQuestionAboutATransactionItNeverSawSinceItStartedIsAnsweredAborted() {
    ParticipantCore core = new ParticipantCore(self, ParticipantConfig.defaults());
    core.onRecover(List.of(), RESTARTED_AT);
    core.drain();

    TxId after = new TxId(RESTARTED_AT + 120_000, 1, 1);
    core.onMessage(new Message.OutcomeQuery(after, peer), RESTARTED_AT + 130_000);

    assertThat(answer(core).outcome()).isEqualTo(Outcome.ABORTED);
  }

  @Test
  void aCoreRecoveredFromItsCheckpointHoldsWhatTheWholeLogWouldHave() {
    ParticipantConfig config =
        ParticipantConfig.defaults()
            .withTimings(60_000, 2_000, new io.decree.core.Backoff(200, 10_000), 1_000);
    ParticipantCore core = new ParticipantCore(self, config);
    List<ParticipantRecord> log = new java.util.ArrayList<>();
    core.onRecover(List.of(), RESTARTED_AT);
    core.drain();
    long now = RESTARTED_AT + 1_000;

    // An old one-phase commit, finished and then forgotten once its retention passed.
    TxId forgotten = new TxId(now, 1, 1);
    core.onWorkStarted(forgotten, now);
    core.onMessage(new Message.OnePhaseCommit(forgotten), now);
    carryOut(core, log, now);
    now += 5_000;
    core.onTick(now);
    carryOut(core, log, now);
    assertThat(core.describe(forgotten)).isEmpty();

    // A committed branch still remembered, and one in doubt.
    TxId committed = new TxId(now, 1, 2);
    TxId inDoubt = new TxId(now, 1, 3);
    for (TxId tx : List.of(committed, inDoubt)) {
      core.onWorkStarted(tx, now);
      core.onMessage(new Message.Prepare(tx, List.of(self, peer)), now);
      carryOut(core, log, now);
    }
    core.onMessage(new Message.PhaseTwo(committed, io.decree.core.Decision.COMMIT), now);
    carryOut(core, log, now);
    assertThat(core.describe(committed).orElseThrow().state()).isEqualTo(BranchState.COMMITTED);
    assertThat(core.describe(inDoubt).orElseThrow().state()).isEqualTo(BranchState.PREPARED);

    ParticipantCheckpoint checkpoint = core.checkpoint();
    assertThat(checkpoint.records()).noneMatch(r -> r.txId().equals(forgotten));
    ParticipantCore recovered = new ParticipantCore(self, config);
    recovered.onRecover(checkpoint, List.of(), now + 100);
    ParticipantCore replayed = new ParticipantCore(self, config);
    replayed.onRecover(log, now + 100);

    for (ParticipantCore after : List.of(recovered, replayed)) {
      assertThat(after.preparedBranches()).containsExactly(inDoubt);
      assertThat(after.describe(committed).orElseThrow().state()).isEqualTo(BranchState.COMMITTED);
    }
    // The forgotten one-phase commit, asked again: the checkpoint's horizon says "forgotten"
    // (UNKNOWN); without it, "no record" would become a wrong ABORTED.
    recovered.drain();
    recovered.onMessage(new Message.OnePhaseCommit(forgotten), now + 200);
    assertThat(
            recovered.drain().sends().stream()
                .map(send -> send.message())
                .filter(Message.OnePhaseResult.class::isInstance)
                .map(m -> ((Message.OnePhaseResult) m).outcome()))
        .containsExactly(Outcome.UNKNOWN);
  }

  @Test
  void forgettingByCountNeverRefusesWorkOfAYoungTransaction() {
    ParticipantCore core =
        new ParticipantCore(self, ParticipantConfig.defaults().withRememberedMax(2));
    core.onRecover(List.of(), RESTARTED_AT);
    long now = RESTARTED_AT + 1_000;
    List<ParticipantRecord> log = new java.util.ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      TxId tx = new TxId(now, 1, i);
      core.onWorkStarted(tx, now);
      core.onMessage(new Message.Prepare(tx, List.of(self, peer)), now);
      carryOut(core, log, now);
      core.onMessage(new Message.PhaseTwo(tx, io.decree.core.Decision.COMMIT), now);
      carryOut(core, log, now);
    }
    core.onTick(now + 1_000);
    // Over the count, but young: a late business call of a sixth one created with them still runs.
    assertThat(core.onWorkStarted(new TxId(now, 1, 6), now + 1_000)).isTrue();
    assertThat(core.describe(new TxId(now, 1, 1))).isPresent();

    long later = now + TxId.CLOCK_SKEW_MAX_MILLIS + 1_000;
    core.onTick(later);
    assertThat(core.describe(new TxId(now, 1, 1))).isEmpty(); // forgotten by count now
    assertThat(core.checkpoint().forgottenBeforeMillis()).isEqualTo(now + 1);
  }

  @Test
  void anIdFromTheFutureIsNeitherRememberedNorAnsweredAborted() {
    ParticipantCore core = new ParticipantCore(self, ParticipantConfig.defaults());
    core.onRecover(List.of(), RESTARTED_AT);
    core.drain();
    long now = RESTARTED_AT + 120_000;
    TxId future = new TxId(now + TxId.CLOCK_SKEW_MAX_MILLIS + 60_000, 1, 1);

    core.onMessage(new Message.OutcomeQuery(future, peer), now);

    assertThat(answer(core).outcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(core.describe(future)).isEmpty();
    assertThat(core.onWorkStarted(future, now)).isFalse();
  }

  /**
   * Plays the driver: appends become durable at once, resource calls succeed (prepare votes YES),
   * until the core asks for nothing more.
   */
  private static void carryOut(ParticipantCore core, List<ParticipantRecord> log, long now) {
    for (int round = 0; round < 20; round++) {
      ParticipantEffects effects = core.drain();
      if (effects.appends().isEmpty() && effects.resourceCalls().isEmpty()) {
        return;
      }
      for (ParticipantRecord record : effects.appends()) {
        log.add(record);
        core.onRecordDurable(record, now);
      }
      for (ResourceCall call : effects.resourceCalls()) {
        if (call instanceof ResourceCall.Prepare) {
          core.onResourcePrepared(call.txId(), io.decree.core.Vote.YES, new byte[] {7}, "", now);
        } else {
          core.onResourceApplied(call.txId(), true, "", now);
        }
      }
    }
    throw new AssertionError("the core kept asking for more");
  }

  private static Message.OutcomeReply answer(ParticipantCore core) {
    return core.drain().sends().stream()
        .map(send -> send.message())
        .filter(Message.OutcomeReply.class::isInstance)
        .map(Message.OutcomeReply.class::cast)
        .findFirst()
        .orElseThrow();
  }
}
