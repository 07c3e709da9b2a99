package io.decree.participant.kv;

import java.util.HashSet;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One transaction's work in this store. Every field is guarded by the branch's own monitor ({@code
 * synchronized (branch)}); the store never waits for a key lock while holding it during business
 * work, only in commit/recover of an adopted branch, which nobody else works on.
 */
final class Branch {
  final String txId;
  private BranchState state;

  /** Buffered writes, applied on commit. Sorted: the encoding and lock order are deterministic. */
  final SortedMap<String, Long> writes = new TreeMap<>();

  /** Every key this branch asked to lock, in any mode; counted against keysPerBranchMax. */
  final Set<String> touchedKeys = new HashSet<>();

  /** Adopted after a restart: the write set is known but its exclusive locks are not yet held. */
  boolean exclusiveLocksToRetake;

  /** Why a ROLLBACK_ONLY branch will vote NO. */
  String rollbackReason = "";

  private Branch(String txId, BranchState state) {
    this.txId = txId;
    this.state = state;
  }

  static Branch active(String txId) {
    return new Branch(txId, BranchState.ACTIVE);
  }

  /** A prepared branch rebuilt from the runtime's log; its locks must still be re-taken. */
  static Branch adopted(String txId, SortedMap<String, Long> writes) {
    Branch b = new Branch(txId, BranchState.PREPARED);
    b.writes.putAll(writes);
    b.touchedKeys.addAll(writes.keySet());
    b.exclusiveLocksToRetake = true;
    return b;
  }

  BranchState state() {
    return state;
  }

  /** Moves to {@code next}; an edge the state machine does not have is a bug in the store. */
  void transitionTo(BranchState next) {
    if (!state.canTransitionTo(next)) {
      throw new IllegalStateException(
          "branch " + txId + ": illegal transition " + state + " -> " + next);
    }
    state = next;
  }
}
