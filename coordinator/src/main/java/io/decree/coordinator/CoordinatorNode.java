package io.decree.coordinator;

import io.decree.coordinator.grpc.CoordinatorAdminService;
import io.decree.coordinator.grpc.CoordinatorService;
import io.decree.coordinator.grpc.ParticipantPublisher;
import io.decree.coordinator.log.DecisionLog;
import io.decree.coordinator.log.DecisionStatus;
import io.decree.coordinator.log.ReplicatedDecisionLog;
import io.decree.coordinator.log.WalDecisionLog;
import io.decree.core.Answer;
import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.Peer;
import io.decree.core.Send;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.coordinator.CoordinatorConfig;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.CoordinatorEffects;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import io.decree.core.coordinator.TxPhase;
import io.decree.node.FaultSwitches;
import io.decree.node.NodeLoop;
import io.decree.node.grpc.Channels;
import io.decree.node.grpc.GrpcServer;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.CoordinatorGrpc;
import io.decree.wal.ChronicleWal;
import io.decree.wal.WalConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single coordinator node: the protocol core on its own thread, the decision log, the gRPC
 * services, and the calls out to participants. This class is the driver: it feeds the core and
 * carries out its effects, and decides nothing itself.
 */
public final class CoordinatorNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorNode.class);

  private final CoordinatorOptions options;
  private final DecisionLog decisionLog;

  /** The same log when it is shared by a cluster; null for a single node. */
  private final ReplicatedDecisionLog cluster;

  private final NodeLoop loop;

  /**
   * The protocol core while this node leads: always for a single node; in a cluster, a fresh one
   * per term led, null while following. Touched only inside the loop (one thread at a time).
   */
  private CoordinatorCore core;

  /** The cluster term {@link #core} was built for (0 for a single node). Loop thread only. */
  private long coreTerm;

  /** In a cluster: the last leader this member knew of, and when (for blocking reports). */
  private volatile String lastLeaderSeen = "";

  private volatile long lastLeaderSeenMillis;
  private final Channels channels = new Channels();
  private final LeaderWatch leaderWatch;
  private final ParticipantPublisher publisher;
  private final GrpcServer server;
  private final CoordinatorService coordinatorService = new CoordinatorService(this);
  private volatile String advertisedAddress = "";

  /**
   * Calls waiting for the core's reply, by call id. Touched only inside the loop (one thread at a
   * time).
   */
  private final Map<Long, Consumer<ClientReply>> pendingCalls = new HashMap<>();

  /** Inquiries waiting for the core's OutcomeReply, by transaction and participant. Loop only. */
  private final Map<TxId, Map<String, Consumer<Message.OutcomeReply>>> pendingInquiries =
      new HashMap<>();

  private long nextCallId;
  private volatile long recordsReplayed;
  private final long startedAtMillis = System.currentTimeMillis();

  private CoordinatorNode(CoordinatorOptions options, DecisionLog decisionLog) {
    this.options = options;
    this.decisionLog = decisionLog;
    this.cluster = decisionLog instanceof ReplicatedDecisionLog r ? r : null;
    this.loop =
        new NodeLoop("decree-coordinator", options.queueCapacity(), System::currentTimeMillis);
    this.publisher = new ParticipantPublisher(this, channels, options.rpcDeadlineMillis());
    if (cluster == null) {
      // Recovery is queued before the port opens, so no request can see a core without its log.
      CoordinatorCore single = new CoordinatorCore(protocol(), Incarnation.next(options.dataDir()));
      List<CoordinatorRecord> records = decisionLog.recover();
      log.info("core recovers from {} records of the decision log", records.size());
      this.recordsReplayed = records.size();
      onLoop(
          now -> {
            core = single;
            core.onRecover(records, now);
          });
    }
    this.server =
        GrpcServer.start(
            options.bindHost(),
            options.port(),
            List.of(coordinatorService, new CoordinatorAdminService(this)),
            List.of(),
            // Both only hand requests to the loop: no need for a worker-thread hop.
            Set.of(CoordinatorGrpc.SERVICE_NAME, CoordinatorAdminGrpc.SERVICE_NAME));
    this.advertisedAddress =
        options.advertisedAddress().isEmpty()
            ? options.bindHost() + ":" + server.port()
            : options.advertisedAddress();
    // Like every loop task, a tick's effects are carried out at once: a timer that aborts or
    // resends must not wait for some unrelated message to flush them.
    loop.tickEvery(
        options.tickMillis(),
        now -> {
          tick(now);
          flush();
        });
    this.leaderWatch =
        cluster != null && options.leaderWatch()
            ? new LeaderWatch(cluster, options.memberAddresses(), channels::get)
            : null;
    if (cluster != null) {
      cluster.onLeadershipChange(
          leading ->
              onLoop(
                  now -> {
                    if (leading) {
                      becomeLeader(now);
                    } else {
                      stepDown("lost leadership", now);
                    }
                  }));
    }
  }

  /** Opens the decision log in {@code options.dataDir()} and starts serving. */
  public static CoordinatorNode start(CoordinatorOptions options) {
    WalConfig wal = WalConfig.builder().directory(options.dataDir().resolve("decisions")).build();
    return start(
        options, new WalDecisionLog(ChronicleWal.open(wal), options.checkpointEveryRecords()));
  }

  /**
   * Starts over a given decision log: tests, and a cluster member (a {@link
   * ReplicatedDecisionLog}), which runs a core only while it leads.
   */
  public static CoordinatorNode start(CoordinatorOptions options, DecisionLog decisionLog) {
    try {
      return new CoordinatorNode(options, decisionLog);
    } catch (RuntimeException e) {
      decisionLog.close();
      throw e;
    }
  }

  public int port() {
    return server.port();
  }

  public String address() {
    return advertisedAddress;
  }

  // ---------------------------------------------------------------- for the inbound adapters

  /** A client call into the core, run on the core's thread. */
  @FunctionalInterface
  public interface CoreCall {
    void apply(CoordinatorCore core, long callId, long nowMillis);
  }

  /**
   * Runs a client call on the core under a fresh call id; the core's reply reaches {@code onReply}
   * inside the loop (one thread at a time).
   */
  public void call(CoreCall call, Consumer<ClientReply> onReply) {
    onLoopHere(
        now -> {
          if (core == null) {
            onReply.accept(
                new ClientReply.Rejected(ClientReply.Rejection.UNAVAILABLE, notLeader()));
            return;
          }
          long callId = ++nextCallId;
          pendingCalls.put(callId, onReply);
          call.apply(core, callId, now);
        });
  }

  /**
   * A status query. In a cluster the decision log is read first (linearizably), so a member whose
   * leadership ended without its knowing yet cannot answer from what it remembers.
   */
  public void status(TxId txId, Consumer<ClientReply> onReply) {
    if (cluster == null) {
      call((c, callId, now) -> c.onStatus(callId, txId, now), onReply);
      return;
    }
    cluster
        .readDecision(txId)
        .whenComplete(
            (read, error) -> {
              if (error != null) {
                onReply.accept(
                    new ClientReply.Answered(Answer.unknown(txId, describe(error)), null));
              } else if (read.state() == DecisionStatus.State.DECIDED) {
                var decision = read.decision().orElseThrow().decision();
                TxPhase phase =
                    read.ended()
                        ? TxPhase.ENDED
                        : decision == Decision.COMMIT ? TxPhase.COMMITTING : TxPhase.ABORTING;
                onReply.accept(new ClientReply.Answered(Answer.of(txId, decision), phase));
              } else {
                call((c, callId, now) -> c.onStatus(callId, txId, now), onReply);
              }
            });
  }

  /**
   * A participant asks for the decision; {@code onAnswer} gets the core's reply.
   *
   * @param heuristic the outcome an operator forced at that branch, or null
   */
  public void inquire(
      TxId txId,
      ParticipantRef from,
      io.decree.core.Decision heuristic,
      Consumer<Message.OutcomeReply> onAnswer,
      Consumer<String> onNotLeader) {
    onLoopHere(
        now -> {
          if (core == null) {
            onNotLeader.accept(notLeader());
            return;
          }
          pendingInquiries.computeIfAbsent(txId, t -> new HashMap<>()).put(from.name(), onAnswer);
          core.onMessage(new Message.Inquiry(txId, from, heuristic), now);
        });
  }

  /**
   * Decision-log records read back at start (in a cluster: when this member last became leader).
   */
  public long recordsReplayed() {
    return recordsReplayed;
  }

  public long startedAtMillis() {
    return startedAtMillis;
  }

  /** A response from a participant, turned into a protocol message. */
  public void deliver(Message message) {
    onLoopUnlessFull(
        now -> {
          if (core != null) {
            core.onMessage(message, now);
          }
        });
  }

  public void sendFailed(TxId txId, ParticipantRef to, String error) {
    onLoopUnlessFull(
        now -> {
          if (core != null) {
            core.onSendFailed(txId, to, error, now);
          }
        });
  }

  /**
   * Reads the core on its thread (admin views). The core is null while this cluster member does not
   * lead: {@link #notLeader()} says why.
   */
  public void read(BiConsumer<CoordinatorCore, Long> reader) {
    onLoop(now -> reader.accept(core, now));
  }

  /** In a cluster: each member's id and coordinator gRPC address. */
  public Map<String, String> memberAddresses() {
    return options.memberAddresses();
  }

  /** The cluster's decision log, or empty for a single node. */
  public java.util.Optional<ReplicatedDecisionLog> cluster() {
    return java.util.Optional.ofNullable(cluster);
  }

  /**
   * Why this member cannot serve protocol calls, with where to go instead: the leader's coordinator
   * address when known, else the last leader seen ("no coordinator quorum" when none is known).
   */
  public String notLeader() {
    if (cluster == null) {
      return "coordinator is starting";
    }
    var leader = cluster.leaderId();
    if (leader.isPresent() && !leader.get().equals(cluster.memberId())) {
      return "not the leader: "
          + cluster.memberId()
          + " follows; leader is "
          + leader.get()
          + " at "
          + options.memberAddresses().getOrDefault(leader.get(), "an unknown address");
    }
    String last =
        lastLeaderSeen.isEmpty()
            ? "no leader seen since this member started"
            : "last leader seen: "
                + lastLeaderSeen
                + " at "
                + options.memberAddresses().getOrDefault(lastLeaderSeen, "an unknown address")
                + ", "
                + Math.max(0, System.currentTimeMillis() - lastLeaderSeenMillis) / 1000
                + " s ago";
    return "no coordinator quorum: " + cluster.memberId() + " knows no ready leader (" + last + ")";
  }

  /** The protocol settings, with the test-only unsafe switch applied when it is on. */
  private CoordinatorConfig protocol() {
    return FaultSwitches.COORDINATOR_UNSAFE_SEND_BEFORE_DURABLE
        ? options.protocol().withUnsafeSendBeforeDurable(true)
        : options.protocol();
  }

  // ---------------------------------------------------------------- leadership (cluster)

  /** This member leads now: a fresh core, rebuilt from the whole replicated log. */
  private void becomeLeader(long now) {
    long term = cluster.leaderTerm();
    if (term == 0 || term == coreTerm) {
      return; // lost again before we got here, or already leading this term
    }
    if (core != null) {
      stepDown("a new term began", now);
    }
    // The term is the id issuer: one leader per term, and a member leads again only in a later one.
    CoordinatorCore fresh = new CoordinatorCore(protocol(), (int) term);
    List<CoordinatorRecord> records = cluster.recover();
    core = fresh;
    coreTerm = term;
    recordsReplayed = records.size();
    core.onRecover(records, now);
    log.info(
        "{} leads term {}: core rebuilt from {} records; phase 2 re-driven",
        cluster.memberId(),
        term,
        records.size());
  }

  /** This member no longer leads: whoever waits on its core hears UNKNOWN, and the core goes. */
  private void stepDown(String why, long now) {
    if (core == null) {
      return;
    }
    log.info("{} stops leading term {}: {}", cluster.memberId(), coreTerm, why);
    core.onLeadershipLost(now);
    flush();
    pendingCalls.forEach(
        (id, reply) ->
            reply.accept(
                new ClientReply.Rejected(
                    ClientReply.Rejection.UNAVAILABLE, "coordinator " + why + "; ask the leader")));
    pendingCalls.clear();
    pendingInquiries.forEach(
        (txId, waiting) ->
            waiting.forEach(
                (name, answer) ->
                    answer.accept(
                        new Message.OutcomeReply(
                            txId, Peer.COORDINATOR, Outcome.UNKNOWN, "coordinator " + why))));
    pendingInquiries.clear();
    core = null;
    coreTerm = 0;
  }

  private void tick(long now) {
    if (cluster != null) {
      cluster
          .leaderId()
          .ifPresent(
              leader -> {
                lastLeaderSeen = leader;
                lastLeaderSeenMillis = now;
              });
    }
    if (core != null) {
      core.onTick(now);
    }
  }

  // ---------------------------------------------------------------- driver

  /**
   * For what participants send or fail to receive: with the loop's queue full it is dropped, not
   * thrown at the sender (which may be the loop itself, sending): the core's timers ask again.
   */
  private void onLoopUnlessFull(LongConsumer task) {
    // dropped when full: a vote or an ack is asked for again, a failure is only bookkeeping
    loop.tryExecuteHere(thenFlush(task));
  }

  /** Runs a task on the core's thread, then carries out whatever the core asked for. */
  private void onLoop(LongConsumer task) {
    loop.execute(thenFlush(task));
  }

  /**
   * For the result of an append (a decision durable, or its append failed): never dropped, or a
   * transaction would wait for it forever. With the queue full it is tried again shortly; a stopped
   * loop needs it no more. A single node's results arrive on its WAL's writer, which runs the core
   * itself when it is free (no wake-up of the loop thread: see {@link NodeLoop#executeHere}). Two
   * kinds go to the loop thread instead: a cluster's (they arrive on Ratis threads) and a timeout
   * (it fires on the JVM's shared timer thread, which must neither run the core nor wait for room
   * in the WAL's queue on its behalf).
   */
  private void onLoopResult(Throwable error, LongConsumer task) {
    if (cluster == null && !(unwrap(error) instanceof TimeoutException)) {
      loop.executeHereEventually(thenFlush(task));
    } else {
      loop.executeEventually(thenFlush(task));
    }
  }

  /**
   * Like {@link #onLoop}, but on the calling thread when the core is free: for requests arriving on
   * gRPC transport threads.
   */
  private void onLoopHere(LongConsumer task) {
    loop.executeHere(thenFlush(task));
  }

  private LongConsumer thenFlush(LongConsumer task) {
    return now -> {
      task.accept(now);
      flush();
    };
  }

  private void flush() {
    if (core == null) {
      return;
    }
    CoordinatorEffects effects = core.drain();
    for (CoordinatorRecord record : effects.appends()) {
      append(record);
    }
    for (Send send : effects.sends()) {
      Message message = send.message();
      if (message instanceof Message.OutcomeReply reply) {
        answerInquiry(reply, (ParticipantRef) send.to());
      } else {
        publisher.send((ParticipantRef) send.to(), message);
      }
    }
    for (CoordinatorEffects.Reply reply : effects.replies()) {
      Consumer<ClientReply> target = pendingCalls.remove(reply.callId());
      if (target != null) {
        target.accept(reply.body());
      }
    }
  }

  private void answerInquiry(Message.OutcomeReply reply, ParticipantRef to) {
    Map<String, Consumer<Message.OutcomeReply>> waiting = pendingInquiries.get(reply.txId());
    if (waiting == null) {
      return;
    }
    Consumer<Message.OutcomeReply> target = waiting.remove(to.name());
    if (waiting.isEmpty()) {
      pendingInquiries.remove(reply.txId());
    }
    if (target != null) {
      target.accept(reply);
    }
  }

  private void append(CoordinatorRecord record) {
    CoordinatorCore appendedBy = core;
    if (record instanceof DecisionRecord decision) {
      bounded(appendDecision(decision))
          .whenComplete(
              (winner, error) ->
                  onLoopResult(
                      error,
                      now -> {
                        if (core != appendedBy) {
                          return; // that core is gone (leadership ended); its waiters heard why
                        }
                        if (error == null) {
                          if (FaultSwitches.HALT_AFTER_DECISION) {
                            FaultSwitches.halt("decision durable for " + winner.txId());
                          }
                          core.onDecisionDurable(winner, now);
                        } else {
                          core.onDecisionAppendFailed(decision.txId(), describe(error), now);
                        }
                      }));
    } else if (record instanceof OnePhaseRecord onePhase) {
      bounded(appendOther(record))
          .whenComplete(
              (ok, error) ->
                  onLoopResult(
                      error,
                      now -> {
                        if (core != appendedBy) {
                          return;
                        }
                        if (error == null) {
                          core.onOnePhaseDurable(onePhase.txId(), now);
                        } else {
                          core.onOnePhaseAppendFailed(onePhase.txId(), describe(error), now);
                        }
                      }));
    } else {
      // END and horizon records need no answer: losing one only means re-driving or
      // remembering a transaction a little longer after a restart.
      appendOther(record)
          .whenComplete(
              (ok, error) -> {
                if (error != null) {
                  log.warn("decision log: {} not appended: {}", record, describe(error));
                }
              });
    }
  }

  /** Appends under the core's term in a cluster, so a deposed core's records are never applied. */
  private CompletableFuture<DecisionRecord> appendDecision(DecisionRecord decision) {
    long term = coreTerm;
    return slowDisk(
        () ->
            cluster == null
                ? decisionLog.appendDecision(decision)
                : cluster.appendDecision(decision, term));
  }

  private CompletableFuture<Void> appendOther(CoordinatorRecord record) {
    long term = coreTerm;
    return slowDisk(
        () -> cluster == null ? decisionLog.append(record) : cluster.append(record, term));
  }

  /**
   * Runs the append now, or TEST ONLY (fault switch {@code decree.fault.appendDelayMillis}) later
   * on the loop thread, as a slow disk would: a kill -9 in between loses the record.
   */
  private <T> CompletableFuture<T> slowDisk(Supplier<CompletableFuture<T>> append) {
    if (FaultSwitches.APPEND_DELAY_MILLIS <= 0) {
      return append.get();
    }
    return CompletableFuture.supplyAsync(
            () -> null,
            CompletableFuture.delayedExecutor(
                FaultSwitches.APPEND_DELAY_MILLIS,
                TimeUnit.MILLISECONDS,
                task -> loop.execute(now -> task.run())))
        .thenCompose(ignored -> append.get());
  }

  private <T> CompletableFuture<T> bounded(CompletableFuture<T> future) {
    return future.copy().orTimeout(options.decisionTimeoutMillis(), TimeUnit.MILLISECONDS);
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof java.util.concurrent.CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }

  private static String describe(Throwable error) {
    Throwable cause = unwrap(error);
    if (cause instanceof TimeoutException) {
      return "not durable within the decision timeout";
    }
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }

  /** The addresses participants are told to inquire at: every member's in a cluster. */
  public List<String> coordinatorAddresses() {
    return options.memberAddresses().isEmpty()
        ? List.of(advertisedAddress)
        : List.copyOf(options.memberAddresses().values());
  }

  @Override
  public void close() {
    if (leaderWatch != null) {
      leaderWatch.close();
    }
    // Session streams never end by themselves: without this, every stop would wait out the
    // server's grace and cut what they still carried.
    coordinatorService.drainSessions();
    server.close();
    loop.close();
    publisher.close();
    channels.close();
    decisionLog.close();
  }
}
