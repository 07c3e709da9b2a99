package io.decree.cli.bench;

import io.decree.node.grpc.Channels;
import io.decree.node.grpc.GrpcServer;
import io.grpc.Channel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What gRPC alone costs here, with our server and channel settings ({@link GrpcServer}, {@link
 * Channels}): C unary calls in flight (the health check), and C requests in flight on one
 * bidirectional stream (server reflection, one reply per request). Both services answer on the
 * transport thread, as our protocol services do. The end-to-end bench's CPU per transaction is read
 * against these floors (docs/benchmarks.md).
 */
public final class TransportFloorBench {
  private static final String HEALTH = "grpc.health.v1.Health";
  private static final String REFLECTION = "grpc.reflection.v1.ServerReflection";

  /** Round trips per second and CPU (client and server, the whole JVM) per round trip. */
  public record Floor(String kind, double roundTripsPerSecond, double cpuMicrosPerRoundTrip) {}

  private final int inFlight;
  private final Duration warmup;
  private final Duration duration;

  public TransportFloorBench(int inFlight, Duration warmup, Duration duration) {
    if (inFlight < 1) {
      throw new IllegalArgumentException("in-flight must be >= 1, got " + inFlight);
    }
    this.inFlight = inFlight;
    this.warmup = warmup;
    this.duration = duration;
  }

  public List<Floor> run() throws InterruptedException {
    try (GrpcServer server =
            GrpcServer.start("127.0.0.1", 0, List.of(), List.of(), Set.of(HEALTH, REFLECTION));
        Channels channels = new Channels()) {
      Channel channel = channels.get("127.0.0.1:" + server.port());
      return List.of(
          measure("unary call", unary(channel)), measure("stream message", stream(channel)));
    }
  }

  /** Starts C chains of health checks, each starting the next when answered. */
  private Load unary(Channel channel) {
    Load load = new Load();
    HealthGrpc.HealthStub stub = HealthGrpc.newStub(channel);
    HealthCheckRequest request = HealthCheckRequest.getDefaultInstance();
    for (int i = 0; i < inFlight; i++) {
      new Runnable() {
        @Override
        public void run() {
          if (load.stopped) {
            return;
          }
          stub.check(
              request,
              new StreamObserver<>() {
                @Override
                public void onNext(HealthCheckResponse response) {
                  load.roundTrips.incrementAndGet();
                }

                @Override
                public void onError(Throwable t) {
                  load.fail(t);
                }

                @Override
                public void onCompleted() {
                  run();
                }
              });
        }
      }.run();
    }
    return load;
  }

  /** One reflection stream with C requests outstanding: every reply sends the next request. */
  private Load stream(Channel channel) {
    Load load = new Load();
    ServerReflectionRequest request =
        ServerReflectionRequest.newBuilder().setListServices("*").build();
    Object writeLock = new Object();
    AtomicReference<StreamObserver<ServerReflectionRequest>> requests = new AtomicReference<>();
    synchronized (writeLock) {
      requests.set(
          ServerReflectionGrpc.newStub(channel)
              .serverReflectionInfo(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse response) {
                      load.roundTrips.incrementAndGet();
                      synchronized (writeLock) {
                        if (load.stopped) {
                          return;
                        }
                        requests.get().onNext(request);
                      }
                    }

                    @Override
                    public void onError(Throwable t) {
                      load.fail(t);
                    }

                    @Override
                    public void onCompleted() {}
                  }));
      for (int i = 0; i < inFlight; i++) {
        requests.get().onNext(request);
      }
    }
    load.onStop =
        () -> {
          synchronized (writeLock) {
            requests.get().onCompleted();
          }
        };
    return load;
  }

  private Floor measure(String kind, Load load) throws InterruptedException {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try {
      Thread.sleep(warmup.toMillis());
      long cpu = os.getProcessCpuTime();
      long done = load.roundTrips.get();
      long start = System.nanoTime();
      Thread.sleep(duration.toMillis());
      double seconds = (System.nanoTime() - start) / 1e9;
      double roundTrips = load.roundTrips.get() - done;
      long cpuEnd = os.getProcessCpuTime();
      if (cpu < 0 || cpuEnd < 0) {
        throw new IllegalStateException("this JVM does not report its process CPU time");
      }
      cpu = cpuEnd - cpu;
      if (load.failure != null) {
        throw new IllegalStateException(kind + " load failed: " + load.failure, load.failure);
      }
      if (roundTrips == 0) {
        throw new IllegalStateException(kind + ": no round trip completed in the window");
      }
      return new Floor(kind, roundTrips / seconds, cpu / 1e3 / roundTrips);
    } finally {
      load.stop();
    }
  }

  /** One kind of load: its count, its first failure, how to end it. */
  private static final class Load {
    final AtomicLong roundTrips = new AtomicLong();
    volatile boolean stopped;
    volatile Throwable failure;
    Runnable onStop = () -> {};

    void fail(Throwable t) {
      if (!stopped && failure == null) {
        failure = t;
      }
    }

    void stop() {
      stopped = true;
      onStop.run();
    }
  }
}
