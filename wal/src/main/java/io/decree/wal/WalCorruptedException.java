package io.decree.wal;

/**
 * A record before the tail failed validation: the log cannot be trusted and refuses to open. The
 * message names the file and position.
 */
public class WalCorruptedException extends WalException {
  private static final long serialVersionUID = 1L;

  public WalCorruptedException(String message) {
    super(message);
  }

  public WalCorruptedException(String message, Throwable cause) {
    super(message, cause);
  }
}
