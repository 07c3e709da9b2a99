package io.decree.participant;

import io.decree.core.Message;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.node.FaultSwitches;
import io.decree.node.grpc.ProtoMapping;
import io.decree.participant.PendingReplies.Kind;
import io.decree.proto.v1.OutcomeQuery;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PhaseTwoResponse;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.PrepareResponse;
import io.decree.proto.v1.ProtocolReply;
import io.decree.proto.v1.ProtocolRequest;
import io.decree.proto.v1.TxOutcome;
import io.decree.proto.v1.TxState;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Inbound adapter for the {@code Participant} service: validates and decodes each request into a
 * core message, parks the call in {@link PendingReplies} and lets the core answer it. It never
 * decides an answer itself.
 *
 * <p>Request to message, and the core message that answers it:
 *
 * <ul>
 *   <li>Prepare → {@link Message.Prepare}; answered by {@link Message.VoteReply}
 *   <li>Commit / Abort → {@link Message.PhaseTwo}; answered by {@link Message.Ack}
 *   <li>CommitOnePhase → {@link Message.OnePhaseCommit}; answered by {@link Message.OnePhaseResult}
 *   <li>QueryOutcome → {@link Message.OutcomeQuery} from {@code asked_by}; answered by the {@link
 *       Message.OutcomeReply} addressed to that asker
 *   <li>Exchange: the first three kinds on one stream ({@link ProtocolStream})
 * </ul>
 */
final class ParticipantServiceAdapter extends ParticipantGrpc.ParticipantImplBase {
  /** More peers than any transaction may have (the coordinator bounds it lower). */
  static final int PARTICIPANTS_MAX = 1_024;

  private final ParticipantDriver driver;

  ParticipantServiceAdapter(ParticipantDriver driver) {
    this.driver = driver;
  }

  /**
   * A decoded protocol request: the key its answer is parked under, the message for the core, and
   * how the core's answer becomes the wire response.
   */
  record Inbound<R>(PendingReplies.Key key, Message message, Function<Message, R> toResponse) {}

  static Inbound<PrepareResponse> prepareOf(PrepareRequest request) {
    TxId txId = ProtoMapping.txId(request.getTxId());
    if (request.getParticipantsCount() > PARTICIPANTS_MAX) {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription(
              "participants: "
                  + request.getParticipantsCount()
                  + " exceeds the limit of "
                  + PARTICIPANTS_MAX)
          .asRuntimeException();
    }
    List<ParticipantRef> peers = ProtoMapping.participants(request.getParticipantsList());
    return new Inbound<>(
        new PendingReplies.Key(txId, Kind.PREPARE, ""),
        new Message.Prepare(txId, peers),
        reply -> {
          Message.VoteReply v = (Message.VoteReply) reply;
          return PrepareResponse.newBuilder()
              .setVote(ProtoMapping.toProto(v.vote()))
              .setReason(v.reason())
              .build();
        });
  }

  static Inbound<PhaseTwoResponse> phaseTwoOf(
      PhaseTwoRequest request, io.decree.core.Decision decision) {
    if (FaultSwitches.IGNORE_PHASE_TWO || FaultSwitches.IGNORE_DECISIONS) {
      throw Status.UNAVAILABLE.withDescription("test fault: ignoring phase 2").asRuntimeException();
    }
    TxId txId = ProtoMapping.txId(request.getTxId());
    return new Inbound<>(
        new PendingReplies.Key(txId, Kind.PHASE_TWO, ""),
        new Message.PhaseTwo(txId, decision),
        reply -> {
          Message.Ack a = (Message.Ack) reply;
          return PhaseTwoResponse.newBuilder()
              .setOutcome(ProtoMapping.toProto(a.decision().outcome()))
              .build();
        });
  }

  static Inbound<TxOutcome> onePhaseOf(PhaseTwoRequest request) {
    TxId txId = ProtoMapping.txId(request.getTxId());
    return new Inbound<>(
        new PendingReplies.Key(txId, Kind.ONE_PHASE, ""),
        new Message.OnePhaseCommit(txId),
        reply -> {
          Message.OnePhaseResult r = (Message.OnePhaseResult) reply;
          return outcome(txId, r.outcome(), r.reason());
        });
  }

  @Override
  public void prepare(PrepareRequest request, StreamObserver<PrepareResponse> observer) {
    serve(observer, () -> prepareOf(request));
  }

  @Override
  public void commit(PhaseTwoRequest request, StreamObserver<PhaseTwoResponse> observer) {
    phaseTwo(request, io.decree.core.Decision.COMMIT, observer);
  }

  @Override
  public void abort(PhaseTwoRequest request, StreamObserver<PhaseTwoResponse> observer) {
    phaseTwo(request, io.decree.core.Decision.ABORT, observer);
  }

