package io.decree.core.participant;

import io.decree.core.TxId;

/**
 * An effect for the driver: call the resource manager, then report back with {@link
 * ParticipantCore#onResourcePrepared} or {@link ParticipantCore#onResourceApplied}.
 */
public sealed interface ResourceCall {
  TxId txId();

  record Prepare(TxId txId) implements ResourceCall {}

  record Commit(TxId txId, byte[] branchData) implements ResourceCall {}

  /**
   * @param branchData empty when the branch never prepared
   */
  record Rollback(TxId txId, byte[] branchData) implements ResourceCall {}
}
