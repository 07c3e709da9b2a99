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

  private static Message.OutcomeReply answer(ParticipantCore core) {
    return core.drain().sends().stream()
        .map(send -> send.message())
        .filter(Message.OutcomeReply.class::isInstance)
        .map(Message.OutcomeReply.class::cast)
        .findFirst()
        .orElseThrow();
  }
}
