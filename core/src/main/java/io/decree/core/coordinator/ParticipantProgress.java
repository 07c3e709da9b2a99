package io.decree.core.coordinator;

import io.decree.core.Blocking;
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

  ParticipantView view() {
    return new ParticipantView(ref, vote, acknowledged, contact());
  }
}
