package io.decree.participant;

import io.decree.proto.v1.BeginRequest;
import io.decree.proto.v1.BeginResponse;
import io.decree.proto.v1.CommitRequest;
import io.decree.proto.v1.RollbackRequest;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TxOutcome;
import io.grpc.stub.StreamObserver;

/**
 * The coordinator calls a client makes, shaped like the asynchronous stub's: each observer gets one
 * answer or one error. {@link CoordinatorSession} carries them on one stream.
 */
interface CoordinatorCalls {
  void begin(BeginRequest request, StreamObserver<BeginResponse> observer);

  void commit(CommitRequest request, StreamObserver<TxOutcome> observer);

  void rollback(RollbackRequest request, StreamObserver<TxOutcome> observer);

  void getStatus(StatusRequest request, StreamObserver<TxOutcome> observer);
}
