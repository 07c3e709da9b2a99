package io.decree.participant;

import io.decree.core.TxId;
import io.decree.node.grpc.TxIdHeader;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Inbound adapter in front of the application's business services. A call carrying the {@code
 * decree-tx-id} header runs as work of that transaction's branch here: the branch is started in the
 * core, this participant is enlisted at the coordinator (once per transaction, synchronously, so
 * that the client's commit cannot reach the coordinator before it knows this branch), and the id is
 * put into {@link TxIdHeader#CONTEXT} for the handler ({@link DecreeContext#currentTxId()}).
 *
 * <p>Blocking here holds a gRPC server thread for one enlist round trip, at most twice the RPC
 * deadline; later calls of the same transaction find the enlistment cached. A call without the
 * header passes through untouched.
 */
final class EnlistingServerInterceptor implements ServerInterceptor {
  private final ParticipantDriver driver;

  EnlistingServerInterceptor(ParticipantDriver driver) {
    this.driver = driver;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String raw = headers.get(TxIdHeader.KEY);
    if (raw == null) {
      return next.startCall(call, headers);
    }
    TxId txId;
    try {
      txId = TxId.parse(raw);
    } catch (IllegalArgumentException e) {
      return refuse(
          call, Status.INVALID_ARGUMENT.withDescription("decree-tx-id header: " + e.getMessage()));
    }
    Status started = driver.startWork(txId);
    if (!started.isOk()) {
      return refuse(call, started);
    }
    Context context = Context.current().withValue(TxIdHeader.CONTEXT, txId.toString());
    return Contexts.interceptCall(context, call, headers, next);
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, RespT> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
