package io.decree.cli.admin;

import io.decree.proto.v1.TransactionSummary;
import io.decree.proto.v1.TxState;

/** What counts as a problem an operator should look at (exit code 1). */
final class Problems {
  private Problems() {}

  /**
   * Some participant holds a prepared branch that does not know the decision yet, as the
   * coordinator sees it: the decision is being made durable, or phase 2 waits for acks.
   */
  static boolean inDoubt(TransactionSummary s) {
    return s.getState() == TxState.DECIDING
        || ((s.getState() == TxState.COMMITTING || s.getState() == TxState.ABORTING)
            && s.hasBlocking())
        || s.getHeuristicAlarm();
  }

  /** Waiting on someone who did not answer: retried, or an error on the last attempt. */
  static boolean blocked(TransactionSummary s) {
    if (s.getHeuristicAlarm()) {
      return true;
    }
    if (!s.hasBlocking()) {
      return false;
    }
    return s.getBlocking().getRetries() >= 1
        || s.getBlocking().getContactsList().stream().anyMatch(c -> !c.getLastError().isEmpty());
  }
}
