package io.decree.core.participant;

import io.decree.core.TxId;

/**
 * The participant's answer to an operator who forces a branch's outcome. A FORCED answer is given
 * only after the heuristic record is durable (persist before send).
 *
 * @param message for the operator to read: what was done, or why not
 */
public record OperatorReply(TxId txId, Kind kind, String message) {
  /** What became of the request. */
  public enum Kind {
    /** The outcome is recorded durably as heuristic and is being applied. */
    FORCED,
    /** The branch already has this outcome (forced earlier or learned); nothing new recorded. */
    ALREADY,
    /** The branch cannot take this outcome (it knows the other one, or it is not in doubt). */
    REFUSED,
    /** No branch with this id here (never seen, or finished and forgotten). */
    NOT_FOUND
  }
}
