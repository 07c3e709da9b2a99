package io.decree.wal;

/** Base of every failure the WAL reports; the subtypes say what the caller can do about it. */
public class WalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WalException(String message) {
    super(message);
  }

  public WalException(String message, Throwable cause) {
    super(message, cause);
  }
}
