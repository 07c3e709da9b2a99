package io.decree.core.coordinator;

/** A transaction's life at the coordinator. Legal moves are listed in {@link #canMoveTo}. */
public enum TxPhase {
  /** Begun; participants enlist. Nothing durable exists for it. */
  ACTIVE,
  /** Phase 1: prepares are out, votes arrive. Nothing durable exists for it. */
  PREPARING,
  /** The only participant is asked to decide; the delegation record is being made durable. */
  DELEGATING,
  /** The delegation is durable; waiting for the participant's one-phase outcome. */
  ONE_PHASE,
  /** A decision record was appended; waiting for it to be durable (or retrying after a failure). */
  DECIDING,
  /** COMMIT is durable; phase 2 runs until every participant acknowledged. */
  COMMITTING,
  /** ABORT is decided; phase 2 runs until every participant acknowledged. */
  ABORTING,
  /** Every participant acknowledged; kept for status queries until the retention window ends. */
  ENDED;

  boolean canMoveTo(TxPhase next) {
    return switch (this) {
      case ACTIVE -> next == PREPARING || next == DELEGATING || next == DECIDING || next == ENDED;
      case PREPARING -> next == DECIDING;
      case DELEGATING -> next == ONE_PHASE || next == DECIDING;
      // ONE_PHASE -> ENDED: the participant no longer remembers the outcome (see CoordinatorCore).
      case ONE_PHASE -> next == DECIDING || next == COMMITTING || next == ABORTING || next == ENDED;
      case DECIDING -> next == COMMITTING || next == ABORTING;
      case COMMITTING, ABORTING -> next == ENDED;
      case ENDED -> false;
    };
  }

  /** Undecided phases hold only in-memory state, which a lost leadership or a crash drops. */
  public boolean undecided() {
    return switch (this) {
      case ACTIVE, PREPARING, DELEGATING, ONE_PHASE, DECIDING -> true;
      case COMMITTING, ABORTING, ENDED -> false;
    };
  }
}
