package io.decree.coordinator;

import io.decree.node.grpc.GrpcServer;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.OutcomeQuery;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PhaseTwoResponse;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.PrepareResponse;
import io.decree.proto.v1.ProtocolReply;
import io.decree.proto.v1.ProtocolRequest;
import io.decree.proto.v1.TxOutcome;
import io.decree.proto.v1.Vote;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A participant endpoint on 127.0.0.1 that records what it is asked and answers as told. By default
 * it has no {@code Exchange} stream (UNIMPLEMENTED), so every test that uses it also covers the
 * coordinator's fallback to one unary call per message; {@link #withExchange} gives it one.
 */
final class FakeParticipant extends ParticipantGrpc.ParticipantImplBase implements AutoCloseable {
  final String name;
  final List<String> calls = new CopyOnWriteArrayList<>();
  volatile Vote vote = Vote.YES;
  volatile boolean unavailable;

  /** Its Exchange streams take requests and never answer (a stalled handler). */
  volatile boolean exchangeSilent;

  /** Exchange streams opened to it. */
  final java.util.concurrent.atomic.AtomicInteger exchanges =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Goes down by itself right after it answered a prepare (no race with phase 2). */
  volatile boolean downAfterPrepare;

  private final boolean exchange;
  private final int port;
  private volatile GrpcServer server;

  FakeParticipant(String name) {
    this(name, false);
  }

  private FakeParticipant(String name, boolean exchange) {
    this.name = name;
    this.exchange = exchange;
    this.server = GrpcServer.start("127.0.0.1", 0, List.of(this), List.of());
    this.port = server.port();
  }

  /** One that speaks the Exchange stream, answering each request as the unary call would. */
  static FakeParticipant withExchange(String name) {
    return new FakeParticipant(name, true);
  }

  /** Stops listening: callers see connection refused, as with a dead process. */
  void stop() {
    server.close();
  }

  /** Listens again on the same port. */
  void restart() {
    server = GrpcServer.start("127.0.0.1", port, List.of(this), List.of());
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  @Override
  public StreamObserver<ProtocolRequest> exchange(StreamObserver<ProtocolReply> replies) {
    if (!exchange) {
      return super.exchange(replies);
    }
    exchanges.incrementAndGet();
    return new StreamObserver<>() {
      @Override
      public void onNext(ProtocolRequest r) {
        if (exchangeSilent) {
          return;
        }
        ProtocolReply.Builder reply = ProtocolReply.newBuilder();
        switch (r.getRequestCase()) {
          case PREPARE ->
              prepare(
                  r.getPrepare(),
                  into(
                      replies,
                      reply.setTxId(r.getPrepare().getTxId()),
                      ProtocolReply.Builder::setVote));
          case COMMIT ->
              commit(
                  r.getCommit(),
                  into(
                      replies,
                      reply.setTxId(r.getCommit().getTxId()),
                      ProtocolReply.Builder::setPhaseTwo));
          case ABORT ->
              abort(
                  r.getAbort(),
                  into(
                      replies,
                      reply.setTxId(r.getAbort().getTxId()),
                      ProtocolReply.Builder::setPhaseTwo));
          case COMMIT_ONE_PHASE ->
              commitOnePhase(
                  r.getCommitOnePhase(),
                  into(
                      replies,
                      reply.setTxId(r.getCommitOnePhase().getTxId()),
                      ProtocolReply.Builder::setOnePhase));
          case REQUEST_NOT_SET -> {}
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        replies.onCompleted();
      }
    };
  }

  /** Turns one unary answer into a reply on the stream (an error into an error reply). */
  private static <T> StreamObserver<T> into(
      StreamObserver<ProtocolReply> replies,
      ProtocolReply.Builder reply,
      java.util.function.BiConsumer<ProtocolReply.Builder, T> set) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        set.accept(reply, value);
        synchronized (replies) {
          replies.onNext(reply.build());
        }
      }

      @Override
      public void onError(Throwable t) {
        Status status = Status.fromThrowable(t);
        synchronized (replies) {
          replies.onNext(
              reply
                  .setError(
                      io.decree.proto.v1.ProtocolError.newBuilder()
                          .setCode(status.getCode().value())
                          .setDescription(String.valueOf(status.getDescription())))
                  .build());
        }
      }

      @Override
      public void onCompleted() {}
    };
  }

  io.decree.proto.v1.ParticipantRef ref() {
    return io.decree.proto.v1.ParticipantRef.newBuilder()
        .setName(name)
        .setAddress(address())
        .build();
  }

  boolean received(String call) {
    return calls.contains(call);
  }

  private boolean refuse(StreamObserver<?> observer) {
    if (unavailable) {
      observer.onError(Status.UNAVAILABLE.withDescription("fake is down").asRuntimeException());
      return true;
    }
    return false;
  }

  @Override
  public void prepare(PrepareRequest request, StreamObserver<PrepareResponse> observer) {
    if (refuse(observer)) {
      return;
    }
    calls.add("prepare " + request.getTxId());
    observer.onNext(PrepareResponse.newBuilder().setVote(vote).build());
    observer.onCompleted();
    if (downAfterPrepare) {
      unavailable = true;
    }
  }

  @Override
  public void commit(PhaseTwoRequest request, StreamObserver<PhaseTwoResponse> observer) {
    if (refuse(observer)) {
      return;
    }
    calls.add("commit " + request.getTxId());
    observer.onNext(PhaseTwoResponse.newBuilder().setOutcome(Outcome.COMMITTED).build());
    observer.onCompleted();
  }

  @Override
  public void abort(PhaseTwoRequest request, StreamObserver<PhaseTwoResponse> observer) {
    if (refuse(observer)) {
      return;
    }
    calls.add("abort " + request.getTxId());
    observer.onNext(PhaseTwoResponse.newBuilder().setOutcome(Outcome.ABORTED).build());
    observer.onCompleted();
  }

  @Override
  public void commitOnePhase(PhaseTwoRequest request, StreamObserver<TxOutcome> observer) {
    if (refuse(observer)) {
      return;
    }
    calls.add("one-phase " + request.getTxId());
    Outcome outcome = vote == Vote.NO ? Outcome.ABORTED : Outcome.COMMITTED;
    observer.onNext(TxOutcome.newBuilder().setTxId(request.getTxId()).setOutcome(outcome).build());
    observer.onCompleted();
  }

  @Override
  public void queryOutcome(OutcomeQuery request, StreamObserver<TxOutcome> observer) {
    observer.onError(Status.UNIMPLEMENTED.asRuntimeException());
  }

  @Override
  public void close() {
    server.close();
  }
}
