package io.decree.coordinator.log;

import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.HorizonRecord;
import io.decree.wal.WriteAheadLog;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The single-node decision log on a local write-ahead log (group commit, CRC-checked records).
 * First-decision-wins is kept by an index of the decisions appended so far, rebuilt from the log at
 * recovery; the index forgets what the core's horizon forgets.
 */
public final class WalDecisionLog implements DecisionLog {
  /** A logged decision and the future that completes when that record is durable. */
  private record Logged(DecisionRecord record, CompletableFuture<DecisionRecord> durable) {}

  private final WriteAheadLog wal;

  /**
   * Guarded by the caller's single thread (the coordinator loop). Ordered by id, i.e. by creation
   * time first, so that a horizon drops a prefix instead of scanning every remembered decision.
   */
  private final NavigableMap<TxId, Logged> decisions = new TreeMap<>();

  public WalDecisionLog(WriteAheadLog wal) {
    this.wal = wal;
  }

  @Override
  public List<CoordinatorRecord> recover() {
    List<CoordinatorRecord> records = new ArrayList<>();
    wal.replay(r -> records.add(CoordinatorRecordCodec.decode(r.type(), r.payload())));
    for (CoordinatorRecord r : records) {
      if (r instanceof DecisionRecord d) {
        decisions.putIfAbsent(d.txId(), new Logged(d, CompletableFuture.completedFuture(d)));
      }
    }
    return records;
  }

  @Override
  public CompletableFuture<DecisionRecord> appendDecision(DecisionRecord decision) {
    Logged first = decisions.get(decision.txId());
    if (first != null && !first.durable.isCompletedExceptionally()) {
      return first.durable; // the first decision stands; report it once it is durable
    }
    // No decision yet, or the earlier append failed (it may or may not be on disk): append
    // again. Recovery keeps the first copy that reached the disk, and a retry proposes the same.
    DecisionRecord stands = first == null ? decision : first.record;
    CompletableFuture<DecisionRecord> durable =
        wal.append(CoordinatorRecordCodec.DECISION, CoordinatorRecordCodec.encode(stands))
            .thenApply(position -> stands);
    decisions.put(decision.txId(), new Logged(stands, durable));
    return durable;
  }

  @Override
  public CompletableFuture<Void> append(CoordinatorRecord record) {
    if (record instanceof HorizonRecord h) {
      decisions.headMap(TxId.firstCreatedAt(h.createdBeforeMillis()), false).clear();
    }
    return wal.append(CoordinatorRecordCodec.type(record), CoordinatorRecordCodec.encode(record))
        .thenApply(position -> null);
  }

  @Override
  public void close() {
    wal.close();
  }
}
