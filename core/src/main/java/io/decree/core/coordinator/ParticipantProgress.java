package io.decree.core.coordinator;

import io.decree.core.Blocking;
import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.Vote;

/** One participant's part in one transaction, as the coordinator tracks it. */
final class ParticipantProgress {
  final ParticipantRef ref;
  Vote vote;
  boolean acknowledged;
  int attempts;
  long nextRetryMillis;
  long lastAttemptMillis;
  long lastSuccessMillis;
  String lastError = "";

  /**
   * The outcome an operator forced at this participant (heuristic), as it reported it in an ack or
   * an inquiry; null if it reported none.
   */
  Decision heuristic;

  /** The mismatch was written to the timeline once. */
  boolean alarmLogged;

  ParticipantProgress(ParticipantRef ref) {
    this.ref = ref;
  }

  void attempted(long nowMillis, long nextRetryMillis) {
    attempts++;
    lastAttemptMillis = nowMillis;
    this.nextRetryMillis = nextRetryMillis;
  }

  void heardFrom(long nowMillis) {
    lastSuccessMillis = nowMillis;
    lastError = "";
  }

  Blocking.Contact contact() {
    return new Blocking.Contact(ref.name(), lastSuccessMillis, lastAttemptMillis, lastError);
  }

  /** The participant applied a forced outcome other than {@code decision}: heuristic-mixed. */
  boolean alarm(Decision decision) {
    return heuristic != null && decision != null && heuristic != decision;
  }

  ParticipantView view(Decision durableDecision) {
    return new ParticipantView(
        ref, vote, acknowledged, contact(), heuristic, alarm(durableDecision));
  }
}
