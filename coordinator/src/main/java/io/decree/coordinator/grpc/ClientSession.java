package io.decree.coordinator.grpc;

import io.decree.node.grpc.ProtoMapping;
import io.decree.node.grpc.StreamReplies;
import io.decree.proto.v1.SessionReply;
import io.decree.proto.v1.SessionRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * One client's {@code Coordinator.Session} stream: each request goes to the same handler as its
 * unary call, and that handler's answer goes back on the stream as the reply with the request's id.
 * A client that half-closes still gets the answers of what it sent; when the stream breaks, answers
 * still to come are dropped: what they would have said is kept by the coordinator (a commit's
 * outcome, by its id), and the client asks again (every call is idempotent by id).
 */
final class ClientSession implements StreamObserver<SessionRequest> {
  private final CoordinatorService service;
  private final StreamReplies<SessionReply> replies;

  /** Requests taken and not answered yet; a client that half-closed still gets their answers. */
  private final AtomicInteger unanswered = new AtomicInteger();

  private volatile boolean halfClosed;

  ClientSession(CoordinatorService service, ServerCallStreamObserver<SessionReply> replies) {
    this.service = service;
    this.replies = new StreamReplies<>(replies, () -> {});
  }

  @Override
  public void onNext(SessionRequest request) {
    long id = request.getId();
    if (request.getCallCase() != SessionRequest.CallCase.CALL_NOT_SET) {
      unanswered.incrementAndGet();
    }
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
        answered(reply.build());
      }

      @Override
      public void onError(Throwable t) {
        answered(error(id, Status.fromThrowable(t)));
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

  /** One request answered; the stream ends after the last answer once the client half-closed. */
  private void answered(SessionReply reply) {
    send(reply);
    if (unanswered.decrementAndGet() == 0 && halfClosed) {
      replies.complete();
    }
  }

  @Override
  public void onError(Throwable t) {
    replies.end();
  }

  @Override
  public void onCompleted() {
    halfClosed = true;
    if (unanswered.get() == 0) {
      replies.complete(); // (an answer finishing at the same moment may complete it too: harmless)
    }
  }
}
