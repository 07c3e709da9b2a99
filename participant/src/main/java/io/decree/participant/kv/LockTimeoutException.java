package io.decree.participant.kv;

/**
 * A lock wait ran out of time. This is also how a deadlock ends: the store does not detect cycles,
 * every waiter gives up after {@link KvConfig#lockTimeoutMillis()}. During business work the branch
 * becomes rollback-only (its locks are released at once, so the other side of a deadlock can go
 * on); roll it back and retry the whole transaction.
 */
public final class LockTimeoutException extends KvException {
  private static final long serialVersionUID = 1L;
  private final String txId;
  private final String key;
  private final long timeoutMillis;

  public LockTimeoutException(String message, String txId, String key, long timeoutMillis) {
    super(message);
    this.txId = txId;
    this.key = key;
    this.timeoutMillis = timeoutMillis;
  }

  /** The branch that waited. */
  public String txId() {
    return txId;
  }

  /** The key it waited for. */
  public String key() {
    return key;
  }

  public long timeoutMillis() {
    return timeoutMillis;
  }
}
