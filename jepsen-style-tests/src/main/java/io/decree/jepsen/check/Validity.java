package io.decree.jepsen.check;

/** A checker's answer. UNKNOWN: the run gave it too little to judge (not a pass). */
public enum Validity {
  VALID,
  INVALID,
  UNKNOWN;

  /** INVALID beats UNKNOWN beats VALID. */
  public Validity and(Validity other) {
    if (this == INVALID || other == INVALID) {
      return INVALID;
    }
    if (this == UNKNOWN || other == UNKNOWN) {
      return UNKNOWN;
    }
    return VALID;
  }

  /** The exit code of {@code decree jepsen}: 0 valid, 1 invalid, 2 unknown. */
  public int exitCode() {
    return switch (this) {
      case VALID -> 0;
      case INVALID -> 1;
      case UNKNOWN -> 2;
    };
  }
}
