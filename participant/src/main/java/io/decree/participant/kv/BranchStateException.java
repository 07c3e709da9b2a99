package io.decree.participant.kv;

/**
 * The branch is not in a state that allows the call: work under a transaction that is already
 * prepared, rolled back or committed here; a commit of a branch that was rolled back; a rollback of
 * a branch that was committed. Retrying the same call will not help.
 */
public final class BranchStateException extends KvException {
  private static final long serialVersionUID = 1L;

  public BranchStateException(String message) {
    super(message);
  }
}
