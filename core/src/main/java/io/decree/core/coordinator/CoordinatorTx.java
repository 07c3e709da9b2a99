package io.decree.core.coordinator;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.ProtocolViolation;
import io.decree.core.TxId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One transaction's state at the coordinator. Owned by the core's single thread. */
final class CoordinatorTx {
  private static final int TIMELINE_MAX = 32;

  final TxId id;
  final String idempotencyKey;
  final long deadlineMillis;
  private TxPhase phase;
  long phaseSinceMillis;
  final Map<String, ParticipantProgress> participants = new LinkedHashMap<>();

  /** The decision this node proposed or learned; durable only once {@link #decisionDurable}. */
  Decision decision;

  boolean decisionDurable;
  long decisionDurableMillis;

  /** The last decision append failed: the record may or may not be on disk. */
  String decisionUncertainReason = "";

  /** Begun by a client that names the participants with its commit. */
  boolean participantsNamedAtCommit;

  /** Why this node aborted it (in memory only: a decision replayed from the log has none). */
  String abortReason = "";

  int decisionAttempts;
  long decisionRetryMillis;
  long prepareDeadlineMillis;
  long endedAtMillis;

  /** Calls waiting for the decision, and calls waiting for phase 2 to end. */
  final List<Long> decisionWaiters = new ArrayList<>();

  final List<Long> endWaiters = new ArrayList<>();

  /** Prepared participants that asked for the decision and wait for the answer. */
  final List<ParticipantRef> inquirers = new ArrayList<>();

  private final Deque<TxView.TimelineEvent> timeline = new ArrayDeque<>();

  CoordinatorTx(TxId id, String idempotencyKey, long deadlineMillis, long nowMillis) {
    this.id = id;
    this.idempotencyKey = idempotencyKey;
    this.deadlineMillis = deadlineMillis;
    this.phase = TxPhase.ACTIVE;
    this.phaseSinceMillis = nowMillis;
  }

  TxPhase phase() {
    return phase;
  }

  /** Moves to {@code next}; an illegal edge is a bug and stops the node. */
  void transitionTo(TxPhase next, long nowMillis) {
    if (!phase.canMoveTo(next)) {
      throw new ProtocolViolation("transaction " + id + ": illegal move " + phase + " -> " + next);
    }
    phase = next;
    phaseSinceMillis = nowMillis;
    event(nowMillis, "phase " + next);
  }

  void event(long nowMillis, String what) {
    if (timeline.size() == TIMELINE_MAX) {
      timeline.removeFirst();
    }
    timeline.addLast(new TxView.TimelineEvent(nowMillis, what));
  }

  List<TxView.TimelineEvent> timeline() {
    return List.copyOf(timeline);
  }

  Collection<ParticipantProgress> progress() {
    return participants.values();
  }

  List<ParticipantRef> refs() {
    List<ParticipantRef> refs = new ArrayList<>(participants.size());
    participants.values().forEach(p -> refs.add(p.ref));
    return refs;
  }

  boolean allAcknowledged() {
    return participants.values().stream().allMatch(p -> p.acknowledged);
  }

  /** The durable decision, or null while undecided. */
  Decision durableDecision() {
    return decisionDurable ? decision : null;
  }

  boolean alarm() {
    Decision d = durableDecision();
    return participants.values().stream().anyMatch(p -> p.alarm(d));
  }
}
