package io.decree.coordinator.grpc;

import io.decree.coordinator.CoordinatorNode;
import io.decree.core.Message;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.node.grpc.Channels;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PhaseTwoResponse;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.PrepareResponse;
import io.decree.proto.v1.TxOutcome;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Outbound adapter: turns the core's messages to participants into gRPC calls, and their responses
 * back into protocol messages for the core. It validates and translates, never decides.
 */
public final class ParticipantPublisher {
  private final CoordinatorNode node;
  private final Channels channels;
  private final long deadlineMillis;

  public ParticipantPublisher(CoordinatorNode node, Channels channels, long deadlineMillis) {
    this.node = node;
    this.channels = channels;
    this.deadlineMillis = deadlineMillis;
  }

  public void send(ParticipantRef to, Message message) {
    if (message instanceof Message.Prepare prepare) {
      PrepareRequest.Builder request =
          PrepareRequest.newBuilder()
              .setTxId(prepare.txId().toString())
              .addAllCoordinatorAddresses(node.coordinatorAddresses());
      prepare.participants().forEach(p -> request.addParticipants(ProtoMapping.toProto(p)));
      stub(to)
          .prepare(
              request.build(),
              observer(
                  to,
                  message,
                  (PrepareResponse r) ->
                      node.deliver(
                          new Message.VoteReply(
                              prepare.txId(), to, ProtoMapping.vote(r.getVote()), r.getReason()))));
    } else if (message instanceof Message.PhaseTwo phaseTwo) {
      PhaseTwoRequest request =
          PhaseTwoRequest.newBuilder().setTxId(phaseTwo.txId().toString()).build();
      StreamObserver<PhaseTwoResponse> onAck =
          observer(
              to,
              message,
              (PhaseTwoResponse r) -> {
                Outcome outcome = ProtoMapping.outcome(r.getOutcome());
                if (outcome.definite()) {
                  node.deliver(
                      new Message.Ack(phaseTwo.txId(), to, ProtoMapping.decision(outcome)));
                } else {
                  node.sendFailed(phaseTwo.txId(), to, "not applied yet: " + r.getReason());
                }
              });
      switch (phaseTwo.decision()) {
        case COMMIT -> stub(to).commit(request, onAck);
        case ABORT -> stub(to).abort(request, onAck);
      }
    } else if (message instanceof Message.OnePhaseCommit onePhase) {
      stub(to)
          .commitOnePhase(
              PhaseTwoRequest.newBuilder().setTxId(onePhase.txId().toString()).build(),
              observer(
                  to,
                  message,
                  (TxOutcome r) ->
                      node.deliver(
                          new Message.OnePhaseResult(
                              onePhase.txId(),
                              to,
                              ProtoMapping.outcome(r.getOutcome()),
                              r.getReason()))));
    } else {
      throw new IllegalArgumentException("not a coordinator-to-participant message: " + message);
    }
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
