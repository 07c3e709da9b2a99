package io.decree.core.participant;

import io.decree.core.Blocking;
import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.ProtocolViolation;
import io.decree.core.TxId;
import io.decree.core.Vote;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One branch's state at its participant. Owned by the core's single thread. */
final class Branch {
  final TxId txId;
  private BranchState state;
  long stateSinceMillis;
  long activeDeadlineMillis;
  List<ParticipantRef> peers = List.of();
  byte[] branchData = new byte[0];
  Vote vote;
  boolean onePhase;

  /** The decision, once received (durable at the coordinator, or made here for one-phase). */
  Decision decision;

  /** An ABORT arrived while the resource was still preparing; apply it when prepare returns. */
  boolean abortWhenPrepared;

  /** An operator forced the outcome in {@link #decision} (a heuristic decision). */
  boolean heuristic;

  String heuristicReason = "";
  long heuristicAtMillis;

  /** For a heuristic branch: the transaction's real decision, once learned; null until then. */
  Decision realDecision;

  /** For a heuristic branch: why the real decision cannot be learned, or empty. */
  String realDecisionNote = "";

  /** For a heuristic branch: when to ask the coordinator for the real decision next. */
  long nextConfirmMillis;

  int confirmAttempts;

  /** An operator waits for the heuristic record to be durable. */
  boolean operatorWaiting;

  long finishedAtMillis;
  int inquiries;
  long nextInquiryMillis;
  String lastAnswer = "";

  /**
   * The records appended for this branch, in order: what a checkpoint keeps of it, so that
   * replaying a checkpoint rebuilds the branch as replaying the whole log would.
   */
  final List<ParticipantRecord> records = new ArrayList<>(3);

  /** Last exchange with the coordinator and each peer, for the blocking report. */
  final Map<String, Blocking.Contact> contacts = new LinkedHashMap<>();

  Branch(TxId txId, BranchState initial, long nowMillis, long activeDeadlineMillis) {
    this.txId = txId;
    this.state = initial;
    this.stateSinceMillis = nowMillis;
    this.activeDeadlineMillis = activeDeadlineMillis;
  }

  BranchState state() {
    return state;
  }

  void transitionTo(BranchState next, long nowMillis) {
    if (!state.canMoveTo(next)) {
      throw new ProtocolViolation("branch " + txId + ": illegal move " + state + " -> " + next);
    }
    state = next;
    stateSinceMillis = nowMillis;
    if (next.finished()) {
      finishedAtMillis = nowMillis;
    }
  }

  void attempted(String party, long nowMillis) {
    Blocking.Contact c = contacts.get(party);
    contacts.put(
        party,
        new Blocking.Contact(
            party,
            c == null ? 0 : c.lastSuccessMillis(),
            nowMillis,
            c == null ? "" : c.lastError()));
  }

  void heardFrom(String party, long nowMillis) {
    Blocking.Contact c = contacts.get(party);
    contacts.put(
        party, new Blocking.Contact(party, nowMillis, c == null ? 0 : c.lastAttemptMillis(), ""));
  }

  void failedToReach(String party, String error) {
    Blocking.Contact c = contacts.get(party);
    contacts.put(
        party,
        new Blocking.Contact(
            party,
            c == null ? 0 : c.lastSuccessMillis(),
            c == null ? 0 : c.lastAttemptMillis(),
            error));
  }
}
