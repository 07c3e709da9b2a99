package io.decree.core.participant;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import java.util.List;

/** What a participant writes to its own write-ahead log. */
public sealed interface ParticipantRecord {
  TxId txId();

  /**
   * A durable YES: written and synced before the vote is sent.
   *
   * @param participants every participant of the transaction, to ask while the coordinator is
   *     unreachable (cooperative termination)
   * @param branchData what the resource needs to finish the branch after a crash
   */
  record PreparedRecord(
      TxId txId, List<ParticipantRef> participants, byte[] branchData, long preparedAtMillis)
      implements ParticipantRecord {
    public PreparedRecord {
      participants = List.copyOf(participants);
    }
  }

  /**
   * The decision as learned (or, for one-phase commit, made) here; synced before the resource
   * applies it and before it is acknowledged.
   *
   * @param onePhase this participant made the decision itself (one-phase commit)
   * @param branchData for one-phase commit, the resource's data (no prepared record exists)
   */
  record DecisionRecord(
      TxId txId, Decision decision, boolean onePhase, byte[] branchData, long decidedAtMillis)
      implements ParticipantRecord {}

  /** The resource applied the decision; the branch needs nothing more after a restart. */
  record CompletedRecord(TxId txId, Decision decision) implements ParticipantRecord {}
}
