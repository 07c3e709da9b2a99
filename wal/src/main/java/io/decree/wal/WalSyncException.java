package io.decree.wal;

/**
 * A sync failed. Every record not yet acknowledged failed with it, and the WAL accepts no more
 * appends: after a failed fsync the page cache can no longer be trusted.
 */
public class WalSyncException extends WalException {
  private static final long serialVersionUID = 1L;

  public WalSyncException(String message) {
    super(message);
  }

  public WalSyncException(String message, Throwable cause) {
    super(message, cause);
  }
}
