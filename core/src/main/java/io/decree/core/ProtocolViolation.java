package io.decree.core;

/**
 * A broken invariant: a state that correct code and a sound log can never reach. The node must stop
 * rather than go on and risk a wrong answer.
 */
public final class ProtocolViolation extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public ProtocolViolation(String message) {
    super(message);
  }
}
