package io.decree.cluster;

import io.decree.coordinator.log.DecisionState;
import io.decree.coordinator.log.DecisionStatus;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis state machine whose applied state is the decision log ({@link DecisionState}).
 *
 * <p>Threads: Ratis applies entries, takes snapshots and reloads after a snapshot install on its
 * single state-machine-updater thread; queries come on gRPC threads; {@link #recoveryRecords()}
 * comes from the driver. {@link #lock} guards {@link #state} and keeps the last-applied index in
 * step with it, so a snapshot or a recovery view is always a state at one exact log index.
 */
final class DecisionStateMachine extends BaseStateMachine {
  private static final Logger log = LoggerFactory.getLogger(DecisionStateMachine.class);

  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final Object lock = new Object();

  /** Guarded by {@link #lock}. */
  private DecisionState state = new DecisionState();

  private final AtomicLong appliedBatches = new AtomicLong();
  private final AtomicLong appliedRecords = new AtomicLong();
  private final AtomicLong snapshotsLoaded = new AtomicLong();

  /** Told whenever leadership may have changed; it re-reads the division's role itself. */
  private volatile Runnable roleListener = () -> {};

  void onRoleEvent(Runnable listener) {
    roleListener = listener;
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    getLifeCycle().startAndTransition(() -> load(storage.loadLatestSnapshot()), IOException.class);
  }

  /**
   * Called before a snapshot from the leader replaces this replica's state. Ratis asserts the life
   * cycle is PAUSED before it calls {@link #reinitialize()}; the base class does nothing here, and
   * the install then fails (a known pitfall).
   */
  @Override
  public void pause() {
    LifeCycle lifeCycle = getLifeCycle();
    if (lifeCycle.getCurrentState() == LifeCycle.State.RUNNING) {
      lifeCycle.transition(LifeCycle.State.PAUSING);
      lifeCycle.transition(LifeCycle.State.PAUSED);
    }
  }

  /**
   * Reloads from the newest snapshot on disk (just installed from the leader). {@code
   * loadLatestSnapshot} re-scans the directory: the cached snapshot info is the old one.
   */
  @Override
  public void reinitialize() throws IOException {
    LifeCycle lifeCycle = getLifeCycle();
    if (lifeCycle.getCurrentState() == LifeCycle.State.PAUSED) {
      lifeCycle.startAndTransition(() -> load(storage.loadLatestSnapshot()), IOException.class);
    } else {
      load(storage.loadLatestSnapshot());
    }
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return storage;
  }

  // ---------------------------------------------------------------- writes

  /** Refuses malformed batches on the leader, before they enter the log. */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    TransactionContext trx = super.startTransaction(request);
    try {
      Commands.decodeBatch(request.getMessage().getContent().toByteArray());
    } catch (IllegalArgumentException e) {
      trx.setException(e);
    }
    return trx;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    byte[] bytes = entry.getStateMachineLogEntry().getLogData().toByteArray();
    Commands.Batch batch;
    try {
      batch = Commands.decodeBatch(bytes);
    } catch (IllegalArgumentException e) {
      // startTransaction let only well-formed batches in: this entry is corrupt or from an
      // incompatible build. Applying it partly, or skipping it, would fork the replicas.
      throw new IllegalStateException(
          "committed decision log entry " + TermIndex.valueOf(entry) + " is undecodable", e);
    }
    Commands.BatchReply reply;
    synchronized (lock) {
      if (batch.term() != entry.getTerm()) {
        reply =
            new Commands.BatchReply(Commands.BatchStatus.STALE_TERM, entry.getTerm(), List.of());
      } else {
        List<DecisionState.Result> results = new ArrayList<>(batch.records().size());
        for (CoordinatorRecord record : batch.records()) {
          results.add(state.apply(record));
        }
        reply = new Commands.BatchReply(Commands.BatchStatus.APPLIED, entry.getTerm(), results);
        appliedRecords.addAndGet(batch.records().size());
      }
      appliedBatches.incrementAndGet();
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    }
    return CompletableFuture.completedFuture(
        Message.valueOf(UnsafeByteOperations.unsafeWrap(Commands.encodeBatchReply(reply))));
  }

  /** Entries without state-machine data (leader no-ops, configurations) still move the index. */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    synchronized (lock) {
      super.notifyTermIndexUpdated(term, index);
    }
  }

  // ---------------------------------------------------------------- reads

  /** Answers a status read. Ratis calls it after the ReadIndex round for a linearizable read. */
  @Override
  public CompletableFuture<Message> query(Message request) {
    TxId txId;
    try {
      txId = Commands.decodeRead(request.getContent().toByteArray());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    DecisionStatus status;
    synchronized (lock) {
      status = state.status(txId);
    }
    return CompletableFuture.completedFuture(
        Message.valueOf(UnsafeByteOperations.unsafeWrap(Commands.encodeStatus(status))));
  }

  /** This replica's state as records for {@code CoordinatorCore.onRecover}. */
  List<CoordinatorRecord> recoveryRecords() {
    synchronized (lock) {
      return state.recoveryRecords();
    }
  }

  /** This replica's view of one transaction, without a read-index round (tests, admin). */
  DecisionStatus localStatus(TxId txId) {
    synchronized (lock) {
      return state.status(txId);
    }
  }

  int transactionsHeld() {
    synchronized (lock) {
      return state.size();
    }
  }

  long appliedBatches() {
    return appliedBatches.get();
  }

  long appliedRecords() {
    return appliedRecords.get();
  }

  long snapshotsLoaded() {
    return snapshotsLoaded.get();
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * Writes the state at the last applied index to {@code snapshot.<term>_<index>}: to a temporary
   * file first, forced, then renamed, so a crash never leaves a partial file under a snapshot name.
   * Ratis then may purge the log up to that index.
   */
  @Override
  public long takeSnapshot() throws IOException {
    byte[] bytes;
    TermIndex last;
    synchronized (lock) {
      last = getLastAppliedTermIndex();
      bytes = state.toSnapshot();
    }
    if (last == null || last.getIndex() < 0) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    Path file = storage.getSnapshotFile(last.getTerm(), last.getIndex()).toPath();
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            temporary,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
    Files.move(
        temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file.toFile());
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file, md5), last));
    log.info("decision snapshot at {}: {} bytes", last, bytes.length);
    return last.getIndex();
  }

  private void load(SingleFileSnapshotInfo snapshot) throws IOException {
    if (snapshot == null) {
      return; // a fresh replica: the log holds everything
    }
    Path file = snapshot.getFile().getPath();
    if (!Files.exists(file)) {
      throw new IOException("snapshot " + snapshot + " has no file " + file);
    }
    MD5Hash md5 = snapshot.getFile().getFileDigest();
    if (md5 != null) {
      MD5FileUtil.verifySavedMD5(file.toFile(), md5);
    }
    TermIndex last = SimpleStateMachineStorage.getTermIndexFromSnapshotFile(file.toFile());
    DecisionState loaded = DecisionState.fromSnapshot(Files.readAllBytes(file));
    synchronized (lock) {
      state = loaded;
      setLastAppliedTermIndex(last);
    }
    snapshotsLoaded.incrementAndGet();
    log.info("decision snapshot loaded at {}: {} transactions", last, loaded.size());
  }

  // ---------------------------------------------------------------- leadership events

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    roleListener.run();
  }

  @Override
  public void notifyLeaderReady() {
    roleListener.run();
  }

  @Override
  public void notifyNotLeader(Collection<TransactionContext> pendingEntries) {
    roleListener.run();
  }
}
