package io.decree.coordinator;

import io.decree.node.grpc.GrpcServer;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.OutcomeQuery;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PhaseTwoResponse;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.PrepareResponse;
import io.decree.proto.v1.TxOutcome;
import io.decree.proto.v1.Vote;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A participant endpoint on 127.0.0.1 that records what it is asked and answers as told. */
final class FakeParticipant extends ParticipantGrpc.ParticipantImplBase implements AutoCloseable {
  final String name;
  final List<String> calls = new CopyOnWriteArrayList<>();
  volatile Vote vote = Vote.YES;
  volatile boolean unavailable;

  /** Goes down by itself right after it answered a prepare (no race with phase 2). */
  volatile boolean downAfterPrepare;

  private final GrpcServer server;

  FakeParticipant(String name) {
    this.name = name;
    this.server = GrpcServer.start("127.0.0.1", 0, List.of(this), List.of());
  }

  String address() {
    return "127.0.0.1:" + server.port();
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
