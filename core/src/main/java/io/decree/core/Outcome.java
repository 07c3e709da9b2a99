package io.decree.core;

/**
 * What anyone is told about a transaction. COMMITTED and ABORTED are definite: only said when
 * durable. UNKNOWN is said whenever the speaker cannot prove a definite answer.
 */
public enum Outcome {
  COMMITTED,
  ABORTED,
  UNKNOWN;

  public boolean definite() {
    return this != UNKNOWN;
  }
}
