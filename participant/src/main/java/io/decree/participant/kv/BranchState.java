package io.decree.participant.kv;

/** Where one branch stands in this store. Terminal states leave the branch table at once. */
enum BranchState {
  /** Doing business work: taking locks, buffering writes. */
  ACTIVE,
  /** A lock wait failed: locks released, writes dropped; the only way on is rollback (vote NO). */
  ROLLBACK_ONLY,
  /** Voted YES (or adopted from the runtime's log): exclusive locks held until the decision. */
  PREPARED,
  /**
   * Its commit record was handed to the WAL. If that was not confirmed the record may still be
   * durable, so from here only commit may finish the branch.
   */
  COMMITTING,
  COMMITTED,
  ROLLED_BACK,
  /** Voted READ_ONLY: locks released, nothing to do in phase 2. */
  READ_ONLY;

  boolean terminal() {
    return switch (this) {
      case COMMITTED, ROLLED_BACK, READ_ONLY -> true;
      case ACTIVE, ROLLBACK_ONLY, PREPARED, COMMITTING -> false;
    };
  }

  boolean canTransitionTo(BranchState next) {
    return switch (this) {
      case ACTIVE ->
          next == ROLLBACK_ONLY
              || next == PREPARED
              || next == COMMITTING // one-phase commit
              || next == ROLLED_BACK
              || next == READ_ONLY;
      case ROLLBACK_ONLY -> next == ROLLED_BACK;
      case PREPARED -> next == COMMITTING || next == ROLLED_BACK;
      case COMMITTING -> next == COMMITTED;
      case COMMITTED, ROLLED_BACK, READ_ONLY -> false;
    };
  }
}
