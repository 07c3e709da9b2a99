package io.decree.cluster;

/**
 * An append or read the replicated log could not confirm. Expected under faults; the caller answers
 * UNKNOWN and retries. After {@link Reason#NO_QUORUM} the record may or may not be durable: the
 * first-decision-wins rule makes a retry safe.
 */
public final class ClusterUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the cluster could not confirm. */
  public enum Reason {
    /** Not acknowledged by a majority within the deadline (or Ratis gave up retrying). */
    NO_QUORUM,
    /** This member does not lead (or is not ready to): only the leader's core appends. */
    NOT_LEADER,
    /** Leadership changed between the call and the append; the record was not applied. */
    LEADERSHIP_CHANGED,
    /** Too many records already wait for the log. */
    OVERLOADED,
    /** The log is closing. */
    CLOSED
  }

  private final Reason reason;

  public ClusterUnavailableException(Reason reason, String message) {
    super(prefix(reason) + message);
    this.reason = reason;
  }

  public ClusterUnavailableException(Reason reason, String message, Throwable cause) {
    super(prefix(reason) + message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  private static String prefix(Reason reason) {
    return switch (reason) {
      case NO_QUORUM -> "no coordinator quorum: ";
      case NOT_LEADER -> "not the coordinator leader: ";
      case LEADERSHIP_CHANGED -> "coordinator leadership changed: ";
      case OVERLOADED -> "decision log overloaded: ";
      case CLOSED -> "decision log closed: ";
    };
  }
}
