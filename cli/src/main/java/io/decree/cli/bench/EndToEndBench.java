package io.decree.cli.bench;

import io.decree.coordinator.CoordinatorNode;
import io.decree.coordinator.CoordinatorOptions;
import io.decree.examples.bank.AccountServer;
import io.decree.node.grpc.UnaryObserver;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.WriteRequest;
import io.decree.proto.examples.bank.v1.WriteResponse;
import io.decree.wal.WalStats;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * The whole stack in one JVM, over real gRPC on 127.0.0.1 and real, synced Chronicle WALs: one
 * coordinator, N account services, and C lanes each running one transaction at a time (begin, one
 * Write at every account service, commit) through the asynchronous client API.
 *
 * <p>Workers write keys of their own, so transactions never wait for each other's locks: the bench
 * measures the protocol and its I/O, not contention.
 */
public final class EndToEndBench {
  /** Largest latency the histogram holds; slower answers are clamped to it. */
  private static final long LATENCY_MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

  private static final long LANE_STOP_MILLIS = 15_000;

  /** Pause after a transaction that failed outright, so a broken stack is not spun against. */
  private static final long FAILED_PAUSE_MILLIS = 10;

  private final BenchConfig config;

  /** Set by the main thread; lanes read them between transactions. */
  private volatile boolean measuring;

  private volatile boolean stopping;

  public EndToEndBench(BenchConfig config) {
    this.config = config;
  }

  /** Starts the cluster, runs warmup and the measured window, shuts everything down. */
  public BenchResult run() throws InterruptedException {
    Path root = config.dataDir().orElseGet(EndToEndBench::tempDir);
    try (Cluster cluster = Cluster.start(root, config.participants(), config.coordinators())) {
      return drive(cluster, fileStoreType(root));
    } finally {
      if (config.dataDir().isEmpty()) {
        deleteRecursively(root);
      }
    }
  }

  private BenchResult drive(Cluster cluster, String fileStoreType) throws InterruptedException {
    List<Lane> lanes = new ArrayList<>();
    for (int i = 0; i < config.inFlight(); i++) {
      lanes.add(new Lane(i, cluster));
    }
    lanes.forEach(Lane::next);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long measuredNanos;
    long cpuNanos;
    long gcCount;
    long gcMillis;
    WalStats.ProcessTotals wal;
    try {
      Thread.sleep(config.warmup().toMillis());
      long cpuStart = os.getProcessCpuTime();
      long[] gcStart = gcTotals();
      WalStats.ProcessTotals walStart = WalStats.processTotals();
      long wallStart = System.nanoTime();
      measuring = true;
      Thread.sleep(config.duration().toMillis());
      measuring = false;
      measuredNanos = System.nanoTime() - wallStart;
      cpuNanos = os.getProcessCpuTime() - cpuStart;
      long[] gcEnd = gcTotals();
      wal = WalStats.processTotals().minus(walStart);
      gcCount = gcEnd[0] - gcStart[0];
      gcMillis = gcEnd[1] - gcStart[1];
    } finally {
      measuring = false;
      stopping = true;
      for (Lane lane : lanes) {
        if (!lane.stopped.await(LANE_STOP_MILLIS, TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException(
              "bench lane "
                  + lane.index
                  + " still has a transaction "
                  + LANE_STOP_MILLIS
                  + " ms after the end");
        }
      }
    }

    Histogram latency = new Histogram(LATENCY_MAX_NANOS, 3);
    Histogram commitLatency = new Histogram(LATENCY_MAX_NANOS, 3);
    long committed = 0;
    long aborted = 0;
    long unknown = 0;
    long failed = 0;
    for (Lane w : lanes) {
      latency.add(w.latency);
      commitLatency.add(w.commitLatency);
      committed += w.committed;
      aborted += w.aborted;
      unknown += w.unknown;
      failed += w.failed;
    }
    double seconds = measuredNanos / 1e9;
    return new BenchResult(
        config.participants(),
        config.inFlight(),
        config.warmup().toMillis() / 1e3,
        seconds,
        committed,
        aborted,
        unknown,
        failed,
        committed / seconds,
        millis(latency.getValueAtPercentile(50)),
        millis(latency.getValueAtPercentile(90)),
        millis(latency.getValueAtPercentile(99)),
        millis(latency.getValueAtPercentile(99.9)),
        millis(latency.getMaxValue()),
        latency.getTotalCount() == 0 ? 0 : latency.getMean() / 1e6,
        millis(commitLatency.getValueAtPercentile(50)),
        millis(commitLatency.getValueAtPercentile(99)),
        committed == 0 ? 0 : cpuNanos / 1e3 / committed,
        cpuNanos / (double) measuredNanos,
        gcCount,
        gcMillis,
        committed == 0 ? 0 : wal.syncs() / (double) committed,
        committed == 0 ? 0 : wal.records() / (double) committed,
        fileStoreType,
        config.coordinators());
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  /** {count, millis} summed over the collectors. */
  private static long[] gcTotals() {
    long count = 0;
    long millis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, gc.getCollectionCount());
      millis += Math.max(0, gc.getCollectionTime());
    }
    return new long[] {count, millis};
  }

