package io.decree.node.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One channel per peer address, created on first use and shared by every call to that peer.
 * Plaintext today; TLS settings belong in {@link #build} (one place) when mTLS comes.
 *
 * <p>A peer that crashed and came back must be reachable at once: gRPC's own reconnect backoff
 * grows to minutes, while our callers already retry with their own bounded backoff. So an
 * UNAVAILABLE answer resets the channel's reconnect backoff, and the caller's next retry connects.
 */
public final class Channels implements AutoCloseable {
  /** Largest message we accept from a peer; larger ones fail with RESOURCE_EXHAUSTED. */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  private record Entry(ManagedChannel managed, Channel intercepted) {}

  private final Map<String, Entry> byAddress = new ConcurrentHashMap<>();

  public Channel get(String address) {
    return byAddress.computeIfAbsent(address, Channels::build).intercepted();
  }

  private static Entry build(String address) {
    // Responses are delivered on the transport thread: every asynchronous caller of these channels
    // only hands the response to a node loop (blocking stubs bring their own executor), so the
    // default hop through gRPC's cached pool would be pure cost (thread wake-ups: see
    // docs/benchmarks.md, steady-state profile).
    // No gRPC retries: every caller retries by itself (the cores' timers, the client's failover),
    // and the retry machinery's buffering wrapper costs CPU on every call (docs/benchmarks.md).
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(address)
            .directExecutor()
            .disableRetry()
            .usePlaintext()
            .maxInboundMessageSize(MAX_MESSAGE_BYTES)
            .keepAliveTime(30, TimeUnit.SECONDS)
            .build();
    return new Entry(channel, ClientInterceptors.intercept(channel, new ReconnectAtOnce(channel)));
  }

  @Override
  public void close() {
    byAddress.values().forEach(e -> e.managed().shutdown());
    for (Entry entry : byAddress.values()) {
      try {
        if (!entry.managed().awaitTermination(2, TimeUnit.SECONDS)) {
          entry.managed().shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        entry.managed().shutdownNow();
      }
    }
    byAddress.clear();
  }

  /** Resets the channel's reconnect backoff whenever a call ends UNAVAILABLE. */
  private static final class ReconnectAtOnce implements ClientInterceptor {
    private final ManagedChannel channel;

    ReconnectAtOnce(ManagedChannel channel) {
      this.channel = channel;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  if (status.getCode() == Status.Code.UNAVAILABLE) {
                    channel.resetConnectBackoff();
                  }
                  super.onClose(status, trailers);
                }
              },
              headers);
        }
      };
    }
  }
}
