package io.decree.coordinator.log;

import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the coordinator's decisions become durable: a local WAL for a single node, a replicated log
 * for a cluster. Both keep the first decision per transaction: appending the other decision later
 * completes with the one that stands.
 *
 * <p>Called from inside the coordinator's loop, one thread at a time; futures complete on any
 * thread.
 */
public interface DecisionLog extends AutoCloseable {

  /** Every record in append order, for recovery. Called once, before any append. */
  List<CoordinatorRecord> recover();

  /**
   * Appends a decision unless one is already logged for the transaction; completes with the
   * decision that stands once it is durable. Fails when durability cannot be confirmed: the record
   * may or may not be on disk then.
   */
  CompletableFuture<DecisionRecord> appendDecision(DecisionRecord decision);

  /** Appends any other record; completes once durable. */
  CompletableFuture<Void> append(CoordinatorRecord record);

  @Override
  void close();
}
