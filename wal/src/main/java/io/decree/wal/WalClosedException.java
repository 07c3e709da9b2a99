package io.decree.wal;

/** The WAL was closed (or, for the fake, crashed) before the record was synced. */
public class WalClosedException extends WalException {
  private static final long serialVersionUID = 1L;

  public WalClosedException(String message) {
    super(message);
  }

  public WalClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
