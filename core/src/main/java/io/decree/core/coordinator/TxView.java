package io.decree.core.coordinator;

import io.decree.core.Blocking;
import io.decree.core.Decision;
import io.decree.core.TxId;
import java.util.List;

/**
 * A read-only picture of one transaction at the coordinator.
 *
 * @param decision null while undecided
 * @param decisionDurableMillis 0 until the decision is durable
 * @param blocking null unless it waits on someone
 */
public record TxView(
    TxId txId,
    TxPhase phase,
    long phaseSinceMillis,
    List<ParticipantView> participants,
    Decision decision,
    long decisionDurableMillis,
    List<TimelineEvent> timeline,
    Blocking blocking) {
  public TxView {
    participants = List.copyOf(participants);
    timeline = List.copyOf(timeline);
  }

  /** Some participant applied a forced outcome other than the decision (heuristic-mixed). */
  public boolean alarm() {
    return participants.stream().anyMatch(ParticipantView::alarm);
  }

  /** Something that happened to the transaction, for operators. */
  public record TimelineEvent(long atMillis, String event) {}
}
