package io.decree.node.grpc;

import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC server with health checking and reflection, bound to one host and port. Requests larger
 * than {@link Channels#MAX_MESSAGE_BYTES} are refused by gRPC with RESOURCE_EXHAUSTED.
 */
public final class GrpcServer implements AutoCloseable {
  /**
   * Threads for the calls that may block (business services). A fixed set fed from a queue, not
   * gRPC's default cached pool: under load a busy worker takes the next call without parking, where
   * the cached pool's hand-off wakes a thread for every step of every call (docs/benchmarks.md).
   * Calls of the protocol services run on the transport threads and never wait behind these.
   */
  static final int WORKER_THREADS = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());

  private final Server server;
  private final HealthStatusManager health;
  private final ThreadPoolExecutor workers;

  private GrpcServer(Server server, HealthStatusManager health, ThreadPoolExecutor workers) {
    this.server = server;
    this.health = health;
    this.workers = workers;
  }

  /**
   * Starts serving.
   *
   * @param port 0 picks a free port; {@link #port()} tells which
   */
  public static GrpcServer start(
      String host, int port, List<BindableService> services, List<ServerInterceptor> interceptors) {
    return start(host, port, services, interceptors, Set.of());
  }

  /**
   * Like {@link #start(String, int, List, List)}; calls to the services named in {@code
   * nonBlockingServices} (full names, e.g. "decree.v1.Coordinator") run on the transport thread
   * itself. Their handlers only hand work to a node's loop and return, so the usual hop to a worker
   * thread is pure cost. Anything that may block (business services, waits on a loop) must not be
   * listed.
   */
  public static GrpcServer start(
      String host,
      int port,
      List<BindableService> services,
      List<ServerInterceptor> interceptors,
      Set<String> nonBlockingServices) {
    HealthStatusManager health = new HealthStatusManager();
    Executor direct = Runnable::run;
    AtomicInteger threadIds = new AtomicInteger();
    ThreadPoolExecutor workers =
        new ThreadPoolExecutor(
            WORKER_THREADS,
            WORKER_THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "grpc-worker-" + threadIds.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    workers.allowCoreThreadTimeOut(true);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            .executor(workers)
            .callExecutor(
                new ServerCallExecutorSupplier() {
                  @Override
                  public <ReqT, RespT> Executor getExecutor(
                      ServerCall<ReqT, RespT> call, Metadata metadata) {
                    String service = call.getMethodDescriptor().getServiceName();
                    return nonBlockingServices.contains(service) ? direct : null;
                  }
                })
            .maxInboundMessageSize(Channels.MAX_MESSAGE_BYTES)
            // Our channels ping every 30 s to keep long streams alive (see Channels); the server's
            // default (one ping per 5 min) would answer that with GOAWAY "too_many_pings" and cut
            // every long-lived stream after about a minute and a half.
            .permitKeepAliveTime(20, TimeUnit.SECONDS)
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance());
    for (BindableService service : services) {
      builder.addService(ServerInterceptors.intercept(service.bindService(), interceptors));
    }
    try {
      return new GrpcServer(builder.build().start(), health, workers);
    } catch (IOException e) {
      workers.shutdown();
      throw new UncheckedIOException(
          "cannot listen on " + host + ":" + port + " (" + e.getMessage() + ")", e);
    }
  }

  public int port() {
    return server.getPort();
  }

  /** Health checks fail first, then the port closes. */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(3, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    workers.shutdown();
  }
}