  /** How a transaction ended, as the worker counts it. */
  private enum Ending {
    COMMITTED,
    ABORTED,
    UNKNOWN,
    FAILED
  }

  /**
   * One transaction at a time, without a thread of its own: each step starts the next when its
   * answer arrives (on a gRPC transport thread), as an asynchronous client would. Its counters and
   * histogram are written by one transaction's callbacks at a time, each step ordered after the one
   * before by the future that links them, and read by the main thread after {@link #stopped}.
   */
  private final class Lane {
    final int index;
    final Cluster cluster;
    final Histogram latency = new Histogram(LATENCY_MAX_NANOS, 3);
    final Histogram commitLatency = new Histogram(LATENCY_MAX_NANOS, 3);
    final WriteRequest write;
    final CountDownLatch stopped = new CountDownLatch(1);
    long committed;
    long aborted;
    long unknown;
    long failed;

    Lane(int index, Cluster cluster) {
      this.index = index;
      this.cluster = cluster;
      // One key per lane, the same at every service: no two lanes ever touch the same key.
      this.write = WriteRequest.newBuilder().putValues("bench-" + index, index).build();
    }

    void next() {
      if (stopping) {
        stopped.countDown();
        return;
      }
      long start = System.nanoTime();
      transaction()
          .whenComplete(
              (ending, error) -> {
                Ending counted = error == null ? ending : Ending.FAILED;
                if (measuring) {
                  count(counted, System.nanoTime() - start);
                }
                if (counted == Ending.FAILED) {
                  CompletableFuture.delayedExecutor(FAILED_PAUSE_MILLIS, TimeUnit.MILLISECONDS)
                      .execute(this::next);
                } else {
                  next();
                }
              });
    }

    private void count(Ending ending, long nanos) {
      switch (ending) {
        case COMMITTED -> committed++;
        case ABORTED -> aborted++;
        case UNKNOWN -> unknown++;
        case FAILED -> failed++;
      }
      if (ending != Ending.FAILED) {
        latency.recordValue(Math.min(nanos, LATENCY_MAX_NANOS));
      }
    }

    private CompletableFuture<Ending> transaction() {
      DecreeClient decree = cluster.decree;
      return decree
          .beginAsync(config.txTimeout(), "")
          .thenCompose(
              tx ->
                  writeEverywhere(tx.txId())
                      .handle((written, error) -> error)
                      .thenCompose(
                          error ->
                              error == null ? commit(tx.txId()) : decree.rollbackAsync(tx.txId()))
                      .thenApply(
                          result ->
                              switch (result.outcome()) {
                                case COMMITTED -> Ending.COMMITTED;
                                case ABORTED -> Ending.ABORTED;
                                case UNKNOWN -> Ending.UNKNOWN;
                              }));
    }

    private CompletableFuture<DecreeClient.Result> commit(String tx) {
      long start = System.nanoTime();
      return cluster
          .decree
          .commitAsync(tx, false)
          .whenComplete(
              (result, error) -> {
                if (error == null && measuring) {
                  commitLatency.recordValue(Math.min(System.nanoTime() - start, LATENCY_MAX_NANOS));
                }
              });
    }

