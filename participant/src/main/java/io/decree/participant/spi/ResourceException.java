package io.decree.participant.spi;

/**
 * A resource could not do what was asked. {@code retryable} tells the runtime whether to try again
 * later (a lost database connection) or give up on the branch (a constraint violation in prepare).
 */
public class ResourceException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean retryable;

  public ResourceException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  public ResourceException(String message, boolean retryable) {
    this(message, retryable, null);
  }

  public boolean retryable() {
    return retryable;
  }
}
