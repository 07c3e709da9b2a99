package io.decree.core.coordinator;

import io.decree.core.Blocking;
import io.decree.core.ParticipantRef;
import io.decree.core.Vote;

/**
 * A participant's progress in a transaction, for status and admin views.
 *
 * @param vote null until it voted
 */
public record ParticipantView(
    ParticipantRef participant, Vote vote, boolean acknowledged, Blocking.Contact contact) {}
