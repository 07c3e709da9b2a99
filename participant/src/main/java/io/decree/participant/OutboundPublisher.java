package io.decree.participant;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.CoordinatorGrpc;
import io.decree.proto.v1.EnlistRequest;
import io.decree.proto.v1.InquiryRequest;
import io.decree.proto.v1.OutcomeQuery;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.TxOutcome;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Outbound adapter: turns the core's messages to the coordinator and to peers into gRPC calls, and
 * their answers (or failures) back into values for the core. It decides nothing; the core decides
 * when to ask again.
 *
 * <p>Coordinator routing: calls go to the current address; an UNAVAILABLE or DEADLINE_EXCEEDED
 * answer moves to the next one, so a restarted or deposed coordinator is skipped on the next try.
 */
final class OutboundPublisher {
  /** The answer of an outbound question: an outcome, or why nobody answered. */
  interface Answer {
    void outcome(Outcome outcome, String reason);

    void failed(String error);
  }

  private final List<String> coordinators;
  private final ParticipantOptions.Dialer dialer;
  private final long deadlineMillis;
  private final AtomicInteger current = new AtomicInteger();

  OutboundPublisher(
      List<String> coordinators, ParticipantOptions.Dialer dialer, long deadlineMillis) {
    this.coordinators = List.copyOf(coordinators);
    this.dialer = dialer;
    this.deadlineMillis = deadlineMillis;
  }

  /** Coordinator.Inquire: what was decided for {@code txId}? */
  void inquire(TxId txId, ParticipantRef self, io.decree.core.Decision heuristic, Answer answer) {
    int index = current.get();
    String address = coordinators.get(Math.floorMod(index, coordinators.size()));
    InquiryRequest.Builder request =
        InquiryRequest.newBuilder()
            .setTxId(txId.toString())
            .setParticipant(ProtoMapping.toProto(self));
    if (heuristic != null) {
      request.setHeuristicOutcome(ProtoMapping.toProto(heuristic.outcome()));
    }
    Futures.addCallback(
        CoordinatorGrpc.newFutureStub(dialer.dial(address))
            .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
            .inquire(request.build()),
        callback(answer, address, index),
        MoreExecutors.directExecutor());
  }

  /** Participant.QueryOutcome at a peer (cooperative termination). */
  void queryPeer(TxId txId, ParticipantRef peer, ParticipantRef self, Answer answer) {
    OutcomeQuery request =
        OutcomeQuery.newBuilder().setTxId(txId.toString()).setAskedBy(self.name()).build();
    Futures.addCallback(
        ParticipantGrpc.newFutureStub(dialer.dial(peer.address()))
            .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
            .queryOutcome(request),
        callback(answer, peer.address(), -1),
        MoreExecutors.directExecutor());
  }

  /**
   * Coordinator.Enlist, blocking (the business call must not run before the coordinator knows this
   * branch). Tries every coordinator address once, starting at the current one, while they answer
   * UNAVAILABLE.
   *
   * @return OK, or the status to fail the business call with
   */
  /** The coordinator's answer to enlist: OK with the transaction's deadline, or why not. */
  record Enlistment(Status status, long deadlineMillis) {}

  Enlistment enlist(TxId txId, ParticipantRef self) {
    EnlistRequest request =
        EnlistRequest.newBuilder()
            .setTxId(txId.toString())
            .setParticipant(ProtoMapping.toProto(self))
            .build();
    Status last = Status.UNAVAILABLE.withDescription("no coordinator address");
    for (int attempt = 0; attempt < coordinators.size(); attempt++) {
      int index = current.get();
      String address = coordinators.get(Math.floorMod(index, coordinators.size()));
      try {
        long txDeadline =
            CoordinatorGrpc.newBlockingStub(dialer.dial(address))
                .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
                .enlist(request)
                .getDeadlineUnixMillis();
        return new Enlistment(Status.OK, txDeadline);
      } catch (StatusRuntimeException e) {
        last = e.getStatus();
        if (!movesOn(last.getCode())) {
          break;
        }
        current.compareAndSet(index, index + 1);
      }
    }
    String why =
        "enlisting "
            + txId
            + " at the coordinator failed: "
            + last.getCode()
            + (last.getDescription() == null ? "" : ": " + last.getDescription());
    return new Enlistment(
        movesOn(last.getCode())
            ? Status.UNAVAILABLE.withDescription(why)
            : Status.FAILED_PRECONDITION.withDescription(why),
        0);
  }

  private static boolean movesOn(Status.Code code) {
    return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
  }

  private FutureCallback<TxOutcome> callback(Answer answer, String address, int index) {
    return new FutureCallback<>() {
      @Override
      public void onSuccess(TxOutcome result) {
        answer.outcome(ProtoMapping.outcome(result.getOutcome()), result.getReason());
      }

      @Override
      public void onFailure(Throwable t) {
        Status status = Status.fromThrowable(t);
        if (index >= 0 && movesOn(status.getCode())) {
          current.compareAndSet(index, index + 1);
        }
        answer.failed(
            address
                + ": "
                + status.getCode()
                + (status.getDescription() == null ? "" : " " + status.getDescription()));
      }
    };
  }
}
