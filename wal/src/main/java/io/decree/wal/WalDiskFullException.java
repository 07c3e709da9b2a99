package io.decree.wal;

/** The file store has less usable space than the configured reserve; nothing was written. */
public class WalDiskFullException extends WalException {
  private static final long serialVersionUID = 1L;

  public WalDiskFullException(String message) {
    super(message);
  }

  public WalDiskFullException(String message, Throwable cause) {
    super(message, cause);
  }
}
