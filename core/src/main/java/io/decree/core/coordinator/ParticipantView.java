package io.decree.core.coordinator;

import io.decree.core.Blocking;
import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.Vote;

/**
 * A participant's progress in a transaction, for status and admin views.
 *
 * @param vote null until it voted
 * @param heuristic the outcome an operator forced there, as the participant reported it; null if
 *     none
 * @param alarm the forced outcome differs from the durable decision (heuristic-mixed): phase 2
 *     stops retrying this participant and the transaction does not end until an operator acts
 */
public record ParticipantView(
    ParticipantRef participant,
    Vote vote,
    boolean acknowledged,
    Blocking.Contact contact,
    Decision heuristic,
    boolean alarm) {}
