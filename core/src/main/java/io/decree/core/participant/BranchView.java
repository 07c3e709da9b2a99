package io.decree.core.participant;

import io.decree.core.Blocking;
import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.Vote;
import java.util.List;

/**
 * A read-only picture of one branch, for status and admin views.
 *
 * @param vote null before the branch voted
 * @param blocking null unless the branch is in doubt
 * @param heuristic null unless an operator forced the branch's outcome
 */
public record BranchView(
    TxId txId,
    BranchState state,
    long stateSinceMillis,
    Vote vote,
    List<ParticipantRef> peers,
    Blocking blocking,
    Heuristic heuristic) {
  public BranchView {
    peers = List.copyOf(peers);
  }

  /**
   * An operator's forced outcome and what became of it.
   *
   * @param decision the forced outcome, applied at this branch
   * @param reason the operator's reason
   * @param atMillis when it was forced
   * @param realDecision the transaction's decision once learned from the coordinator; null until
   *     then
   * @param note why the real decision cannot be learned (e.g. the coordinator forgot it), or empty
   */
  public record Heuristic(
      Decision decision, String reason, long atMillis, Decision realDecision, String note) {
    /** The forced outcome differs from the real decision: a heuristic-mixed outcome. */
    public boolean alarm() {
      return realDecision != null && realDecision != decision;
    }
  }
}
