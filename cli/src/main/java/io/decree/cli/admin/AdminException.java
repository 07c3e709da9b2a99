package io.decree.cli.admin;

/**
 * An expected failure of an admin command, with its exit code: printed as one line (no stack trace
 * unless {@code --verbose}).
 */
public final class AdminException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Exit code for usage and connection errors. */
  public static final int USAGE_OR_CONNECTION = 2;

  /** Exit code when the command worked and found problems (in doubt, alarms, refused). */
  public static final int PROBLEMS = 1;

  private final int exitCode;

  public AdminException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public AdminException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
