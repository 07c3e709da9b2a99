package io.decree.core.participant;

import io.decree.core.Blocking;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.Vote;
import java.util.List;

/**
 * A read-only picture of one branch, for status and admin views.
 *
 * @param vote null before the branch voted
 * @param blocking null unless the branch is in doubt
 */
public record BranchView(
    TxId txId,
    BranchState state,
    long stateSinceMillis,
    Vote vote,
    List<ParticipantRef> peers,
    Blocking blocking) {
  public BranchView {
    peers = List.copyOf(peers);
  }
}