    /** The writes go out together, so a transaction costs one write round trip, not N. */
    private CompletableFuture<Void> writeEverywhere(String tx) {
      List<CompletableFuture<WriteResponse>> pending = new ArrayList<>(cluster.accounts.size());
      cluster.decree.inTransaction(
          tx,
          () -> {
            for (AccountsGrpc.AccountsStub stub : cluster.accounts) {
              CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
              stub.withDeadlineAfter(config.txTimeout().toMillis(), TimeUnit.MILLISECONDS)
                  .write(write, UnaryObserver.completing(answer));
              pending.add(answer);
            }
          });
      // Every answer first, failed or not: a rollback while a write still runs could not name
      // that write's participant, which would then hold this lane's key until its deadline.
      return CompletableFuture.allOf(
              pending.stream()
                  .map(answer -> answer.handle((written, error) -> null))
                  .toArray(CompletableFuture[]::new))
          .thenCompose(
              allAnswered -> CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)));
    }
  }

  /** The coordinator(s), the account services, and the clients' connections to them. */
  private static final class Cluster implements AutoCloseable {
    final List<CoordinatorNode> coordinators;
    final List<AccountServer> servers;
    final List<ManagedChannel> channels;
    final List<AccountsGrpc.AccountsStub> accounts;

    final DecreeClient decree;

    private Cluster(
        List<CoordinatorNode> coordinators,
        List<AccountServer> servers,
        List<ManagedChannel> channels,
        DecreeClient decree) {
      this.coordinators = coordinators;
      this.servers = servers;
      this.channels = channels;
      this.accounts =
          channels.stream()
              .map(c -> AccountsGrpc.newStub(c).withInterceptors(DecreeContext.clientInterceptor()))
              .toList();
      this.decree = decree;
    }

    static Cluster start(Path root, int participants, int members) {
      List<CoordinatorNode> nodes =
          members == 1
              ? List.of(
                  CoordinatorNode.start(
                      CoordinatorOptions.defaults(root.resolve("coordinator"), 0)))
              : BenchCoordinators.startCluster(root, members);
      List<AccountServer> servers = new ArrayList<>();
      List<ManagedChannel> channels = new ArrayList<>();
      try {
        List<String> coordinators = nodes.stream().map(CoordinatorNode::address).toList();
        for (int i = 0; i < participants; i++) {
          AccountServer server =
              AccountServer.start(
                  "bench-accounts-" + i,
                  "127.0.0.1",
                  0,
                  root.resolve("accounts-" + i),
                  coordinators,
                  Map.of());
          servers.add(server);
          // Responses complete the lane's future on the network thread, which then starts the
          // lane's next step: no hop through gRPC's default cached pool. Safe because no step
          // blocks.
          channels.add(
              NettyChannelBuilder.forTarget(server.address())
                  .usePlaintext()
                  .directExecutor()
                  .disableRetry()
                  .build());
        }
        return new Cluster(nodes, servers, channels, DecreeClient.create(coordinators));
      } catch (RuntimeException e) {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(AccountServer::close);
        nodes.forEach(CoordinatorNode::close);
        throw e;
      }
    }

    @Override
    public void close() {
      decree.close();
      for (ManagedChannel channel : channels) {
        channel.shutdown();
        try {
          if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
            channel.shutdownNow();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          channel.shutdownNow();
        }
      }
      for (int i = servers.size() - 1; i >= 0; i--) {
        servers.get(i).close();
      }
      coordinators.forEach(CoordinatorNode::close);
    }
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("decree-bench-");
    } catch (IOException e) {
      throw new UncheckedIOException("bench: cannot create a temporary directory", e);
    }
  }

  private static String fileStoreType(Path dir) {
    try {
      Files.createDirectories(dir);
      return Files.getFileStore(dir).type();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("bench: cannot delete " + root, e);
    }
  }

  /** For callers that want the duration a run will take, e.g. to print it first. */
  public Duration totalDuration() {
    return config.warmup().plus(config.duration());
  }
}
