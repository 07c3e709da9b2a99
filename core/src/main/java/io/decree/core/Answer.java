package io.decree.core;

/**
 * An outcome with the reason a person needs when it is UNKNOWN.
 *
 * @param reason empty for plain definite answers
 */
public record Answer(TxId txId, Outcome outcome, String reason) {
  public static Answer of(TxId txId, Decision decision) {
    return new Answer(txId, decision.outcome(), "");
  }

  public static Answer unknown(TxId txId, String reason) {
    return new Answer(txId, Outcome.UNKNOWN, reason);
  }
}
