package io.decree.core.coordinator;

import io.decree.core.Answer;
import io.decree.core.TxId;

/** The coordinator's answer to one call (begin, enlist, commit, rollback, status). */
public sealed interface ClientReply {

  record Began(TxId txId, long deadlineMillis) implements ClientReply {}

  /**
   * @param deadlineMillis when the transaction is aborted unless commit has begun
   */
  record Enlisted(TxId txId, long deadlineMillis) implements ClientReply {}

  record Answered(Answer answer, TxPhase phase) implements ClientReply {}

  /** The call was refused; nothing changed. */
  record Rejected(Rejection kind, String message) implements ClientReply {}

  /** Why a call was refused; drivers map each to a gRPC status code. */
  enum Rejection {
    INVALID_ARGUMENT,
    NOT_FOUND,
    FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE
  }
}
