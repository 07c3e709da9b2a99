package io.decree.core.coordinator;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import java.util.List;

/** What the coordinator writes to its decision log. The driver appends and syncs each one. */
public sealed interface CoordinatorRecord {

  /**
   * Whether the core acts on this record being durable. One it does not wait for may be lost in a
   * crash without harm, so a log may write it without a sync of its own and let the next sync cover
   * it (the simulation does the same, so it would catch a core that relied on one).
   */
  default boolean awaitsDurability() {
    return true;
  }

  /**
   * The decision. The log keeps the first one per transaction; appending the other decision later
   * returns the winner.
   *
   * @param participants who must hear the decision in phase 2
   */
  record DecisionRecord(
      TxId txId, Decision decision, List<ParticipantRef> participants, long decidedAtMillis)
      implements CoordinatorRecord {
    public DecisionRecord {
      participants = List.copyOf(participants);
    }
  }

  /**
   * Every participant acknowledged; the transaction may be forgotten after retention. Losing it
   * only means phase 2 is driven again after a restart (participants acknowledge a repeated
   * decision).
   */
  record EndRecord(TxId txId, long endedAtMillis) implements CoordinatorRecord {
    @Override
    public boolean awaitsDurability() {
      return false;
    }
  }

  /**
   * The coordinator handed the decision to the only participant (one-phase commit). After a crash
   * it asks that participant again instead of presuming ABORT.
   */
  record OnePhaseRecord(TxId txId, ParticipantRef participant) implements CoordinatorRecord {}

  /**
   * Transactions created before {@code createdBeforeMillis} that the log no longer holds were ended
   * and forgotten: a query for one answers UNKNOWN(forgotten), never a presumed outcome.
   */
  record HorizonRecord(long createdBeforeMillis) implements CoordinatorRecord {
    /** Losing it only means remembering the transactions it forgot a little longer. */
    @Override
    public boolean awaitsDurability() {
      return false;
    }
  }
}
