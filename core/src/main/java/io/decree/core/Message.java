package io.decree.core;

import java.util.List;

/**
 * Protocol messages between coordinator and participants. Drivers carry them over gRPC (a request
 * and its response become two messages) or over the simulator's network. Every message is safe to
 * deliver twice, late, or never.
 */
public sealed interface Message {
  TxId txId();

  /** Coordinator → participant: phase 1. {@code participants} enables cooperative termination. */
  record Prepare(TxId txId, List<ParticipantRef> participants) implements Message {
    public Prepare {
      participants = List.copyOf(participants);
    }
  }

  /** Participant → coordinator: its vote (a YES is already durable at the sender). */
  record VoteReply(TxId txId, ParticipantRef from, Vote vote, String reason) implements Message {}

  /** Coordinator → participant: phase 2, sent only once the decision is durable. */
  record PhaseTwo(TxId txId, Decision decision) implements Message {}

  /** Participant → coordinator: the branch has durably applied the decision. */
  record Ack(TxId txId, ParticipantRef from, Decision decision) implements Message {}

  /**
   * Coordinator → the only participant: prepare and decide locally. The coordinator has durably
   * recorded that it delegated the decision, so it can ask again after a crash.
   */
  record OnePhaseCommit(TxId txId) implements Message {}

  /** Participant → coordinator: the result of a one-phase commit (definite, or UNKNOWN). */
  record OnePhaseResult(TxId txId, ParticipantRef from, Outcome outcome, String reason)
      implements Message {}

  /**
   * Prepared participant → coordinator: what was decided?
   *
   * @param heuristic null, or the outcome an operator forced on the asking branch (a heuristic
   *     decision): the coordinator compares it with the decision and raises an alarm if they differ
   */
  record Inquiry(TxId txId, ParticipantRef from, Decision heuristic) implements Message {
    public Inquiry(TxId txId, ParticipantRef from) {
      this(txId, from, null);
    }
  }

  /**
   * Participant → peer (cooperative termination), or coordinator → delegated participant: what do
   * you know? A receiver that has not voted YES aborts its branch and answers ABORTED.
   */
  record OutcomeQuery(TxId txId, Peer from) implements Message {}

  /** Answer to {@link Inquiry} or {@link OutcomeQuery}. */
  record OutcomeReply(TxId txId, Peer from, Outcome outcome, String reason) implements Message {}
}
