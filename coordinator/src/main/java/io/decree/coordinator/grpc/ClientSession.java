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
import java.util.function.Consumer;

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

  private volatile boolean draining;
  private final Consumer<ClientSession> onEnd;

  /**
   * @param onEnd told once this stream is over (cancelled, failed or completed)
   */
  ClientSession(
      CoordinatorService service,
      ServerCallStreamObserver<SessionReply> replies,
      Consumer<ClientSession> onEnd) {
    this.service = service;
    this.onEnd = onEnd;
    this.replies = new StreamReplies<>(replies, () -> onEnd.accept(this));
  }

  /**
   * The node is stopping: new requests are refused with UNAVAILABLE (the client moves on to another
   * coordinator), and the stream ends once what it took is answered.
   */
  void drain() {
    draining = true;
    halfClosed = true;
    if (unanswered.get() == 0) {
      end();
    }
  }

  @Override
  public void onNext(SessionRequest request) {
    long id = request.getId();
    if (draining) {
      send(
          error(
              id,
              Status.UNAVAILABLE.withDescription(
                  "coordinator stopping; ask another coordinator or again later")));
      return;
    }
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
      end();
    }
  }

  @Override
  public void onError(Throwable t) {
    replies.end();
    onEnd.accept(this);
  }

  @Override
  public void onCompleted() {
    halfClosed = true;
    if (unanswered.get() == 0) {
      end(); // (an answer finishing at the same moment may end it too: harmless)
    }
  }

  private void end() {
    replies.complete();
    onEnd.accept(this);
  }
}
