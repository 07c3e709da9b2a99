package io.decree.node.grpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One channel per peer address, created on first use and shared by every call to that peer.
 * Plaintext today; TLS settings belong in {@link #build} (one place) when mTLS comes.
 */
public final class Channels implements AutoCloseable {
  /** Largest message we accept from a peer; larger ones fail with RESOURCE_EXHAUSTED. */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  private final Map<String, ManagedChannel> byAddress = new ConcurrentHashMap<>();

  public ManagedChannel get(String address) {
    return byAddress.computeIfAbsent(address, Channels::build);
  }

  private static ManagedChannel build(String address) {
    return NettyChannelBuilder.forTarget(address)
        .usePlaintext()
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .build();
  }

  @Override
  public void close() {
    byAddress.values().forEach(ManagedChannel::shutdown);
    for (ManagedChannel channel : byAddress.values()) {
      try {
        if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
          channel.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        channel.shutdownNow();
      }
    }
    byAddress.clear();
  }
}