  private void phaseTwo(
      PhaseTwoRequest request,
      io.decree.core.Decision decision,
      StreamObserver<PhaseTwoResponse> observer) {
    serve(observer, () -> phaseTwoOf(request, decision));
  }

  @Override
  public void commitOnePhase(PhaseTwoRequest request, StreamObserver<TxOutcome> observer) {
    serve(observer, () -> onePhaseOf(request));
  }

  /** Decodes a unary request and parks it; a request that does not decode fails the call. */
  private <R> void serve(StreamObserver<R> observer, Supplier<Inbound<R>> decode) {
    Inbound<R> inbound;
    try {
      inbound = decode.get();
    } catch (StatusRuntimeException invalid) {
      observer.onError(invalid);
      return;
    }
    park(observer, inbound.key(), inbound.message(), inbound.toResponse());
  }

  @Override
  public StreamObserver<ProtocolRequest> exchange(StreamObserver<ProtocolReply> replies) {
    return new ProtocolStream(this, (ServerCallStreamObserver<ProtocolReply>) replies);
  }

  @Override
  public void queryOutcome(OutcomeQuery request, StreamObserver<TxOutcome> observer) {
    TxId txId;
    ParticipantRef asker;
    try {
      txId = ProtoMapping.txId(request.getTxId());
      try {
        // The asker is known by name only: its answer travels back on this call, not by address.
        asker = new ParticipantRef(request.getAskedBy(), "");
      } catch (IllegalArgumentException e) {
        throw ProtoMapping.invalid("asked_by: " + e.getMessage());
      }
    } catch (StatusRuntimeException invalid) {
      observer.onError(invalid);
      return;
    }
    park(
        observer,
        new PendingReplies.Key(txId, Kind.QUERY, asker.name()),
        new Message.OutcomeQuery(txId, asker),
        reply -> {
          Message.OutcomeReply r = (Message.OutcomeReply) reply;
          return outcome(txId, r.outcome(), r.reason());
        });
  }

  private static TxOutcome outcome(TxId txId, io.decree.core.Outcome outcome, String reason) {
    return TxOutcome.newBuilder()
        .setTxId(txId.toString())
        .setOutcome(ProtoMapping.toProto(outcome))
        .setReason(reason)
        .setState(TxState.TX_STATE_UNSPECIFIED)
        .build();
  }

  /** Parks a unary call until the core answers it. */
  private <R> void park(
      StreamObserver<R> observer,
      PendingReplies.Key key,
      Message message,
      Function<Message, R> toResponse) {
    ServerCallStreamObserver<R> call = (ServerCallStreamObserver<R>) observer;
    PendingReplies.Waiter waiter =
        new PendingReplies.Waiter(
            System.currentTimeMillis(),
            reply -> respond(call, toResponse.apply(reply)),
            status -> fail(call, status));
    // Cancellation also fires when the caller's deadline passes: forget the call then.
    call.setOnCancelHandler(() -> forget(key, waiter));
    park(key, waiter, message);
  }

  /**
   * Parks {@code waiter}, then feeds the message to the core, in one loop task so that an answer
   * the core gives at once finds it parked. A full loop or table fails the waiter (UNAVAILABLE).
   */
  void park(PendingReplies.Key key, PendingReplies.Waiter waiter, Message message) {
    boolean accepted =
        driver.submit(
            now -> {
              if (!driver.pending().add(key, waiter)) {
                waiter.onFailure.accept(
                    Status.UNAVAILABLE.withDescription("participant busy: too many calls"));
                return;
              }
              driver.core().onMessage(message, now);
            });
    if (!accepted) {
      waiter.onFailure.accept(Status.UNAVAILABLE.withDescription("participant busy"));
    }
  }

  /** The caller went away: its waiter leaves without an answer. */
  void forget(PendingReplies.Key key, PendingReplies.Waiter waiter) {
    driver.submit(now -> driver.pending().remove(key, waiter));
  }

  private static <R> void respond(ServerCallStreamObserver<R> call, R response) {
    if (call.isCancelled()) {
      return;
    }
    try {
      call.onNext(response);
      call.onCompleted();
    } catch (IllegalStateException | StatusRuntimeException cancelledMeanwhile) {
      // The caller left between the check and the write; it will ask again (idempotent).
    }
  }

  private static void fail(ServerCallStreamObserver<?> call, Status status) {
    if (call.isCancelled()) {
      return;
    }
    try {
      call.onError(status.asRuntimeException());
    } catch (IllegalStateException | StatusRuntimeException cancelledMeanwhile) {
      // As in respond(): nobody is listening any more.
    }
  }
}
