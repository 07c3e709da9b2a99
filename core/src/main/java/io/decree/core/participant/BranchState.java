package io.decree.core.participant;

/** A branch's life at its participant. Legal moves are listed in {@link #canMoveTo}. */
public enum BranchState {
  /** Work under way; may still be aborted unilaterally (nobody has its YES). */
  ACTIVE,
  /** The resource is preparing. */
  PREPARING,
  /** Voted YES; the vote record is being made durable. Nothing has been sent yet. */
  LOGGING_VOTE,
  /** The YES is durable and sent. Only the decision may move the branch now (stable vote). */
  PREPARED,
  /** The decision arrived; its record is being made durable. */
  LOGGING_DECISION,
  /** The decision is durable here; the resource is applying it. */
  APPLYING,
  COMMITTED,
  ABORTED,
  /** Voted READ_ONLY: nothing to commit, out of phase 2. */
  READ_ONLY;

  boolean canMoveTo(BranchState next) {
    return switch (this) {
      case ACTIVE -> next == PREPARING || next == ABORTED;
      case PREPARING ->
          next == LOGGING_VOTE
              || next == LOGGING_DECISION
              || next == ABORTED
              || next == READ_ONLY
              || next == COMMITTED;
      case LOGGING_VOTE -> next == PREPARED || next == ABORTED || next == LOGGING_DECISION;
      case PREPARED -> next == LOGGING_DECISION;
      case LOGGING_DECISION -> next == APPLYING || next == PREPARED || next == ABORTED;
      case APPLYING -> next == COMMITTED || next == ABORTED;
      case COMMITTED, ABORTED, READ_ONLY -> false;
    };
  }

  /** Holds a durable YES without a finished decision: the branch cannot move on its own. */
  public boolean inDoubt() {
    return this == PREPARED || this == LOGGING_DECISION;
  }

  public boolean finished() {
    return this == COMMITTED || this == ABORTED || this == READ_ONLY;
  }
}
