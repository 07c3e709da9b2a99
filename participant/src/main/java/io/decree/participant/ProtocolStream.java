package io.decree.participant;

import io.decree.core.Decision;
import io.decree.node.grpc.ProtoMapping;
import io.decree.node.grpc.StreamReplies;
import io.decree.participant.ParticipantServiceAdapter.Inbound;
import io.decree.proto.v1.ProtocolReply;
import io.decree.proto.v1.ProtocolRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * One coordinator's {@code Participant.Exchange} stream: each request is decoded and parked like a
 * unary call, and the core's answer goes back on the stream as a reply for the same transaction.
 * When the stream ends (the coordinator went away or the connection broke), the requests still
 * parked are forgotten; the coordinator asks again on a new stream.
 */
final class ProtocolStream implements StreamObserver<ProtocolRequest> {
  private final ParticipantServiceAdapter adapter;
  private final StreamReplies<ProtocolReply> replies;
  private final Map<PendingReplies.Waiter, PendingReplies.Key> parked = new ConcurrentHashMap<>();

  ProtocolStream(
      ParticipantServiceAdapter adapter, ServerCallStreamObserver<ProtocolReply> replies) {
    this.adapter = adapter;
    this.replies = new StreamReplies<>(replies, this::forgetParked);
  }

  @Override
  public void onNext(ProtocolRequest request) {
    try {
      switch (request.getRequestCase()) {
        case PREPARE ->
            park(
                request.getPrepare().getTxId(),
                ParticipantServiceAdapter.prepareOf(request.getPrepare()),
                ProtocolReply.Builder::setVote);
        case COMMIT ->
            park(
                request.getCommit().getTxId(),
                ParticipantServiceAdapter.phaseTwoOf(request.getCommit(), Decision.COMMIT),
                ProtocolReply.Builder::setPhaseTwo);
        case ABORT ->
            park(
                request.getAbort().getTxId(),
                ParticipantServiceAdapter.phaseTwoOf(request.getAbort(), Decision.ABORT),
                ProtocolReply.Builder::setPhaseTwo);
        case COMMIT_ONE_PHASE ->
            park(
                request.getCommitOnePhase().getTxId(),
                ParticipantServiceAdapter.onePhaseOf(request.getCommitOnePhase()),
                ProtocolReply.Builder::setOnePhase);
        case REQUEST_NOT_SET ->
            send(
                error(
                    "",
                    Status.INVALID_ARGUMENT.withDescription(
                        "empty protocol request: set prepare, commit, abort or commit_one_phase")));
      }
    } catch (StatusRuntimeException refused) {
      send(error(txIdOf(request), refused.getStatus()));
    }
  }

  private <R> void park(
      String txId, Inbound<R> inbound, BiConsumer<ProtocolReply.Builder, R> setReply) {
    PendingReplies.Waiter[] self = new PendingReplies.Waiter[1];
    self[0] =
        new PendingReplies.Waiter(
            System.currentTimeMillis(),
            reply -> {
              parked.remove(self[0]);
              ProtocolReply.Builder b = ProtocolReply.newBuilder().setTxId(txId);
              setReply.accept(b, inbound.toResponse().apply(reply));
              send(b.build());
            },
            status -> {
              parked.remove(self[0]);
              send(error(txId, status));
            });
    parked.put(self[0], inbound.key());
    adapter.park(inbound.key(), self[0], inbound.message());
  }

  private static ProtocolReply error(String txId, Status status) {
    return ProtocolReply.newBuilder().setTxId(txId).setError(ProtoMapping.error(status)).build();
  }

  private static String txIdOf(ProtocolRequest request) {
    return switch (request.getRequestCase()) {
      case PREPARE -> request.getPrepare().getTxId();
      case COMMIT -> request.getCommit().getTxId();
      case ABORT -> request.getAbort().getTxId();
      case COMMIT_ONE_PHASE -> request.getCommitOnePhase().getTxId();
      case REQUEST_NOT_SET -> "";
    };
  }

  /** Replies come from the core's loop and from transport threads (see {@link StreamReplies}). */
  private void send(ProtocolReply reply) {
    replies.send(reply);
  }

  @Override
  public void onError(Throwable t) {
    replies.end();
    forgetParked();
  }

  @Override
  public void onCompleted() {
    forgetParked();
    replies.complete();
  }

  /** Forgets every request still parked: nobody is left to answer. */
  private void forgetParked() {
    parked.forEach((waiter, key) -> adapter.forget(key, waiter));
    parked.clear();
  }
}
