package io.decree.participant.kv;

/**
 * The store was opened but {@link KvResourceManager#recover} has not run yet, so it cannot tell
 * in-doubt keys from free ones, nor a lost branch from one the runtime's log holds prepared. Retry
 * once recovery is done.
 */
public final class KvNotRecoveredException extends KvException {
  private static final long serialVersionUID = 1L;

  public KvNotRecoveredException(String message) {
    super(message);
  }
}
