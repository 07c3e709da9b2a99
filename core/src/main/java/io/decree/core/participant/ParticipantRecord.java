package io.decree.core.participant;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import java.util.List;

/** What a participant writes to its own write-ahead log. */
public sealed interface ParticipantRecord {
  TxId txId();

  /**
   * Whether the core acts on this record being durable. One it does not wait for may be lost in a
   * crash without harm, so a log may write it without a sync of its own and let the next sync cover
   * it (the simulation does the same, so it would catch a core that relied on one).
   */
  default boolean awaitsDurability() {
    return true;
  }

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

  /**
   * An operator forced this prepared branch's outcome (a heuristic decision, PROTOCOL.md rule 4):
   * synced before the resource applies it, kept for the audit and never forgotten by retention.
   *
   * @param reason the operator's words, shown with the branch from then on
   */
  record HeuristicRecord(TxId txId, Decision decision, String reason, long decidedAtMillis)
      implements ParticipantRecord {
    public HeuristicRecord {
      if (reason == null || reason.isBlank()) {
        throw new IllegalArgumentException("a heuristic decision needs the operator's reason");
      }
    }
  }

  /**
   * The resource applied the decision; the branch needs nothing more after a restart. Losing it
   * only means the decision is applied again (resources treat a repeated decision as done) and
   * acknowledged again.
   */
  record CompletedRecord(TxId txId, Decision decision) implements ParticipantRecord {
    @Override
    public boolean awaitsDurability() {
      return false;
    }
  }
}
