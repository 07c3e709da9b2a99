package io.decree.participant.kv;

/** A configured limit would be exceeded; nothing was changed. The message names the limit. */
public final class KvLimitException extends KvException {
  private static final long serialVersionUID = 1L;
  private final String limit;
  private final long max;

  public KvLimitException(String limit, long max, String message) {
    super(message);
    this.limit = limit;
    this.max = max;
  }

  /** The name of the {@link KvConfig} field, e.g. {@code "branchesMax"}. */
  public String limit() {
    return limit;
  }

  public long max() {
    return max;
  }
}
