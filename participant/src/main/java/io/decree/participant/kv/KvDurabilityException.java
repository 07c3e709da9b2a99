package io.decree.participant.kv;

/**
 * A commit record could not be shown durable (the WAL failed, or did not confirm the sync in time).
 * The outcome of that commit is unknown: the record may still become durable. The branch keeps its
 * locks and stays committing; only a retried commit may finish it, never a rollback.
 */
public final class KvDurabilityException extends KvException {
  private static final long serialVersionUID = 1L;

  public KvDurabilityException(String message, Throwable cause) {
    super(message, cause);
  }
}
