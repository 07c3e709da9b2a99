package io.decree.coordinator.grpc;

import io.decree.node.grpc.ProtoMapping;
import io.decree.node.grpc.StreamReplies;
import io.decree.proto.v1.SessionReply;
import io.decree.proto.v1.SessionRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.function.BiConsumer;

/**
 * One client's {@code Coordinator.Session} stream: each request goes to the same handler as its
 * unary call, and that handler's answer goes back on the stream as the reply with the request's id.
 * When the stream ends, answers still to come are dropped: what they would have said is kept by the
 * coordinator (a commit's outcome, by its id), and the client asks again (every call is idempotent
 * by id).
 */
final class ClientSession implements StreamObserver<SessionRequest> {
  private final CoordinatorService service;
  private final StreamReplies<SessionReply> replies;

  ClientSession(CoordinatorService service, ServerCallStreamObserver<SessionReply> replies) {
    this.service = service;
    this.replies = new StreamReplies<>(replies, () -> {});
  }

  @Override
  public void onNext(SessionRequest request) {
    long id = request.getId();
    switch (request.getCallCase()) {
      case BEGIN -> service.begin(request.getBegin(), answer(id, SessionReply.Builder::setBegan));
      case COMMIT ->
          service.commit(request.getCommit(), answer(id, SessionReply.Builder::setOutcome));
      case ROLLBACK ->
          service.rollback(request.getRollback(), answer(id, SessionReply.Builder::setOutcome));
      case STATUS ->
          service.getStatus(request.getStatus(), answer(id, SessionReply.Builder::setOutcome));
      case CALL_NOT_SET ->
          send(
              error(
                  id,
                  Status.INVALID_ARGUMENT.withDescription(
                      "empty session request: set begin, commit, rollback or status")));
    }
  }

  /** The unary handler's observer for request {@code id}: its one answer becomes one reply. */
  private <T> StreamObserver<T> answer(long id, BiConsumer<SessionReply.Builder, T> setReply) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        SessionReply.Builder reply = SessionReply.newBuilder().setId(id);
        setReply.accept(reply, value);
        send(reply.build());
      }

      @Override
      public void onError(Throwable t) {
        send(error(id, Status.fromThrowable(t)));
      }

      @Override
      public void onCompleted() {
        // the reply went out with onNext
      }
    };
  }

  private static SessionReply error(long id, Status status) {
    return SessionReply.newBuilder().setId(id).setError(ProtoMapping.error(status)).build();
  }

  /** Answers come from the core's loop and from transport threads (see {@link StreamReplies}). */
  private void send(SessionReply reply) {
    replies.send(reply);
  }

  @Override
  public void onError(Throwable t) {
    replies.end();
  }

  @Override
  public void onCompleted() {
    replies.complete();
  }
}
