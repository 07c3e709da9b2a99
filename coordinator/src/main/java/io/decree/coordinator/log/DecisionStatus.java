package io.decree.coordinator.log;

import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.util.Optional;

/**
 * What the replicated decision log holds for one transaction, read linearizably: the answer
 * reflects every append acknowledged before the read began.
 *
 * @param decision present when {@code state == DECIDED}
 * @param ended an END record followed the decision
 * @param onePhaseParticipant present when {@code state == ONE_PHASE_PENDING}
 */
public record DecisionStatus(
    TxId txId,
    State state,
    Optional<DecisionRecord> decision,
    boolean ended,
    Optional<ParticipantRef> onePhaseParticipant) {

  public enum State {
    /** A decision stands (the first one appended). */
    DECIDED,
    /** Delegated by one-phase commit; the outcome is the only participant's, not yet logged. */
    ONE_PHASE_PENDING,
    /** No record: nothing was decided (yet). Not a presumed abort by itself. */
    NONE,
    /** Older than the forget horizon: whatever happened was ended and dropped. */
    FORGOTTEN
  }

  public DecisionStatus {
    if ((state == State.DECIDED) != decision.isPresent()) {
      throw new IllegalArgumentException("a decision is present exactly when DECIDED");
    }
    if ((state == State.ONE_PHASE_PENDING) != onePhaseParticipant.isPresent()) {
      throw new IllegalArgumentException("a participant is present exactly when ONE_PHASE_PENDING");
    }
  }
}
