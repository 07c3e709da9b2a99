package io.decree.core;

/** The one decision a transaction gets. The first one appended to the decision log wins. */
public enum Decision {
  COMMIT,
  ABORT;

  public Outcome outcome() {
    return switch (this) {
      case COMMIT -> Outcome.COMMITTED;
      case ABORT -> Outcome.ABORTED;
    };
  }
}
