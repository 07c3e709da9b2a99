package io.decree.wal;

/**
 * Another process (or another WAL in this process) owns the directory. The message names the
 * holder.
 */
public class WalLockedException extends WalException {
  private static final long serialVersionUID = 1L;

  public WalLockedException(String message) {
    super(message);
  }

  public WalLockedException(String message, Throwable cause) {
    super(message, cause);
  }
}
