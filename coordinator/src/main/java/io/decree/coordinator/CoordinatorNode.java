package io.decree.coordinator;

import io.decree.coordinator.grpc.CoordinatorAdminService;
import io.decree.coordinator.grpc.CoordinatorService;
import io.decree.coordinator.grpc.ParticipantPublisher;
import io.decree.coordinator.log.DecisionLog;
import io.decree.coordinator.log.WalDecisionLog;
import io.decree.core.Message;
import io.decree.core.ParticipantRef;
import io.decree.core.Send;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.CoordinatorEffects;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
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
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
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
  private final NodeLoop loop;
  private final CoordinatorCore core;
  private final Channels channels = new Channels();
  private final ParticipantPublisher publisher;
  private final GrpcServer server;
  private volatile String advertisedAddress = "";

  /** Calls waiting for the core's reply, by call id. Touched only on the loop thread. */
  private final Map<Long, Consumer<ClientReply>> pendingCalls = new HashMap<>();

  /** Inquiries waiting for the core's OutcomeReply, by transaction and participant. Loop only. */
  private final Map<TxId, Map<String, Consumer<Message.OutcomeReply>>> pendingInquiries =
      new HashMap<>();

  private long nextCallId;
  private final long recordsReplayed;
  private final long startedAtMillis = System.currentTimeMillis();

  private CoordinatorNode(CoordinatorOptions options, DecisionLog decisionLog) {
    this.options = options;
    this.decisionLog = decisionLog;
    this.loop =
        new NodeLoop("decree-coordinator", options.queueCapacity(), System::currentTimeMillis);
    this.core = new CoordinatorCore(options.protocol(), Incarnation.next(options.dataDir()));
    List<CoordinatorRecord> records = decisionLog.recover();
    log.info("decision log replayed: {} records", records.size());
    this.recordsReplayed = records.size();
    this.publisher = new ParticipantPublisher(this, channels, options.rpcDeadlineMillis());
    // Recovery is queued before the port opens, so no request can see a core without its log.
    onLoop(now -> core.onRecover(records, now));
    this.server =
        GrpcServer.start(
            options.bindHost(),
            options.port(),
            List.of(new CoordinatorService(this), new CoordinatorAdminService(this)),
            List.of(),
            // Both only hand requests to the loop: no need for a worker-thread hop.
            Set.of(CoordinatorGrpc.SERVICE_NAME, CoordinatorAdminGrpc.SERVICE_NAME));
    this.advertisedAddress =
        options.advertisedAddress().isEmpty()
            ? options.bindHost() + ":" + server.port()
            : options.advertisedAddress();
    loop.tickEvery(options.tickMillis(), now -> core.onTick(now));
  }

  /** Opens the decision log in {@code options.dataDir()} and starts serving. */
  public static CoordinatorNode start(CoordinatorOptions options) {
    WalConfig wal = WalConfig.builder().directory(options.dataDir().resolve("decisions")).build();
    return start(options, new WalDecisionLog(ChronicleWal.open(wal)));
  }

  /** Starts over a given decision log (tests, and the replicated log of a cluster). */
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
   * on the loop thread.
   */
  public void call(CoreCall call, Consumer<ClientReply> onReply) {
    onLoop(
        now -> {
          long callId = ++nextCallId;
          pendingCalls.put(callId, onReply);
          call.apply(core, callId, now);
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
      Consumer<Message.OutcomeReply> onAnswer) {
    onLoop(
        now -> {
          pendingInquiries.computeIfAbsent(txId, t -> new HashMap<>()).put(from.name(), onAnswer);
          core.onMessage(new Message.Inquiry(txId, from, heuristic), now);
        });
  }

  /** Decision-log records read back at start. */
  public long recordsReplayed() {
    return recordsReplayed;
  }

  public long startedAtMillis() {
    return startedAtMillis;
  }

  /** A response from a participant, turned into a protocol message. */
  public void deliver(Message message) {
    onLoop(now -> core.onMessage(message, now));
  }

  public void sendFailed(TxId txId, ParticipantRef to, String error) {
    onLoop(now -> core.onSendFailed(txId, to, error, now));
  }

  /** Reads the core on its thread (admin views). */
  public void read(BiConsumer<CoordinatorCore, Long> reader) {
    onLoop(now -> reader.accept(core, now));
  }

  // ---------------------------------------------------------------- driver

  /** Runs a task on the core's thread, then carries out whatever the core asked for. */
  private void onLoop(LongConsumer task) {
    loop.execute(
        now -> {
          task.accept(now);
          flush();
        });
  }

  private void flush() {
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
    if (record instanceof DecisionRecord decision) {
      bounded(decisionLog.appendDecision(decision))
          .whenComplete(
              (winner, error) ->
                  onLoop(
                      now -> {
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
      bounded(decisionLog.append(record))
          .whenComplete(
              (ok, error) ->
                  onLoop(
                      now -> {
                        if (error == null) {
                          core.onOnePhaseDurable(onePhase.txId(), now);
                        } else {
                          core.onOnePhaseAppendFailed(onePhase.txId(), describe(error), now);
                        }
                      }));
    } else {
      // END and horizon records need no answer: losing one only means re-driving or
      // remembering a transaction a little longer after a restart.
      decisionLog
          .append(record)
          .whenComplete(
              (ok, error) -> {
                if (error != null) {
                  log.warn("decision log: {} not appended: {}", record, describe(error));
                }
              });
    }
  }

  private <T> CompletableFuture<T> bounded(CompletableFuture<T> future) {
    return future.copy().orTimeout(options.decisionTimeoutMillis(), TimeUnit.MILLISECONDS);
  }

  private static String describe(Throwable error) {
    Throwable cause =
        error instanceof java.util.concurrent.CompletionException && error.getCause() != null
            ? error.getCause()
            : error;
    if (cause instanceof java.util.concurrent.TimeoutException) {
      return "not durable within the decision timeout";
    }
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }

  /** The address participants are told to inquire at. */
  public List<String> coordinatorAddresses() {
    return List.of(advertisedAddress);
  }

  @Override
  public void close() {
    server.close();
    loop.close();
    channels.close();
    decisionLog.close();
  }
}
