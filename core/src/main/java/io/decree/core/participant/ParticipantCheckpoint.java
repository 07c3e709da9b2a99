package io.decree.core.participant;

import java.util.List;

/**
 * A participant's durable state in a form a log can hold instead of its history: the records of
 * every branch still remembered, and the horizon below which branches were forgotten.
 *
 * @param forgottenBeforeMillis branches of transactions created before this were finished and
 *     forgotten (a question about one answers UNKNOWN)
 * @param records each remembered branch's records, in the order they were appended
 */
public record ParticipantCheckpoint(long forgottenBeforeMillis, List<ParticipantRecord> records) {
  public ParticipantCheckpoint {
    records = List.copyOf(records);
  }
}
