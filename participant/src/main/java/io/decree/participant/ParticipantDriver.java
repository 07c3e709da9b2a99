package io.decree.participant;

import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.Peer;
import io.decree.core.Send;
import io.decree.core.TxId;
import io.decree.core.Vote;
import io.decree.core.participant.BranchState;
import io.decree.core.participant.BranchView;
import io.decree.core.participant.OperatorReply;
import io.decree.core.participant.ParticipantCheckpoint;
import io.decree.core.participant.ParticipantCore;
import io.decree.core.participant.ParticipantEffects;
import io.decree.core.participant.ParticipantRecord;
import io.decree.core.participant.ResourceCall;
import io.decree.node.FaultSwitches;
import io.decree.node.NodeLoop;
import io.decree.participant.spi.ResourceException;
import io.decree.participant.spi.ResourceManager;
import io.decree.participant.spi.ResourceManager.PrepareResult;
import io.decree.participant.spi.ResourceManager.PreparedBranch;
import io.decree.wal.WalCheckpoints;
import io.decree.wal.WalRecord;
import io.decree.wal.WriteAheadLog;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link ParticipantCore} with real I/O, as {@code SimParticipant} does in the simulation.
 * Every core call runs inside one {@link NodeLoop} (one thread at a time: the loop's own, or a
 * caller's that found the core free), followed by {@link #flush}, which carries out the effects:
 * records go to the WAL and come back as {@code onRecordDurable}/{@code onRecordFailed}; resource
 * calls run on a bounded pool and come back as {@code onResource*}; replies complete parked inbound
 * RPCs ({@link PendingReplies}); questions go out through the {@link OutboundPublisher}.
 *
 * <p>The core only emits a message that depends on a record after that record was reported durable,
 * so the driver never has to order sends after appends itself (persist before send).
 *
 * <p>Results of our own I/O (WAL syncs, resource calls, outbound answers) must reach the core even
 * when its queue is full, or a branch would wait forever: {@link #post} retries them after a short
 * delay instead of dropping them. Their number is bounded by the branches in flight. Inbound calls,
 * in contrast, are refused with UNAVAILABLE ({@link #submit}).
 */
final class ParticipantDriver implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ParticipantDriver.class);
  private static final long REPOST_DELAY_MILLIS = 5;

  private final ParticipantOptions options;
  private final ResourceManager rm;
  private final WriteAheadLog wal;
  private final NodeLoop loop;
  private final ThreadPoolExecutor resourcePool;
  private final ScheduledExecutorService retries;
  private final OutboundPublisher outbound;
  private final PendingReplies pending;

  /**
   * TEST ONLY (-Ddecree.fault.appendDelayMillis): holds every WAL append this long before it is
   * written, on one thread so records keep their order. Null unless the switch is on.
   */
  private final ScheduledExecutorService appendDelay;

  /** Enlistments done or under way, per transaction; pruned once the branch leaves ACTIVE. */
  private final Map<TxId, CompletableFuture<Status>> enlisted = new ConcurrentHashMap<>();

  private static final int OPERATOR_WAITERS_MAX = 64;

  /** Operators waiting for the core's answer, by transaction. Loop thread only; bounded. */
  private final Map<TxId, List<CompletableFuture<Resolution>>> operatorWaiters = new HashMap<>();

  /** Writes the core's checkpoints into the WAL, so that it may delete the files before them. */
  private final WalCheckpoints checkpoints;

  /** Records appended since the last checkpoint (or, after a start, since the last one found). */
  private long recordsSinceCheckpoint;

  private ParticipantRef self;
  private ParticipantCore core; // loop thread only, after recover()
  private volatile boolean ready;
  private volatile boolean closed;

  ParticipantDriver(ParticipantOptions options, WriteAheadLog wal, OutboundPublisher outbound) {
    this.options = options;
    this.rm = options.resourceManager();
    this.wal = wal;
    this.checkpoints = new WalCheckpoints(wal, "participant " + options.name() + " log");
    this.outbound = outbound;
    this.pending = new PendingReplies(options.pendingRepliesMax());
    this.loop =
        new NodeLoop(
            "participant-" + options.name(),
            options.loopQueueCapacity(),
            System::currentTimeMillis);
    AtomicInteger threadIds = new AtomicInteger();
    this.resourcePool =
        new ThreadPoolExecutor(
            options.resourceThreads(),
            options.resourceThreads(),
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(options.resourceQueueCapacity()),
            r -> daemon(r, "participant-" + options.name() + "-rm-" + threadIds.incrementAndGet()));
    this.retries =
        Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "participant-" + options.name() + "-retry"));
    this.appendDelay =
        FaultSwitches.APPEND_DELAY_MILLIS > 0
            ? Executors.newSingleThreadScheduledExecutor(
                r -> daemon(r, "participant-" + options.name() + "-append-delay"))
            : null;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  ParticipantRef self() {
    return self;
  }

  // ---------------------------------------------------------------- start

  /**
   * Replays the WAL, rebuilds the core, runs the resource manager's recovery, rolls back what the
   * resource holds prepared but the log never voted for, then starts the timers. Blocking; runs
   * once before the runtime serves any call.
   *
   * @throws IllegalStateException when the log or the resource cannot be recovered
   */
  void recover(ParticipantRef self) {
    this.self = self;
    // A complete checkpoint replaces what came before it (those files may be deleted already);
    // the records after it follow.
    List<ParticipantRecord> records = new ArrayList<>();
    AtomicReference<ParticipantCheckpoint> base =
        new AtomicReference<>(new ParticipantCheckpoint(0, List.of()));
    WalCheckpoints.Reader reader =
        new WalCheckpoints.Reader(
            snapshot -> {
              base.set(ParticipantRecordCodec.decodeCheckpoint(snapshot));
              records.clear();
            });
    wal.replay(
        (WalRecord r) -> {
          if (!reader.accept(r)) {
            records.add(ParticipantRecordCodec.decode(r.type(), r.payload()));
          }
        });
    recordsSinceCheckpoint = records.size();
    log.info(
        "{}: log replayed: {} ({} records in it) and {} records after it",
        options.name(),
        reader.complete() == 0 ? "no checkpoint" : "the last complete checkpoint",
        base.get().records().size(),
        records.size());
    List<PreparedBranch> prepared =
        ask(
            now -> {
              // TEST ONLY: -Ddecree.fault.participant.unsafe* break a protocol rule on purpose,
              // so the Jepsen-style checkers can prove they catch it.
              core =
                  new ParticipantCore(
                      self,
                      options.participantConfig().withUnsafe(FaultSwitches.participantUnsafe()));
              core.onRecover(base.get(), records, now);
              List<PreparedBranch> list = new ArrayList<>();
              for (TxId id : core.preparedBranches()) {
                list.add(new PreparedBranch(id.toString(), core.branchData(id)));
              }
              return list;
            });
    // The core's resource calls wait in its effects until the resource re-adopted its branches.
    Set<String> known = new HashSet<>();
    prepared.forEach(p -> known.add(p.txId()));
    List<String> heldByResource;
    try {
      heldByResource = rm.recover(prepared);
    } catch (ResourceException e) {
      throw new IllegalStateException(
          "resource " + rm.name() + " failed to recover: " + e.getMessage(), e);
    }
    List<String> strays = new ArrayList<>();
    for (String id : heldByResource) {
      if (!known.contains(id)) {
        strays.add(id);
      }
    }
    ask(
        now -> {
          for (String id : strays) {
            // Prepared in the resource, but no durable YES here: this participant never voted YES,
            // so nobody can have decided COMMIT with it. Rolling back is safe.
            TxId txId = parseOrNull(id);
            if (txId == null || core.state(txId) == null) {
              log.info(
                  "{}: rolling back {}: prepared in the resource, unknown to the log", self, id);
              runResource(txId, id, new ResourceCall.Rollback(txIdOrZero(txId), new byte[0]));
            }
          }
          flush();
          return null;
        });
    ready = true;
    loop.tickEvery(options.tickPeriodMillis(), now -> run(this::onTick, now));
  }

  private static TxId parseOrNull(String id) {
    try {
      return TxId.parse(id);
    } catch (IllegalArgumentException e) {
      return null; // not one of ours: still rolled back, by its resource name
    }
  }

  private static TxId txIdOrZero(TxId txId) {
    return txId == null ? new TxId(0, 0, 0) : txId;
  }

  // ---------------------------------------------------------------- entry points

  /**
   * Inbound work for the core. False when the participant cannot take it now (recovering, queue
   * full, stopped): the caller answers UNAVAILABLE.
   */
  boolean submit(LongConsumer task) {
    return ready && !closed && loop.tryExecuteHere(now -> run(task, now));
  }

  /** Like {@link #submit}, with a result; blocks at most the RPC deadline. */
  <T> T ask(LongFunction<T> task) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      // On this thread when the core is free: the answer is then ready without a hand-off.
      loop.executeHere(
          now -> {
            try {
              result.complete(task.apply(now));
            } catch (RuntimeException | Error e) {
              result.completeExceptionally(e); // the caller hears it now, not at its timeout
              throw e;
            } finally {
              flushIfReady();
            }
          });
    } catch (RejectedExecutionException busy) {
      throw new BusyException("participant busy");
    }
    try {
      return result.get(Math.max(options.rpcDeadlineMillis(), 10_000), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BusyException("interrupted while waiting for the participant");
    } catch (TimeoutException e) {
      throw new BusyException("participant busy: no answer from its core in time");
    } catch (ExecutionException e) {
      throw new IllegalStateException("participant core failed: " + e.getCause(), e.getCause());
    }
  }

  /** The core thread is saturated or stopped; callers map it to UNAVAILABLE. */
  static final class BusyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BusyException(String message) {
      super(message);
    }
  }

  /** During recovery the effects wait until the resource re-adopted its branches. */
  private void flushIfReady() {
    if (ready) {
      flush();
    }
  }

  /** Results of our own I/O: never dropped while the driver is open (see class comment). */
  private void post(LongConsumer task) {
    post(task, false);
  }

  /**
   * {@link #post} for results that arrive on a thread that may run the core itself (a resource
   * worker, the participant WAL's writer): no hand-off when the core is free. The core appends only
   * to this participant's WAL, whose writer never waits for room (see {@link
   * io.decree.node.NodeLoop#executeHere}).
   */
  private void postHere(LongConsumer task) {
    post(task, true);
  }

  private void post(LongConsumer task, boolean here) {
    if (closed) {
      return;
    }
    try {
      if (here) {
        loop.executeHere(now -> run(task, now));
      } else {
        loop.execute(now -> run(task, now));
      }
    } catch (RejectedExecutionException busy) {
      // On the loop's own thread a few milliseconds later; moot once the driver closed.
      loop.executeEventually(
          now -> {
            if (!closed) {
              run(task, now);
            }
          });
    }
  }

  private void run(LongConsumer task, long now) {
    task.accept(now);
    flush();
  }

  // ---------------------------------------------------------------- loop-thread helpers

  /** Inside the loop only (one thread at a time). */
  ParticipantCore core() {
    return core;
  }

  /** Inside the loop only (one thread at a time). */
  PendingReplies pending() {
    return pending;
  }

  private void onTick(long now) {
    core.onTick(now);
    pending.expire(
        now,
        options.pendingReplyTimeoutMillis(),
        Status.UNAVAILABLE.withDescription(
            "no answer from the participant within "
                + options.pendingReplyTimeoutMillis()
                + " ms; retry, the call is idempotent"));
    // Enlistment only matters while work can still start; drop the rest (bounds the map).
    enlisted
        .entrySet()
        .removeIf(e -> e.getValue().isDone() && core.state(e.getKey()) != BranchState.ACTIVE);
  }

  /** Carries out what the core asked for. Loop thread only. */
  private void flush() {
    ParticipantEffects effects = core.drain();
    for (ParticipantRecord record : effects.appends()) {
      append(record);
    }
    recordsSinceCheckpoint += effects.appends().size();
    if (recordsSinceCheckpoint >= options.checkpointEveryRecords()) {
      checkpoint();
    }
    for (Send send : effects.sends()) {
      deliver(send);
    }
    for (ResourceCall call : effects.resourceCalls()) {
      runResource(call.txId(), call.txId().toString(), call);
    }
    for (OperatorReply reply : effects.operatorReplies()) {
      List<CompletableFuture<Resolution>> waiting = operatorWaiters.remove(reply.txId());
      if (waiting != null) {
        Resolution resolution = new Resolution(reply, core.describe(reply.txId()).orElse(null));
        waiting.forEach(w -> w.complete(resolution));
      }
    }
  }

  /**
   * Writes the core's state as a checkpoint after the records appended so far (in the same order as
   * they, through the test-only append delay too); once it is durable the WAL may delete the files
   * before it. Loop thread.
   */
  private void checkpoint() {
    recordsSinceCheckpoint = 0;
    byte[] snapshot = ParticipantRecordCodec.encodeCheckpoint(core.checkpoint());
    if (appendDelay != null) {
      appendDelay.schedule(
          () -> checkpoints.write(snapshot),
          FaultSwitches.APPEND_DELAY_MILLIS,
          TimeUnit.MILLISECONDS);
    } else {
      checkpoints.write(snapshot);
    }
  }

  // ---------------------------------------------------------------- operator

  /** The answer to an operator's forced decision, with the branch as it is afterwards. */
  record Resolution(OperatorReply reply, BranchView branch) {}

  /**
   * An operator forces the outcome of an in-doubt branch (heuristic). Completes once the core
   * answered: FORCED only after the heuristic record is durable.
   */
  CompletableFuture<Resolution> resolve(TxId txId, Decision decision, String reason) {
    CompletableFuture<Resolution> result = new CompletableFuture<>();
    boolean accepted =
        submit(
            now -> {
              if (operatorWaiters.size() >= OPERATOR_WAITERS_MAX) {
                result.completeExceptionally(
                    new BusyException("too many operator requests in progress"));
                return;
              }
              operatorWaiters.computeIfAbsent(txId, t -> new ArrayList<>()).add(result);
              core.onOperatorDecision(txId, decision, reason, now);
            });
    if (!accepted) {
      result.completeExceptionally(new BusyException("participant busy or recovering"));
    }
    return result;
  }

  private void append(ParticipantRecord record) {
    if (appendDelay != null) {
      // TEST ONLY: a slow disk. What the core sent meanwhile is out; a kill -9 loses the record.
      appendDelay.schedule(
          () -> appendNow(record), FaultSwitches.APPEND_DELAY_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    appendNow(record);
  }

  private void appendNow(ParticipantRecord record) {
    CompletableFuture<Long> synced;
    try {
      // May block while the WAL's queue is full: back-pressure on the core, by design.
      int type = ParticipantRecordCodec.type(record);
      byte[] payload = ParticipantRecordCodec.encode(record);
      synced =
          record.awaitsDurability() ? wal.append(type, payload) : wal.appendLazily(type, payload);
    } catch (IllegalArgumentException tooLarge) {
      synced = CompletableFuture.failedFuture(tooLarge);
    }
    synced.whenComplete(
        (position, error) -> {
          if (error == null) {
            postHere(now -> core.onRecordDurable(record, now));
          } else {
            String reason = String.valueOf(error.getMessage());
            log.warn(
                "{}: WAL append of {} failed: {}", self, record.getClass().getSimpleName(), reason);
            postHere(now -> core.onRecordFailed(record, reason, now));
          }
        });
  }

  private void deliver(Send send) {
    Message m = send.message();
    if (m instanceof Message.VoteReply v) {
      pending.complete(new PendingReplies.Key(v.txId(), PendingReplies.Kind.PREPARE, ""), v);
    } else if (m instanceof Message.Ack a) {
      pending.complete(new PendingReplies.Key(a.txId(), PendingReplies.Kind.PHASE_TWO, ""), a);
    } else if (m instanceof Message.OnePhaseResult r) {
      pending.complete(new PendingReplies.Key(r.txId(), PendingReplies.Kind.ONE_PHASE, ""), r);
    } else if (m instanceof Message.OutcomeReply r) {
      String asker = send.to() instanceof ParticipantRef p ? p.name() : send.to().toString();
      pending.complete(new PendingReplies.Key(r.txId(), PendingReplies.Kind.QUERY, asker), r);
    } else if (m instanceof Message.Inquiry i) {
      outbound.inquire(
          i.txId(), self, i.heuristic(), answerAs(i.txId(), Peer.COORDINATOR, "coordinator"));
    } else if (m instanceof Message.OutcomeQuery q && send.to() instanceof ParticipantRef peer) {
      outbound.queryPeer(q.txId(), peer, self, answerAs(q.txId(), peer, peer.name()));
    } else {
      // The core sends nothing else from a participant; a new message type needs a mapping here.
      throw new IllegalStateException("participant driver cannot deliver " + send);
    }
  }

  private OutboundPublisher.Answer answerAs(TxId txId, Peer from, String party) {
    return new OutboundPublisher.Answer() {
      @Override
      public void outcome(Outcome outcome, String reason) {
        if (FaultSwitches.IGNORE_DECISIONS) {
          post(now -> core.onSendFailed(txId, party, "test fault: answer ignored", now));
          return;
        }
        post(now -> core.onMessage(new Message.OutcomeReply(txId, from, outcome, reason), now));
      }

      @Override
      public void failed(String error) {
        post(now -> core.onSendFailed(txId, party, error, now));
      }
    };
  }

  // ---------------------------------------------------------------- resource

  /**
   * Runs a resource call off the loop (the resource may block). A full pool retries later rather
   * than dropping the call: a rollback of an unprepared branch has nobody else to redo it.
   */
  private void runResource(TxId txId, String id, ResourceCall call) {
    if (closed) {
      return;
    }
    try {
      resourcePool.execute(() -> callResource(txId, id, call));
    } catch (RejectedExecutionException full) {
      if (!closed) {
        retries.schedule(
            () -> runResource(txId, id, call), REPOST_DELAY_MILLIS * 10, TimeUnit.MILLISECONDS);
      }
    }
  }

  private void callResource(TxId txId, String id, ResourceCall call) {
    if (call instanceof ResourceCall.Prepare) {
      PrepareResult result;
      try {
        result = rm.prepare(id);
      } catch (ResourceException | RuntimeException e) {
        // A prepare that failed is a NO; make sure the resource let go of the branch.
        result = PrepareResult.no(rm.name() + ": prepare failed: " + e.getMessage());
        rollbackQuietly(id);
      }
      if (FaultSwitches.PREPARE_DELAY_MILLIS > 0 && result.vote() == ResourceManager.Vote.YES) {
        FaultSwitches.pause(FaultSwitches.PREPARE_DELAY_MILLIS);
      }
      Vote vote =
          switch (result.vote()) {
            case YES -> Vote.YES;
            case NO -> Vote.NO;
            case READ_ONLY -> Vote.READ_ONLY;
          };
      byte[] data = result.branchData();
      String reason = result.reason();
      postHere(now -> core.onResourcePrepared(txId, vote, data, reason, now));
      return;
    }
    String error = "";
    try {
      if (call instanceof ResourceCall.Commit c) {
        rm.commit(id, c.branchData());
      } else if (call instanceof ResourceCall.Rollback r) {
        rm.rollback(id, r.branchData());
      }
    } catch (ResourceException | RuntimeException e) {
      error = e.getMessage() == null ? e.toString() : e.getMessage();
      log.warn("{}: resource {} of {} failed (will retry): {}", self, call, id, error);
    }
    boolean ok = error.isEmpty();
    String why = error;
    postHere(now -> core.onResourceApplied(txId, ok, why, now));
  }

  private void rollbackQuietly(String id) {
    try {
      rm.rollback(id, new byte[0]);
    } catch (ResourceException | RuntimeException e) {
      // The NO stands either way; the resource's own timeout or recovery releases the branch.
      log.warn("{}: rollback after failed prepare of {} failed: {}", self, id, e.getMessage());
    }
  }

  // ---------------------------------------------------------------- enlistment

  /**
   * Business work under {@code txId} is about to run here: start the branch and enlist it at the
   * coordinator (once per transaction). Blocking, called from gRPC server threads.
   *
   * @return OK, or the status to refuse the business call with
   */
  Status startWork(TxId txId) {
    Status started = startBranch(txId, 0);
    if (!started.isOk()) {
      return started;
    }
    CompletableFuture<Status> mine = new CompletableFuture<>();
    CompletableFuture<Status> enlistment = enlisted.putIfAbsent(txId, mine);
    if (enlistment == null) {
      enlistment = mine;
      OutboundPublisher.Enlistment enlistmentResult = outbound.enlist(txId, self);
      Status status = enlistmentResult.status();
      mine.complete(status);
      if (status.isOk()) {
        post(now -> core.onEnlisted(txId, enlistmentResult.deadlineMillis()));
      } else {
        // The coordinator does not know this branch; if it ever heard of it, our NO at prepare
        // (the branch is aborted) keeps the outcome safe.
        post(now -> core.onMessage(new Message.PhaseTwo(txId, Decision.ABORT), now));
      }
    }
    try {
      return enlistment.get(options.rpcDeadlineMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Status.CANCELLED.withDescription("interrupted while enlisting");
    } catch (ExecutionException | TimeoutException e) {
      return Status.UNAVAILABLE.withDescription("enlisting " + txId + " did not finish: " + e);
    }
  }

  /**
   * Business work under {@code txId} is about to run here for a client that enlists this
   * participant itself, with its commit (it read our name from the call's trailer): start the
   * branch with the transaction's deadline, without asking the coordinator. Blocking (one hop to
   * the core's thread), called from gRPC server threads.
   *
   * @return OK, or the status to refuse the business call with
   */
  Status startWorkEnlistedByClient(TxId txId, long deadlineUnixMillis) {
    return startBranch(txId, deadlineUnixMillis);
  }

  /**
   * Starts (or joins) the branch on the core, with the transaction's deadline when it is known
   * ({@code > 0}). Blocking: one hop to the core's thread.
   */
  private Status startBranch(TxId txId, long deadlineUnixMillis) {
    Boolean started;
    try {
      started =
          ask(
              now -> {
                boolean ok = core.onWorkStarted(txId, now);
                if (ok && deadlineUnixMillis > 0) {
                  core.onEnlisted(txId, deadlineUnixMillis);
                }
                return ok;
              });
    } catch (BusyException e) {
      return Status.UNAVAILABLE.withDescription(e.getMessage());
    }
    return started
        ? Status.OK
        : Status.FAILED_PRECONDITION.withDescription(
            "transaction " + txId + " is no longer active here");
  }

  /** A call of a client-enlisted branch was cancelled before its answer reached the client. */
  void workAbandoned(TxId txId) {
    post(now -> core.onWorkAbandoned(txId, now));
  }

  /** Snapshot of every branch, taken on the loop. */
  List<BranchView> branches() {
    if (!ready) {
      throw new BusyException("participant recovering");
    }
    return ask(now -> core.list());
  }

  // ---------------------------------------------------------------- stop

  @Override
  public void close() {
    if (closed) {
      return;
    }
    ready = false;
    try {
      ask(
          now -> {
            pending.failAll(Status.UNAVAILABLE.withDescription("participant shutting down"));
            return null;
          });
    } catch (RuntimeException stopped) {
      // The loop already stopped (fatal error); its waiters die with their calls.
    }
    closed = true;
    loop.close();
    resourcePool.shutdown();
    retries.shutdownNow();
    if (appendDelay != null) {
      appendDelay.shutdownNow();
    }
    try {
      if (!resourcePool.awaitTermination(5, TimeUnit.SECONDS)) {
        resourcePool.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      resourcePool.shutdownNow();
    }
  }

  Throwable fatalError() {
    return loop.fatalError();
  }
}
