package io.decree.participant;

import io.decree.node.grpc.TxIdHeader;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The current global transaction, carried in the gRPC {@link Context}.
 *
 * <p>One key serves both sides: a participant's business handler finds the id of the call it serves
 * here (set by the runtime's interceptor), and a client's calls made with {@link
 * #clientInterceptor()} copy it into the {@code decree-tx-id} header. So a participant that calls
 * another service while handling a transactional call passes the transaction on by itself.
 */
public final class DecreeContext {
  private static final ClientInterceptor CLIENT_INTERCEPTOR = new TxIdClientInterceptor();

  private DecreeContext() {}

  /** The transaction id of the current call or {@link #run} block, if any. */
  public static Optional<String> currentTxId() {
    return Optional.ofNullable(TxIdHeader.CONTEXT.get());
  }

  /** Runs {@code work} with {@code txId} as the current transaction. */
  public static void run(String txId, Runnable work) {
    Context.current().withValue(TxIdHeader.CONTEXT, txId).run(work);
  }

  /** Calls {@code work} with {@code txId} as the current transaction. */
  public static <T> T call(String txId, Callable<T> work) throws Exception {
    return Context.current().withValue(TxIdHeader.CONTEXT, txId).call(work);
  }

  /**
   * Add to a client stub ({@code stub.withInterceptors(...)}) or channel: each call started while a
   * transaction is current carries its id in the {@code decree-tx-id} header; other calls are sent
   * unchanged.
   */
  public static ClientInterceptor clientInterceptor() {
    return CLIENT_INTERCEPTOR;
  }

  private static final class TxIdClientInterceptor implements ClientInterceptor {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      // Read at call start, on the caller's thread, where its Context is current.
      String txId = TxIdHeader.CONTEXT.get();
      ClientCall<ReqT, RespT> call = next.newCall(method, options);
      if (txId == null) {
        return call;
      }
      JoinedParticipants joined = JoinedParticipants.CONTEXT.get();
      if (joined != null && joined.txId().equals(txId)) {
        return new NamingCall<>(call, method.getFullMethodName(), joined);
      }
      return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          headers.put(TxIdHeader.KEY, txId);
          super.start(listener, headers);
        }
      };
    }
  }

  /**
   * A business call of a transaction whose client enlists its participants itself: it asks the
   * participant to name itself in the answer, and records the name (or that none came).
   */
  private static final class NamingCall<ReqT, RespT>
      extends ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT> {
    private final String method;
    private final JoinedParticipants joined;
    private boolean refused;

    NamingCall(ClientCall<ReqT, RespT> call, String method, JoinedParticipants joined) {
      super(call);
      this.method = method;
      this.joined = joined;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      String refusal = joined.callStarting();
      if (!refusal.isEmpty()) {
        refused = true;
        listener.onClose(Status.FAILED_PRECONDITION.withDescription(refusal), new Metadata());
        return;
      }
      headers.put(TxIdHeader.KEY, joined.txId());
      headers.put(TxIdHeader.ENLIST_ON_REPLY, Long.toString(joined.deadlineUnixMillis()));
      try {
        super.start(
            new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                joined.callEnded(method, status, trailers);
                super.onClose(status, trailers);
              }
            },
            headers);
      } catch (RuntimeException e) {
        // Never started, so never closes: count it as ended without an answer.
        joined.callEnded(method, Status.fromThrowable(e), new Metadata());
        throw e;
      }
    }

    @Override
    public void request(int numMessages) {
      if (!refused) {
        super.request(numMessages);
      }
    }

    @Override
    public void sendMessage(ReqT message) {
      if (!refused) {
        super.sendMessage(message);
      }
    }

    @Override
    public void halfClose() {
      if (!refused) {
        super.halfClose();
      }
    }

    @Override
    public void cancel(String message, Throwable cause) {
      if (!refused) {
        super.cancel(message, cause);
      }
    }
  }
}
