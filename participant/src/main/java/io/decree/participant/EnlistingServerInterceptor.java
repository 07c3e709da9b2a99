package io.decree.participant;

import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.node.grpc.TxIdHeader;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
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
 * <p>A client that enlists participants itself sends {@link TxIdHeader#ENLIST_ON_REPLY} (with the
 * transaction's deadline): then the branch starts without asking the coordinator, and the answer
 * names this participant in the {@link TxIdHeader#ENLISTED} trailer for the client's commit.
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
    String enlistOnReply = headers.get(TxIdHeader.ENLIST_ON_REPLY);
    Status started;
    if (enlistOnReply == null) {
      started = driver.startWork(txId);
    } else {
      long deadline;
      try {
        deadline = Long.parseLong(enlistOnReply);
      } catch (NumberFormatException e) {
        return refuse(
            call,
            Status.INVALID_ARGUMENT.withDescription(
                "decree-enlist-on-reply header: not a deadline in Unix millis: '"
                    + enlistOnReply
                    + "'"));
      }
      started = driver.startWorkEnlistedByClient(txId, deadline);
    }
    if (!started.isOk()) {
      return refuse(call, started);
    }
    Context context = Context.current().withValue(TxIdHeader.CONTEXT, txId.toString());
    if (enlistOnReply == null) {
      return Contexts.interceptCall(context, call, headers, next);
    }
    // The client will roll back a transaction with a call it never heard the end of, possibly
    // without knowing to tell us: then let go of the branch now, not at its deadline.
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        Contexts.interceptCall(context, namingItself(call), headers, next)) {
      @Override
      public void onCancel() {
        driver.workAbandoned(txId);
        super.onCancel();
      }
    };
  }

  /**
   * Every answer, error or not, names this participant in its trailer: once its work may have
   * started, the client must enlist it with the commit (or roll back).
   */
  private <ReqT, RespT> ServerCall<ReqT, RespT> namingItself(ServerCall<ReqT, RespT> call) {
    ParticipantRef self = driver.self();
    String name = self.name() + "=" + self.address();
    return new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        trailers.put(TxIdHeader.ENLISTED, name);
        super.close(status, trailers);
      }
    };
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, RespT> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
