package io.decree.coordinator.grpc;

import io.decree.coordinator.CoordinatorNode;
import io.decree.core.Message;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.node.grpc.Channels;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PhaseTwoResponse;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.PrepareResponse;
import io.decree.proto.v1.ProtocolReply;
import io.decree.proto.v1.ProtocolRequest;
import io.decree.proto.v1.TxOutcome;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Outbound adapter: turns the core's messages to participants into requests on each participant's
 * {@code Exchange} stream (or unary calls, for a participant without one), and their replies back
 * into protocol messages for the core. It validates and translates, never decides.
 */
public final class ParticipantPublisher {
  private final CoordinatorNode node;
  private final Channels channels;
  private final long deadlineMillis;
  private final Map<ParticipantRef, ParticipantStream> streams = new ConcurrentHashMap<>();

  public ParticipantPublisher(CoordinatorNode node, Channels channels, long deadlineMillis) {
    this.node = node;
    this.channels = channels;
    this.deadlineMillis = deadlineMillis;
  }

  /**
   * Sends on the participant's {@code Exchange} stream; with a participant that has none
   * (UNIMPLEMENTED), as unary calls.
   */
  public void send(ParticipantRef to, Message message) {
    ParticipantStream stream =
        streams.computeIfAbsent(
            to,
            p ->
                new ParticipantStream(
                    channels.get(p.address()),
                    deadlineMillis,
                    reply -> onReply(p, reply),
                    (txId, error) -> node.sendFailed(txId, p, error),
                    sentMeanwhile -> sentMeanwhile.forEach(m -> sendUnary(p, m))));
    if (stream.unsupported()) {
      sendUnary(to, message);
    } else {
      stream.send(message, request(message));
    }
  }

  private ProtocolRequest request(Message message) {
    if (message instanceof Message.Prepare prepare) {
      return ProtocolRequest.newBuilder().setPrepare(prepareRequest(prepare)).build();
    }
    if (message instanceof Message.PhaseTwo phaseTwo) {
      PhaseTwoRequest request =
          PhaseTwoRequest.newBuilder().setTxId(phaseTwo.txId().toString()).build();
      return switch (phaseTwo.decision()) {
        case COMMIT -> ProtocolRequest.newBuilder().setCommit(request).build();
        case ABORT -> ProtocolRequest.newBuilder().setAbort(request).build();
      };
    }
    if (message instanceof Message.OnePhaseCommit onePhase) {
      return ProtocolRequest.newBuilder()
          .setCommitOnePhase(
              PhaseTwoRequest.newBuilder().setTxId(onePhase.txId().toString()).build())
          .build();
    }
    throw new IllegalArgumentException("not a coordinator-to-participant message: " + message);
  }

  private PrepareRequest prepareRequest(Message.Prepare prepare) {
    PrepareRequest.Builder request =
        PrepareRequest.newBuilder()
            .setTxId(prepare.txId().toString())
            .addAllCoordinatorAddresses(node.coordinatorAddresses());
    prepare.participants().forEach(p -> request.addParticipants(ProtoMapping.toProto(p)));
    return request.build();
  }

  private void onReply(ParticipantRef from, ProtocolReply reply) {
    TxId txId;
    try {
      txId = TxId.parse(reply.getTxId());
    } catch (IllegalArgumentException notAnId) {
      return; // a refusal of a request that had no usable id: nobody waits for it
    }
    switch (reply.getReplyCase()) {
      case VOTE -> onVote(from, txId, reply.getVote());
      case PHASE_TWO -> onPhaseTwo(from, txId, reply.getPhaseTwo());
      case ONE_PHASE -> onOnePhase(from, txId, reply.getOnePhase());
      case ERROR ->
          node.sendFailed(
              txId,
              from,
              Status.fromCodeValue(reply.getError().getCode()).getCode()
                  + ": "
                  + reply.getError().getDescription());
      case REPLY_NOT_SET -> node.sendFailed(txId, from, "empty reply from the participant");
    }
  }

  private void onVote(ParticipantRef from, TxId txId, PrepareResponse r) {
    node.deliver(new Message.VoteReply(txId, from, ProtoMapping.vote(r.getVote()), r.getReason()));
  }

  private void onPhaseTwo(ParticipantRef from, TxId txId, PhaseTwoResponse r) {
    Outcome outcome = ProtoMapping.outcome(r.getOutcome());
    if (outcome.definite()) {
      node.deliver(new Message.Ack(txId, from, ProtoMapping.decision(outcome)));
    } else {
      node.sendFailed(txId, from, "not applied yet: " + r.getReason());
    }
  }

  private void onOnePhase(ParticipantRef from, TxId txId, TxOutcome r) {
    node.deliver(
        new Message.OnePhaseResult(
            txId, from, ProtoMapping.outcome(r.getOutcome()), r.getReason()));
  }

  /** One unary call per message: for a participant without the Exchange stream. */
  private void sendUnary(ParticipantRef to, Message message) {
    TxId txId = message.txId();
    if (message instanceof Message.Prepare prepare) {
      stub(to)
          .prepare(
              prepareRequest(prepare),
              observer(to, message, (PrepareResponse r) -> onVote(to, txId, r)));
    } else if (message instanceof Message.PhaseTwo phaseTwo) {
      PhaseTwoRequest request = PhaseTwoRequest.newBuilder().setTxId(txId.toString()).build();
      StreamObserver<PhaseTwoResponse> onAck =
          observer(to, message, (PhaseTwoResponse r) -> onPhaseTwo(to, txId, r));
      switch (phaseTwo.decision()) {
        case COMMIT -> stub(to).commit(request, onAck);
        case ABORT -> stub(to).abort(request, onAck);
      }
    } else if (message instanceof Message.OnePhaseCommit) {
      stub(to)
          .commitOnePhase(
              PhaseTwoRequest.newBuilder().setTxId(txId.toString()).build(),
              observer(to, message, (TxOutcome r) -> onOnePhase(to, txId, r)));
    } else {
      throw new IllegalArgumentException("not a coordinator-to-participant message: " + message);
    }
  }

  /** Ends every participant stream (the node is stopping). */
  public void close() {
    streams.values().forEach(ParticipantStream::close);
    streams.clear();
  }

  private ParticipantGrpc.ParticipantStub stub(ParticipantRef to) {
    return ParticipantGrpc.newStub(channels.get(to.address()))
        .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
  }

  private <T> StreamObserver<T> observer(ParticipantRef to, Message sent, Consumer<T> onResponse) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T response) {
        onResponse.accept(response);
      }

      @Override
      public void onError(Throwable t) {
        Status status = Status.fromThrowable(t);
        node.sendFailed(
            sent.txId(),
            to,
            status.getCode()
                + (status.getDescription() == null ? "" : ": " + status.getDescription()));
      }

      @Override
      public void onCompleted() {}
    };
  }
}
