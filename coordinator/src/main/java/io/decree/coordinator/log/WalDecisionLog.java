package io.decree.coordinator.log;

import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.HorizonRecord;
import io.decree.wal.WalCheckpoints;
import io.decree.wal.WalRecord;
import io.decree.wal.WriteAheadLog;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-node decision log on a local write-ahead log (group commit, CRC-checked records).
 * First-decision-wins is kept by an index of the decisions appended so far, rebuilt from the log at
 * recovery; the index forgets what the core's horizon forgets.
 *
 * <p><b>Checkpoints keep the log bounded.</b> Every record also goes into a {@link DecisionState}
 * (the same state a cluster replicates: decisions, ENDs, one-phase delegations, the horizon). Every
 * {@code checkpointEveryRecords} records that state is written as a checkpoint ({@link
 * WalCheckpoints}: files before it go once it is durable, recovery starts from the last complete
 * one). The core recovers from {@link DecisionState#recoveryRecords()}, as a new cluster leader
 * does.
 */
public final class WalDecisionLog implements DecisionLog {
  private static final Logger log = LoggerFactory.getLogger(WalDecisionLog.class);

  /** Records between checkpoints by default: a few minutes of a busy node. */
  public static final int CHECKPOINT_EVERY_RECORDS_DEFAULT = 500_000;

  /** A logged decision and the future that completes when that record is durable. */
  private record Logged(DecisionRecord record, CompletableFuture<DecisionRecord> durable) {}

  private final WriteAheadLog wal;
  private final int checkpointEveryRecords;

  /**
   * Guarded by the caller's single thread (the coordinator loop). Ordered by id, i.e. by creation
   * time first, so that a horizon drops a prefix instead of scanning every remembered decision.
   */
  private final NavigableMap<TxId, Logged> decisions = new TreeMap<>();

  /** What the records appended so far say; written out by each checkpoint. Loop thread only. */
  private DecisionState state = new DecisionState();

  private int recordsSinceCheckpoint;

  private final WalCheckpoints checkpoints;

  public WalDecisionLog(WriteAheadLog wal) {
    this(wal, CHECKPOINT_EVERY_RECORDS_DEFAULT);
  }

  /**
   * @param checkpointEveryRecords records between two checkpoints (> 0)
   */
  public WalDecisionLog(WriteAheadLog wal, int checkpointEveryRecords) {
    if (checkpointEveryRecords <= 0) {
      throw new IllegalArgumentException(
          "checkpointEveryRecords must be > 0, was " + checkpointEveryRecords);
    }
    this.wal = wal;
    this.checkpointEveryRecords = checkpointEveryRecords;
    this.checkpoints = new WalCheckpoints(wal, "decision log");
  }

  @Override
  public List<CoordinatorRecord> recover() {
    Replay replay = new Replay();
    wal.replay(replay::accept);
    state = replay.state;
    recordsSinceCheckpoint = (int) Math.min(Integer.MAX_VALUE, replay.liveSinceCheckpoint);
    List<CoordinatorRecord> records = state.recoveryRecords();
    for (CoordinatorRecord r : records) {
      if (r instanceof DecisionRecord d) {
        decisions.putIfAbsent(d.txId(), new Logged(d, CompletableFuture.completedFuture(d)));
      }
    }
    log.info(
        "decision log: {} records replayed ({} in checkpoints{}), {} transactions held",
        replay.records,
        replay.checkpoints.checkpointRecords(),
        replay.checkpoints.complete() == 0 ? ", none complete" : ", the last complete one used",
        state.size());
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
    appended(stands);
    return durable;
  }

  @Override
  public CompletableFuture<Void> append(CoordinatorRecord record) {
    if (record instanceof HorizonRecord h) {
      decisions.headMap(TxId.firstCreatedAt(h.createdBeforeMillis()), false).clear();
    }
    int type = CoordinatorRecordCodec.type(record);
    byte[] payload = CoordinatorRecordCodec.encode(record);
    CompletableFuture<Void> durable =
        (record.awaitsDurability() ? wal.append(type, payload) : wal.appendLazily(type, payload))
            .thenApply(position -> null);
    appended(record);
    return durable;
  }

  /**
   * A record went to the WAL: the state follows it (a record whose append fails may or may not be
   * on disk; the state, like recovery, takes it as written), and a checkpoint follows when due.
   */
  private void appended(CoordinatorRecord record) {
    state.apply(record);
    if (++recordsSinceCheckpoint >= checkpointEveryRecords) {
      checkpoint();
    }
  }

  /** Writes the state as a checkpoint ({@link WalCheckpoints}). Loop thread. */
  private void checkpoint() {
    recordsSinceCheckpoint = 0;
    checkpoints.write(state.toSnapshot());
  }

  @Override
  public void close() {
    wal.close();
  }

  /** Rebuilds the state from what is left of the log; see the class comment. */
  private static final class Replay {
    DecisionState state = new DecisionState();
    long records;

    /** Records since the last complete checkpoint (all of them without one): due for the next. */
    long liveSinceCheckpoint;

    // Everything before a complete checkpoint is in it; what the log still holds of that may be
    // partial (retention), so the state is replaced, not merged.
    final WalCheckpoints.Reader checkpoints =
        new WalCheckpoints.Reader(
            snapshot -> {
              state = DecisionState.fromSnapshot(snapshot);
              liveSinceCheckpoint = 0;
            });

    void accept(WalRecord r) {
      records++;
      if (!checkpoints.accept(r)) {
        state.apply(CoordinatorRecordCodec.decode(r.type(), r.payload()));
        liveSinceCheckpoint++;
      }
    }
  }
}
