package io.decree.participant.kv;

import io.decree.participant.spi.ResourceManager.Vote;
import io.decree.wal.WalException;
import io.decree.wal.WalRecord;
import io.decree.wal.WriteAheadLog;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedded, durable, transactional key-value store: string keys, {@code long} values (a key
 * never written reads as 0). Business work runs under a global transaction id (a <em>branch</em>)
 * with strict two-phase locking: {@link #get} takes a shared lock, {@link #put} and {@link
 * #getForUpdate} an exclusive one, all held until the branch ends. Writes are buffered in the
 * branch and applied when it commits; {@link KvResourceManager} drives prepare, commit and rollback
 * for the participant runtime.
 *
 * <p>Durability: a commit returns only after its record (transaction id and write set) is synced in
 * the store's own {@link WriteAheadLog}; {@link #open} rebuilds committed values and the set of
 * applied transaction ids from it. Prepared-but-undecided branches are not in this WAL: the
 * participant runtime logs their write sets (the branch data) and hands them back through {@link
 * KvResourceManager#recover}. See docs/kv-store.md.
 *
 * <p>Threading. Business calls may come from any thread, prepare/commit/rollback from the runtime.
 * What guards what:
 *
 * <ul>
 *   <li>each {@link Branch}'s own monitor guards its state and buffered writes; business calls hold
 *       it only for bookkeeping, never while waiting for a key lock;
 *   <li>the {@link LockTable}'s mutex guards the key locks;
 *   <li>{@code checkpointLock}: a commit holds the read side from handing its record to the WAL
 *       until it has applied the writes to {@code committed}; a checkpoint holds the write side
 *       while it copies the state and hands the snapshot to the WAL, so every commit record before
 *       a snapshot is in that snapshot;
 *   <li>{@code committed} is a concurrent map; a key's value changes only by a commit that holds
 *       its exclusive lock;
 *   <li>lock order: branch monitor, then checkpoint lock, then the lock table or the txId maps.
 * </ul>
 *
 * <p>The store does not own the WAL: {@link #close} stops the store, the caller closes the WAL.
 */
public final class KvStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KvStore.class);

  private final WriteAheadLog wal;
  private final KvConfig config;
  private final LockTable locks = new LockTable();
  private final ConcurrentHashMap<String, Branch> branches = new ConcurrentHashMap<>();
  private final AtomicInteger openBranches = new AtomicInteger();
  private final ConcurrentHashMap<String, Long> committed;

  /** Committed transaction ids and the WAL position of their commit record; durable. */
  private final BoundedTxIdMap<Long> applied;

  /** Rolled-back and read-only transaction ids; in memory only. */
  private final BoundedTxIdMap<BranchState> ended;

  private final ReentrantReadWriteLock checkpointLock = new ReentrantReadWriteLock();
  private final AtomicLong commitsSinceCheckpoint;
  private final AtomicBoolean checkpointRunning = new AtomicBoolean();
  // guarded by checkpointLock's write side
  private long snapshotSeq;

  private volatile boolean recovered;
  private volatile boolean closed;

  /** What {@link #prepare} decided. {@code writes} is empty unless the vote is YES. */
  record Prepared(Vote vote, SortedMap<String, Long> writes, String reason) {}

  private KvStore(WriteAheadLog wal, KvConfig config, Replay replay) {
    this.wal = wal;
    this.config = config;
    this.committed = new ConcurrentHashMap<>(replay.values);
    this.applied = replay.applied;
    this.ended = new BoundedTxIdMap<>(config.endedTxIdsRetained());
    this.commitsSinceCheckpoint = new AtomicLong(replay.commitsSinceSnapshot);
    this.snapshotSeq = replay.lastSnapshotSeq;
  }

  /**
   * Opens the store on {@code wal}, rebuilding its committed state by replaying it. Business work
   * is refused until {@link KvResourceManager#recover} has run (with an empty list on a first
   * start), so that keys of in-doubt branches are locked before anybody can read them.
   *
   * @throws IllegalArgumentException for an invalid config
   * @throws IllegalStateException when the WAL holds a record this store cannot have written
   */
  public static KvStore open(WriteAheadLog wal, KvConfig config) {
    Objects.requireNonNull(wal, "wal");
    config.validate();
    Replay replay = new Replay(config.appliedTxIdsRetained());
    wal.replay(replay::onRecord);
    log.info(
        "kv store opened: {} records replayed, {} keys, {} applied txIds remembered, snapshot {}"
            + " at position {}, {} commits since",
        replay.records,
        replay.values.size(),
        replay.applied.size(),
        replay.lastSnapshotSeq,
        replay.snapshotPosition,
        replay.commitsSinceSnapshot);
    return new KvStore(wal, config, replay);
  }

  // ---------------------------------------------------------------- business API

  /**
   * Reads {@code key} under a shared lock held until the branch ends; sees the branch's own writes.
   *
   * @throws LockTimeoutException the branch is now rollback-only
   * @throws KvLimitException too many branches, or too many keys in this branch
   * @throws BranchStateException the branch is prepared or ended
   * @throws KvNotRecoveredException before {@link KvResourceManager#recover} ran
   */
  public long get(String txId, String key) {
    return read(txId, key, LockTable.Mode.SHARED);
  }

  /**
   * Reads {@code key} under an exclusive lock, as a read before a write of the same key should: two
   * branches that both read then write a key with {@link #get} deadlock on the upgrade.
   */
  public long getForUpdate(String txId, String key) {
    return read(txId, key, LockTable.Mode.EXCLUSIVE);
  }

  /** Reads several keys with shared locks, taken in key order; the result is sorted by key. */
  public SortedMap<String, Long> getAll(String txId, Collection<String> keys) {
    TreeSet<String> sorted = new TreeSet<>(keys);
    if (sorted.size() > config.keysPerBranchMax()) {
      throw new KvLimitException(
          "keysPerBranchMax",
          config.keysPerBranchMax(),
          "cannot read "
              + sorted.size()
              + " keys in one branch: keysPerBranchMax is "
              + config.keysPerBranchMax());
    }
    SortedMap<String, Long> values = new TreeMap<>();
    for (String key : sorted) {
      values.put(key, get(txId, key));
    }
    return values;
  }

  /**
   * Buffers a write of {@code key} under an exclusive lock held until the branch ends. Nobody sees
   * the value before the branch commits.
   *
   * @throws LockTimeoutException the branch is now rollback-only
   * @throws KvLimitException too many branches, keys in this branch, or keys in the store
   * @throws BranchStateException the branch is prepared or ended
   * @throws KvNotRecoveredException before {@link KvResourceManager#recover} ran
   */
  public void put(String txId, String key, long value) {
    Branch b = branchForWork(txId, key);
    synchronized (b) {
      requireActive(b);
      if (!b.writes.containsKey(key)
          && !committed.containsKey(key)
          && committed.size() >= config.keysMax()) {
        throw new KvLimitException(
            "keysMax",
            config.keysMax(),
            "cannot add key '" + key + "': the store holds keysMax=" + config.keysMax() + " keys");
      }
      reserveKey(b, key);
    }
    lock(b, key, LockTable.Mode.EXCLUSIVE);
    synchronized (b) {
      requireActiveAfterLock(b);
      b.writes.put(key, value);
    }
  }

  /**
   * The last committed value of {@code key}, without any lock: for status displays. A key held by
   * an in-doubt branch shows its value from before that branch.
   */
  public long readCommitted(String key) {
    requireOpen();
    validate(key, "key", config.keyBytesMax());
    return committed.getOrDefault(key, 0L);
  }

  /**
   * Every committed key and value, sorted by key, as of one moment between commits (it waits for
   * commits in flight to apply, so a transfer never shows half done).
   */
  public SortedMap<String, Long> readCommittedAll() {
    requireOpen();
    checkpointLock.writeLock().lock();
    try {
      return Collections.unmodifiableSortedMap(new TreeMap<>(committed));
    } finally {
      checkpointLock.writeLock().unlock();
    }
  }

  /**
   * Writes a full-state snapshot to the WAL and, once it is durable, lets the WAL drop what lies
   * before it. Runs by itself every {@link KvConfig#checkpointEveryCommits()} commits; a call while
   * another checkpoint runs returns at once.
   *
   * @throws KvDurabilityException the snapshot was not confirmed durable; nothing was dropped
   */
  public void checkpoint() {
    requireOpen();
    if (!checkpointRunning.compareAndSet(false, true)) {
      return;
    }
    try {
      List<CompletableFuture<Long>> chunks = new ArrayList<>();
      long seq;
      int keyCount;
      checkpointLock.writeLock().lock();
      try {
        // No commit is between its WAL append and its apply now: the copy matches the log.
        Map<String, Long> values = new HashMap<>(committed);
        keyCount = values.size();
        byte[] state = KvCodec.encodeState(values, applied.entries());
        seq = ++snapshotSeq;
        commitsSinceCheckpoint.set(0);
        // Appended while commits are held off, so the chunks lie next to each other in the log.
        for (byte[] chunk : KvCodec.encodeSnapshotChunks(seq, state, config.walRecordBytesMax())) {
          chunks.add(append(KvCodec.TYPE_SNAPSHOT_CHUNK, chunk, "snapshot " + seq));
        }
      } finally {
        checkpointLock.writeLock().unlock();
      }
      long firstPosition = -1;
      for (CompletableFuture<Long> chunk : chunks) {
        long position = awaitDurable(chunk, "snapshot " + seq);
        if (firstPosition < 0) {
          firstPosition = position;
        }
      }
      wal.retainFrom(firstPosition);
      log.info(
          "kv checkpoint: snapshot {} of {} keys in {} chunks at position {}",
          seq,
          keyCount,
          chunks.size(),
          firstPosition);
    } finally {
      checkpointRunning.set(false);
    }
  }

  /** Refuses every further call. Branches in memory are dropped; the WAL stays open. */
  @Override
  public void close() {
    closed = true;
  }

  // ---------------------------------------------------------------- branch control (package)

  /** Phase 1; see {@link KvResourceManager#prepare}. */
  Prepared prepare(String txId) {
    requireOpen();
    // Before recovery an unknown branch may be one the runtime's log holds prepared: voting NO
    // for it could contradict a YES already sent.
    requireRecovered("a prepare");
    validate(txId, "txId", config.txIdBytesMax());
    Branch b = branches.get(txId);
    if (b == null) {
      return preparedAfterEnd(txId);
    }
    synchronized (b) {
      return switch (b.state()) {
        case ACTIVE -> {
          if (b.writes.isEmpty()) {
            endBranch(b, BranchState.READ_ONLY);
            yield new Prepared(Vote.READ_ONLY, Collections.emptySortedMap(), "");
          }
          // The branch takes no more locks (the client asked to commit), so its shared locks
          // can go now without breaking two-phase locking; exclusive ones guard the write set.
          locks.releaseShared(txId);
          b.transitionTo(BranchState.PREPARED);
          yield new Prepared(Vote.YES, copy(b.writes), "");
        }
        case ROLLBACK_ONLY -> {
          String reason = b.rollbackReason;
          endBranch(b, BranchState.ROLLED_BACK);
          yield new Prepared(Vote.NO, Collections.emptySortedMap(), reason);
        }
        case PREPARED, COMMITTING -> new Prepared(Vote.YES, copy(b.writes), "");
        case COMMITTED, ROLLED_BACK, READ_ONLY -> preparedAfterEnd(txId);
      };
    }
  }

  /**
   * Phase 2, COMMIT; idempotent. {@code loggedWrites} is the write set from the runtime's log
   * (empty for a one-phase commit); it is applied when this store does not hold the branch, e.g.
   * after a restart.
   *
   * @throws LockTimeoutException re-taking the locks of an adopted branch timed out; retry
   * @throws KvDurabilityException the commit record was not confirmed durable; retry
   * @throws BranchStateException the branch was rolled back here, or is unknown and comes without a
   *     write set
   */
  void commit(String txId, SortedMap<String, Long> loggedWrites) {
    requireOpen();
    validate(txId, "txId", config.txIdBytesMax());
    Branch b = branches.get(txId);
    if (b == null) {
      // A branch leaves the table only after it is in `applied` or `ended`, so this order of
      // checks cannot miss a commit that just finished.
      if (applied.contains(txId)) {
        return;
      }
      BranchState endedAs = ended.get(txId);
      if (endedAs == BranchState.READ_ONLY) {
        return;
      }
      if (endedAs == BranchState.ROLLED_BACK) {
        throw new BranchStateException("cannot commit " + txId + ": it was rolled back here");
      }
      if (loggedWrites.isEmpty()) {
        throw new BranchStateException(
            "cannot commit "
                + txId
                + ": no work under this transaction id here and no write set to apply (lost in"
                + " a restart before it was prepared?)");
      }
      b = adopt(txId, loggedWrites);
    }
    boolean checkpointDue;
    synchronized (b) {
      switch (b.state()) {
        case COMMITTED, READ_ONLY -> {
          return;
        }
        case ROLLED_BACK, ROLLBACK_ONLY ->
            throw new BranchStateException(
                "cannot commit "
                    + txId
                    + ": it was rolled back here"
                    + (b.rollbackReason.isEmpty() ? "" : " (" + b.rollbackReason + ")"));
        case ACTIVE, PREPARED, COMMITTING -> {
          if (!loggedWrites.isEmpty() && !loggedWrites.equals(b.writes)) {
            throw new IllegalStateException(
                "the write set logged for "
                    + txId
                    + " differs from the one this store holds: "
                    + loggedWrites
                    + " vs "
                    + b.writes);
          }
          retakeExclusiveLocks(b);
          if (b.state() != BranchState.COMMITTING) {
            b.transitionTo(BranchState.COMMITTING);
          }
        }
      }
      SortedMap<String, Long> writes = copy(b.writes);
      byte[] record = KvCodec.encodeWriteSet(txId, writes);
      checkpointLock.readLock().lock();
      try {
        long position =
            awaitDurable(append(KvCodec.TYPE_COMMIT, record, "commit of " + txId), txId);
        committed.putAll(writes);
        applied.put(txId, position);
      } finally {
        checkpointLock.readLock().unlock();
      }
      endBranch(b, BranchState.COMMITTED);
      checkpointDue = commitsSinceCheckpoint.incrementAndGet() >= config.checkpointEveryCommits();
    }
    if (checkpointDue) {
      try {
        checkpoint();
      } catch (KvException | WalException e) {
        // The commit itself is durable; a failed snapshot only means the log is cut later.
        log.warn("kv checkpoint after commit of {} failed; will try again later", txId, e);
      }
    }
  }

  /**
   * Phase 2, ABORT, or an abort before the vote; idempotent.
   *
   * @throws BranchStateException the branch is committed or committing here
   */
  void rollback(String txId) {
    requireOpen();
    validate(txId, "txId", config.txIdBytesMax());
    Branch b = branches.get(txId);
    if (b == null) {
      if (applied.contains(txId)) {
        throw new BranchStateException(
            "cannot roll back " + txId + ": it is already committed here");
      }
      if (ended.get(txId) == null) {
        // Remembered so that late work under this id is refused.
        ended.put(txId, BranchState.ROLLED_BACK);
      }
      return;
    }
    synchronized (b) {
      switch (b.state()) {
        case COMMITTED ->
            throw new BranchStateException(
                "cannot roll back " + txId + ": it is already committed here");
        case COMMITTING ->
            throw new BranchStateException(
                "cannot roll back "
                    + txId
                    + ": its commit record was handed to the WAL and may be durable; only a"
                    + " retried commit may finish it");
        case ROLLED_BACK, READ_ONLY -> {}
        case ACTIVE, ROLLBACK_ONLY, PREPARED -> endBranch(b, BranchState.ROLLED_BACK);
      }
    }
  }

  /**
   * After a restart: adopts the branches the runtime's log shows prepared, re-taking their
   * exclusive locks, then opens the store for business work. Branches already committed here are
   * skipped (their commit will be a no-op). Returns every branch this store now holds prepared.
   *
   * @throws LockTimeoutException re-taking a lock timed out (a business branch holds it); retry
   */
  List<String> recover(Map<String, SortedMap<String, Long>> preparedInLog) {
    requireOpen();
    for (Map.Entry<String, SortedMap<String, Long>> e : preparedInLog.entrySet()) {
      String txId = e.getKey();
      validate(txId, "txId", config.txIdBytesMax());
      if (applied.contains(txId)) {
        continue;
      }
      if (e.getValue().isEmpty()) {
        throw new IllegalStateException(
            "the runtime's log shows " + txId + " prepared with an empty write set");
      }
      BranchState endedAs = ended.get(txId);
      if (endedAs != null) {
        throw new IllegalStateException(
            "the runtime's log shows " + txId + " prepared but this store has it " + endedAs);
      }
      Branch b = adopt(txId, e.getValue());
      synchronized (b) {
        switch (b.state()) {
          case PREPARED, COMMITTING -> {
            if (!e.getValue().equals(b.writes)) {
              throw new IllegalStateException(
                  "the write set logged for " + txId + " differs from the one this store holds");
            }
            retakeExclusiveLocks(b);
          }
          case COMMITTED -> {}
          case ACTIVE, ROLLBACK_ONLY, ROLLED_BACK, READ_ONLY ->
              throw new IllegalStateException(
                  "the runtime's log shows "
                      + txId
                      + " prepared but this store has it "
                      + b.state());
        }
      }
    }
    recovered = true;
    List<String> prepared = new ArrayList<>();
    for (Branch b : branches.values()) {
      synchronized (b) {
        if (b.state() == BranchState.PREPARED || b.state() == BranchState.COMMITTING) {
          prepared.add(b.txId);
        }
      }
    }
    Collections.sort(prepared);
    log.info("kv recover: {} branches held prepared", prepared.size());
    return prepared;
  }

  // ---------------------------------------------------------------- for tests and status

  BranchState branchState(String txId) {
    Branch b = branches.get(txId);
    if (b == null) {
      return null;
    }
    synchronized (b) {
      return b.state();
    }
  }

  int openBranchCount() {
    return openBranches.get();
  }

  LockTable locks() {
    return locks;
  }

  // ---------------------------------------------------------------- internals

  private long read(String txId, String key, LockTable.Mode mode) {
    Branch b = branchForWork(txId, key);
    synchronized (b) {
      requireActive(b);
      Long own = b.writes.get(key);
      if (own != null) {
        return own; // its exclusive lock is held already
      }
      reserveKey(b, key);
    }
    lock(b, key, mode);
    synchronized (b) {
      requireActiveAfterLock(b);
      Long own = b.writes.get(key); // another thread of the branch may have written meanwhile
      return own != null ? own : committed.getOrDefault(key, 0L);
    }
  }

  private Branch branchForWork(String txId, String key) {
    requireOpen();
    validate(txId, "txId", config.txIdBytesMax());
    validate(key, "key", config.keyBytesMax());
    requireRecovered("business work");
    Branch b = branches.get(txId);
    if (b != null) {
      return b;
    }
    if (applied.contains(txId)) {
      throw new BranchStateException(
          "transaction " + txId + " is already committed here; no more work under it");
    }
    BranchState endedAs = ended.get(txId);
    if (endedAs != null) {
      throw new BranchStateException(
          "transaction " + txId + " already ended here (" + endedAs + "); no more work under it");
    }
    return branches.computeIfAbsent(
        txId,
        id -> {
          if (openBranches.incrementAndGet() > config.branchesMax()) {
            openBranches.decrementAndGet();
            throw new KvLimitException(
                "branchesMax",
                config.branchesMax(),
                "cannot start branch "
                    + id
                    + ": branchesMax="
                    + config.branchesMax()
                    + " branches are open; finish some or raise the limit");
          }
          return Branch.active(id);
        });
  }

  // Holding b's monitor.
  private void reserveKey(Branch b, String key) {
    if (b.touchedKeys.contains(key)) {
      return;
    }
    if (b.touchedKeys.size() >= config.keysPerBranchMax()) {
      throw new KvLimitException(
          "keysPerBranchMax",
          config.keysPerBranchMax(),
          "branch "
              + b.txId
              + " cannot touch key '"
              + key
              + "': it already uses keysPerBranchMax="
              + config.keysPerBranchMax()
              + " keys");
    }
    b.touchedKeys.add(key);
  }

  /** Takes a lock for business work; a failed wait makes the branch rollback-only. */
  private void lock(Branch b, String key, LockTable.Mode mode) {
    try {
      locks.acquire(b.txId, key, mode, config.lockTimeoutMillis());
    } catch (LockTimeoutException e) {
      makeRollbackOnly(b, e.getMessage());
      throw new LockTimeoutException(
          e.getMessage()
              + "; branch "
              + b.txId
              + " is now rollback-only and holds no locks: roll it back and retry the"
              + " transaction",
          e.txId(),
          e.key(),
          e.timeoutMillis());
    } catch (BranchStateException e) {
      throw e; // the branch ended while we waited
    } catch (KvException e) {
      makeRollbackOnly(b, e.getMessage());
      throw e;
    }
  }

  private void makeRollbackOnly(Branch b, String reason) {
    synchronized (b) {
      if (b.state() == BranchState.ACTIVE) {
        b.transitionTo(BranchState.ROLLBACK_ONLY);
        b.rollbackReason = reason;
        b.writes.clear();
        // Released now rather than at rollback, so that the other side of a deadlock goes on.
        locks.releaseAll(b.txId);
      }
    }
  }

  // Holding b's monitor.
  private static void requireActive(Branch b) {
    if (b.state() != BranchState.ACTIVE) {
      throw notActive(b);
    }
  }

  // Holding b's monitor, right after a lock was granted to b.
  private void requireActiveAfterLock(Branch b) {
    BranchState state = b.state();
    if (state == BranchState.ACTIVE) {
      return;
    }
    if (state == BranchState.ROLLBACK_ONLY || state.terminal()) {
      // The branch ended (or gave up its locks) while we waited: this lock is an orphan.
      locks.releaseAll(b.txId);
    }
    throw notActive(b);
  }

  private static BranchStateException notActive(Branch b) {
    return new BranchStateException(
        switch (b.state()) {
          case ACTIVE -> throw new IllegalStateException("branch " + b.txId + " is active");
          case ROLLBACK_ONLY ->
              "branch " + b.txId + " is rollback-only (" + b.rollbackReason + "); roll it back";
          case PREPARED, COMMITTING ->
              "branch " + b.txId + " is already prepared; no more work under it";
          case COMMITTED -> "transaction " + b.txId + " is already committed here";
          case ROLLED_BACK -> "transaction " + b.txId + " is already rolled back here";
          case READ_ONLY -> "transaction " + b.txId + " already ended here (voted read-only)";
        });
  }

  private Prepared preparedAfterEnd(String txId) {
    if (applied.contains(txId)) {
      throw new BranchStateException(
          "transaction " + txId + " is already committed here; a prepare now is out of order");
    }
    BranchState endedAs = ended.get(txId);
    if (endedAs == BranchState.READ_ONLY) {
      return new Prepared(Vote.READ_ONLY, Collections.emptySortedMap(), "");
    }
    if (endedAs == BranchState.ROLLED_BACK) {
      return new Prepared(Vote.NO, Collections.emptySortedMap(), "rolled back here earlier");
    }
    ended.put(txId, BranchState.ROLLED_BACK);
    return new Prepared(
        Vote.NO,
        Collections.emptySortedMap(),
        "no work under this transaction id; lost in a restart?");
  }

  // Holding b's monitor.
  private void endBranch(Branch b, BranchState terminal) {
    b.transitionTo(terminal);
    if (terminal != BranchState.COMMITTED) {
      ended.put(b.txId, terminal); // before leaving the table: see commit()
    }
    if (branches.remove(b.txId, b)) {
      openBranches.decrementAndGet();
    }
    locks.releaseAll(b.txId);
  }

  /** A branch for a write set from the runtime's log; adopted branches are never refused. */
  private Branch adopt(String txId, SortedMap<String, Long> writes) {
    for (String key : writes.keySet()) {
      validate(key, "key", config.keyBytesMax());
    }
    Branch fresh = Branch.adopted(txId, writes);
    Branch existing = branches.putIfAbsent(txId, fresh);
    if (existing != null) {
      return existing;
    }
    openBranches.incrementAndGet();
    return fresh;
  }

  // Holding b's monitor. Nobody else works on an adopted branch, so waiting here blocks nobody.
  private void retakeExclusiveLocks(Branch b) {
    if (!b.exclusiveLocksToRetake) {
      return;
    }
    for (String key : b.writes.keySet()) {
      locks.acquire(b.txId, key, LockTable.Mode.EXCLUSIVE, config.lockTimeoutMillis());
    }
    b.exclusiveLocksToRetake = false;
  }

  private CompletableFuture<Long> append(int type, byte[] payload, String what) {
    try {
      return wal.append(type, payload);
    } catch (WalException e) {
      throw new KvDurabilityException("the WAL refused the " + what + ": " + e.getMessage(), e);
    }
  }

  private long awaitDurable(CompletableFuture<Long> future, String what) {
    try {
      return future.get(config.walSyncTimeoutMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new KvDurabilityException(
          "the record of "
              + what
              + " was not confirmed durable within "
              + config.walSyncTimeoutMillis()
              + " ms; it may still become durable",
          e);
    } catch (ExecutionException e) {
      throw new KvDurabilityException(
          "the WAL failed the record of " + what + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KvDurabilityException(
          "interrupted while waiting for the record of " + what + " to be durable", e);
    }
  }

  private void requireRecovered(String what) {
    if (!recovered) {
      throw new KvNotRecoveredException(
          "the kv store is not recovered yet: the participant runtime must call"
              + " ResourceManager.recover(...) (with an empty list on a first start) before "
              + what
              + ", so that keys of in-doubt branches are locked first");
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new KvException("the kv store is closed");
    }
  }

  private static void validate(String s, String what, int bytesMax) {
    if (s == null || s.isEmpty()) {
      throw new IllegalArgumentException(what + " must be non-empty");
    }
    ByteBuffer utf8;
    try {
      // Strict: an unpaired surrogate would otherwise be encoded as '?' and the write set in the
      // branch data would name a different key than the branch locked.
      utf8 =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(s));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(what + " is not well-formed Unicode: " + e, e);
    }
    int bytes = utf8.remaining();
    if (bytes > bytesMax) {
      throw new IllegalArgumentException(
          what + " of " + bytes + " UTF-8 bytes is longer than the limit of " + bytesMax);
    }
  }

  private static SortedMap<String, Long> copy(SortedMap<String, Long> writes) {
    return Collections.unmodifiableSortedMap(new TreeMap<>(writes));
  }

  /**
   * Rebuilds the committed state from the WAL: commit records apply their writes; a complete
   * snapshot (all its chunks, back to back) replaces the whole state. An incomplete snapshot (torn
   * by a crash, or whose start was cut away) is ignored: retention never cuts the log before a
   * snapshot that was durable in full.
   */
  private static final class Replay {
    final Map<String, Long> values = new HashMap<>();
    final BoundedTxIdMap<Long> applied;
    long records;
    long commitsSinceSnapshot;
    long lastSnapshotSeq;
    long snapshotPosition = -1;

    private ByteArrayOutputStream pending; // null unless inside a snapshot
    private long pendingSeq;
    private int pendingNext;
    private int pendingCount;
    private long pendingPosition;

    Replay(int appliedTxIdsRetained) {
      this.applied = new BoundedTxIdMap<>(appliedTxIdsRetained);
    }

    void onRecord(WalRecord r) {
      records++;
      try {
        switch (r.type()) {
          case KvCodec.TYPE_COMMIT -> onCommit(r);
          case KvCodec.TYPE_SNAPSHOT_CHUNK -> onSnapshotChunk(r);
          default ->
              throw new IllegalStateException(
                  "kv WAL record at position "
                      + r.position()
                      + " has unknown type "
                      + r.type()
                      + "; is the WAL shared with something else?");
        }
      } catch (KvCodec.MalformedException e) {
        // The WAL checksummed this record, so we wrote these bytes: a bug, not a bad disk.
        throw new IllegalStateException(
            "kv WAL record at position " + r.position() + " does not decode: " + e.getMessage(), e);
      }
    }

    private void onCommit(WalRecord r) throws KvCodec.MalformedException {
      pending = null;
      KvCodec.WriteSet ws = KvCodec.decodeWriteSet(r.payload());
      // A commit retried after an unconfirmed sync can be in the log twice; the branch held its
      // locks in between, so applying it again would change nothing, but skipping is clearer.
      if (!applied.contains(ws.txId())) {
        values.putAll(ws.writes());
        applied.put(ws.txId(), r.position());
      }
      commitsSinceSnapshot++;
    }

    private void onSnapshotChunk(WalRecord r) throws KvCodec.MalformedException {
      KvCodec.SnapshotChunk c = KvCodec.decodeSnapshotChunk(r.payload());
      lastSnapshotSeq = Math.max(lastSnapshotSeq, c.snapshotSeq());
      if (c.index() == 0) {
        pending = new ByteArrayOutputStream();
        pendingSeq = c.snapshotSeq();
        pendingNext = 0;
        pendingCount = c.count();
        pendingPosition = r.position();
      } else if (pending == null
          || c.snapshotSeq() != pendingSeq
          || c.index() != pendingNext
          || c.count() != pendingCount) {
        pending = null;
        return;
      }
      pending.writeBytes(c.bytes());
      pendingNext++;
      if (pendingNext == pendingCount) {
        KvCodec.State state = KvCodec.decodeState(pending.toByteArray());
        values.clear();
        values.putAll(state.values());
        applied.replaceAll(state.appliedTxIds());
        commitsSinceSnapshot = 0;
        snapshotPosition = pendingPosition;
        pending = null;
      }
    }
  }
}
