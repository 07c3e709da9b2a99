package io.decree.participant;

import io.grpc.Status;

/**
 * A call to the coordinator failed without an outcome to report: {@code begin} found no
 * coordinator, or a request was refused (bad id, limit reached). Commit, rollback and status never
 * throw this for transport trouble: they answer UNKNOWN with the reason instead.
 */
public final class DecreeException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final Status.Code code;

  public DecreeException(Status.Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** The gRPC status code the coordinator (or the transport) gave. */
  public Status.Code code() {
    return code;
  }
}
