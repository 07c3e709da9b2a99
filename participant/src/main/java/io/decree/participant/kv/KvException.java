package io.decree.participant.kv;

/**
 * Base of every failure the key-value store reports to a caller. The subtypes say what the caller
 * can do about it; a plain {@code KvException} is an unexpected condition such as an interrupted
 * wait or a closed store.
 */
public class KvException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KvException(String message) {
    super(message);
  }

  public KvException(String message, Throwable cause) {
    super(message, cause);
  }
}
