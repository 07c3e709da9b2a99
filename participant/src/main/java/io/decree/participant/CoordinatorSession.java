package io.decree.participant;

import io.decree.proto.v1.BeginRequest;
import io.decree.proto.v1.BeginResponse;
import io.decree.proto.v1.CommitRequest;
import io.decree.proto.v1.CoordinatorGrpc;
import io.decree.proto.v1.RollbackRequest;
import io.decree.proto.v1.SessionReply;
import io.decree.proto.v1.SessionRequest;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TxOutcome;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A client's calls to one coordinator on its {@code Coordinator.Session} stream: one long-lived
 * call carries every begin, commit, rollback and status, each matched to its reply by an id. The
 * stream is opened on first use and again after it ends.
 *
 * <p>Each request keeps the meaning of its unary call, failures included: a refused request fails
 * with the status the coordinator gave; a request without an answer within the deadline fails with
 * DEADLINE_EXCEEDED ({@link #expire}, called periodically); when the stream ends, every request
 * still waiting fails with UNAVAILABLE (it may or may not have been carried out: for a commit, the
 * client's answer is UNKNOWN). A stream that has let a request pass its deadline and brought no
 * reply for as long is cancelled, so that the next request opens a new one instead of waiting in a
 * stalled call.
 *
 * <p>A coordinator without the stream (UNIMPLEMENTED) gets the requests as unary calls, the ones
 * already sent included (it carried out none of them).
 */
final class CoordinatorSession implements CoordinatorCalls {
  /** Requests waiting on one stream; beyond it a request fails at once (RESOURCE_EXHAUSTED). */
  static final int WAITING_MAX = 65_536;

  private final Channel channel;
  private final long deadlineMillis;
  private final AtomicLong ids = new AtomicLong();
  private Call current; // guarded by this; null: no stream open
  private volatile boolean unsupported;
  private volatile boolean closed;

  CoordinatorSession(Channel channel, long deadlineMillis) {
    this.channel = channel;
    this.deadlineMillis = deadlineMillis;
  }

  @Override
  public void begin(BeginRequest request, StreamObserver<BeginResponse> observer) {
    send(
        SessionRequest.newBuilder().setBegin(request),
        SessionReply.ReplyCase.BEGAN,
        SessionReply::getBegan,
        observer,
        () -> unary().begin(request, observer));
  }

  @Override
  public void commit(CommitRequest request, StreamObserver<TxOutcome> observer) {
    send(
        SessionRequest.newBuilder().setCommit(request),
        SessionReply.ReplyCase.OUTCOME,
        SessionReply::getOutcome,
        observer,
        () -> unary().commit(request, observer));
  }

  @Override
  public void rollback(RollbackRequest request, StreamObserver<TxOutcome> observer) {
    send(
        SessionRequest.newBuilder().setRollback(request),
        SessionReply.ReplyCase.OUTCOME,
        SessionReply::getOutcome,
        observer,
        () -> unary().rollback(request, observer));
  }

  @Override
  public void getStatus(StatusRequest request, StreamObserver<TxOutcome> observer) {
    send(
        SessionRequest.newBuilder().setStatus(request),
        SessionReply.ReplyCase.OUTCOME,
        SessionReply::getOutcome,
        observer,
        () -> unary().getStatus(request, observer));
  }

  private CoordinatorGrpc.CoordinatorStub unary() {
    return CoordinatorGrpc.newStub(channel)
        .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
  }

  private <T> void send(
      SessionRequest.Builder request,
      SessionReply.ReplyCase expected,
      Function<SessionReply, T> answer,
      StreamObserver<T> observer,
      Runnable asUnaryCall) {
    if (closed) {
      observer.onError(
          Status.CANCELLED.withDescription("the client is closed").asRuntimeException());
      return;
    }
    if (unsupported) {
      asUnaryCall.run();
      return;
    }
    long id = ids.incrementAndGet();
    Waiting waiting =
        new Waiting(
            System.nanoTime(),
            reply -> {
              if (reply.getReplyCase() == expected) {
                observer.onNext(answer.apply(reply));
                observer.onCompleted();
              } else if (reply.getReplyCase() == SessionReply.ReplyCase.ERROR) {
                observer.onError(
                    Status.fromCodeValue(reply.getError().getCode())
                        .withDescription(reply.getError().getDescription())
                        .asRuntimeException());
              } else {
                observer.onError(
                    Status.INTERNAL
                        .withDescription("coordinator answered " + expected + " with " + reply)
                        .asRuntimeException());
              }
            },
            status -> observer.onError(status.asRuntimeException()),
            asUnaryCall);
    synchronized (this) {
      Call call = current;
      if (call == null) {
        Call opened = new Call();
        opened.requests = CoordinatorGrpc.newStub(channel).session(opened);
        if (opened.ended) {
          // Failed at once, on this thread (the channel is down or backing off); the next request
          // tries a new stream.
          waiting.failed.accept(Status.UNAVAILABLE.withDescription(opened.why));
          return;
        }
        current = call = opened;
      }
      if (call.waiting.size() >= WAITING_MAX) {
        waiting.failed.accept(
            Status.RESOURCE_EXHAUSTED.withDescription(
                WAITING_MAX + " requests already wait for this coordinator's answers"));
        return;
      }
      call.waiting.put(id, waiting);
      try {
        call.requests.onNext(request.setId(id).build());
      } catch (IllegalStateException cancelled) {
        // The call was cancelled between its end and our noticing it.
        if (call.waiting.remove(id) != null) {
          waiting.failed.accept(
              Status.UNAVAILABLE.withDescription("session stream cancelled: " + cancelled));
        }
      }
    }
  }

  /**
   * Fails the requests that have waited longer than the deadline; cancels a stream that has let one
   * pass its deadline without bringing any reply for as long.
   */
  void expire() {
    Call call;
    synchronized (this) {
      call = current;
    }
    if (call == null) {
      return;
    }
    long now = System.nanoTime();
    long deadlineNanos = TimeUnit.MILLISECONDS.toNanos(deadlineMillis);
    List<Waiting> expired = new ArrayList<>();
    for (Map.Entry<Long, Waiting> e : call.waiting.entrySet()) {
      // Only what this sweep itself removes is failed: a reply or the call's end may take an
      // entry at the same moment, and each request gets exactly one outcome.
      if (now - e.getValue().sentNanos > deadlineNanos
          && call.waiting.remove(e.getKey(), e.getValue())) {
        expired.add(e.getValue());
      }
    }
    if (!expired.isEmpty() && now - call.lastReplyNanos > deadlineNanos) {
      synchronized (this) {
        if (current == call) {
          current = null;
        }
      }
      call.cancel("no reply on the session stream for over " + deadlineMillis + " ms");
    }
    Status late =
        Status.DEADLINE_EXCEEDED.withDescription(
            "no answer from the coordinator within " + deadlineMillis + " ms");
    expired.forEach(w -> w.failed.accept(late));
  }

  /**
   * Ends the stream for good: requests still waiting fail with CANCELLED (not UNAVAILABLE, which
   * would send them on to the next address), and so does every later one.
   */
  void close() {
    Call call;
    synchronized (this) {
      closed = true;
      call = current;
      current = null;
    }
    if (call != null) {
      call.cancel("the client is closing");
    }
  }

  /** A request on the stream: how to answer it, and how to send it again as a unary call. */
  private record Waiting(
      long sentNanos,
      Consumer<SessionReply> answered,
      Consumer<Status> failed,
      Runnable asUnaryCall) {}

  /**
   * One Session call and the requests that wait on it. A call's end fails only its own requests, so
   * the late end of a call already replaced cannot touch the next one's.
   */
  private final class Call implements StreamObserver<SessionReply> {
    private final Map<Long, Waiting> waiting = new ConcurrentHashMap<>();
    private StreamObserver<SessionRequest> requests;
    private volatile long lastReplyNanos = System.nanoTime();
    private volatile boolean ended;
    private volatile String why = "";

    @Override
    public void onNext(SessionReply reply) {
      lastReplyNanos = System.nanoTime();
      Waiting w = waiting.remove(reply.getId());
      if (w != null) {
        w.answered.accept(reply);
      } // else: its deadline passed already
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      if (status.getCode() == Status.Code.UNIMPLEMENTED) {
        unsupported = true;
        List<Waiting> resend = end("the coordinator has no Session stream");
        resend.forEach(w -> w.asUnaryCall.run()); // it carried out none of them
        return;
      }
      String reason =
          "session stream "
              + status.getCode()
              + (status.getDescription() == null ? "" : ": " + status.getDescription());
      Status broken = (closed ? Status.CANCELLED : Status.UNAVAILABLE).withDescription(reason);
      end(reason).forEach(w -> w.failed.accept(broken));
    }

    @Override
    public void onCompleted() {
      String reason = "session stream ended by the coordinator";
      Status broken = Status.UNAVAILABLE.withDescription(reason);
      end(reason).forEach(w -> w.failed.accept(broken));
    }

    /** Marks the call ended and takes every request still waiting on it. */
    private List<Waiting> end(String reason) {
      synchronized (CoordinatorSession.this) {
        why = reason;
        ended = true;
        if (current == this) {
          current = null; // the next request opens a new stream
        }
      }
      List<Waiting> left = new ArrayList<>();
      waiting
          .keySet()
          .forEach(
              id -> {
                Waiting w = waiting.remove(id);
                if (w != null) {
                  left.add(w);
                }
              });
      return left;
    }

    private void cancel(String reason) {
      try {
        requests.onError(Status.CANCELLED.withDescription(reason).asRuntimeException());
      } catch (IllegalStateException alreadyEnded) {
        // the call ended first; its end failed what waited on it
      }
    }
  }
}
