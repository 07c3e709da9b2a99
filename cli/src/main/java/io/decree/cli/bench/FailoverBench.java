package io.decree.cli.bench;

import io.decree.cli.process.NodeProcess;
import io.decree.cli.process.Ports;
import io.decree.core.Outcome;
import io.decree.node.grpc.Channels;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.WriteRequest;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.NodeStatusRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leader failover, measured with real processes: a 3-member coordinator cluster and two account
 * services, each its own JVM; a client commits two-participant transactions back to back; each
 * round kill -9s the leader and measures the time from the kill to the first commit that began
 * after it and was answered COMMITTED. The killed member is restarted before the next round.
 */
public final class FailoverBench {
  private static final Duration START = Duration.ofSeconds(60);
  private static final long ROUND_LIMIT_MILLIS = 60_000;
  private static final long SETTLE_MILLIS = 3_000;

  /**
   * @param failoverMillis from the kill to the first later commit answered COMMITTED, per round
   * @param leaderMillis from the kill to a surviving member reporting LEADER (its core rebuilt)
   */
  public record Result(
      List<Long> failoverMillis, List<Long> leaderMillis, long committed, long notCommitted) {}

  private final Path root;
  private final int rounds;
  private final String electionTimeout;
  private final boolean leaderWatch;
  private final int backgroundLoad;
  private volatile boolean stopLoad;
  private final List<NodeProcess> coordinators = new ArrayList<>();
  private final List<NodeProcess> services = new ArrayList<>();
  private final Channels channels = new Channels();

  /**
   * @param electionTimeout passed to each member's --election-timeout (MIN-MAX ms)
   * @param leaderWatch false: each member runs with --no-leader-watch
   * @param backgroundLoad clients committing back to back all along, besides the measuring one (so
   *     the Raft log grows while the leader is killed)
   */
  public FailoverBench(
      Path root, int rounds, String electionTimeout, boolean leaderWatch, int backgroundLoad) {
    if (rounds < 1 || rounds > 100) {
      throw new IllegalArgumentException("bench-failover: --rounds must be 1..100, got " + rounds);
    }
    if (backgroundLoad < 0 || backgroundLoad > 64) {
      throw new IllegalArgumentException(
          "bench-failover: --load must be 0..64, got " + backgroundLoad);
    }
    this.backgroundLoad = backgroundLoad;
    this.root = root;
    this.rounds = rounds;
    this.electionTimeout = electionTimeout;
    this.leaderWatch = leaderWatch;
  }

  public Result run() throws InterruptedException {
    try {
      return measure();
    } finally {
      channels.close();
      services.forEach(NodeProcess::kill);
      coordinators.forEach(NodeProcess::kill);
    }
  }

  private Result measure() throws InterruptedException {
    List<String> raft = new ArrayList<>();
    List<String> grpc = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      raft.add("n" + i + "=127.0.0.1:" + freePort());
      grpc.add("n" + i + "=127.0.0.1:" + freePort());
    }
    List<String> addresses = grpc.stream().map(e -> e.substring(e.indexOf('=') + 1)).toList();
    for (int i = 1; i <= 3; i++) {
      String address = addresses.get(i - 1);
      List<String> args =
          new ArrayList<>(
              List.of(
                  "coordinator",
                  "--node-id",
                  "n" + i,
                  "--data-dir",
                  root.resolve("coordinator-n" + i).toString(),
                  "--port",
                  address.substring(address.lastIndexOf(':') + 1),
                  "--cluster",
                  String.join(",", raft),
                  "--coordinators",
                  String.join(",", grpc),
                  "--election-timeout",
                  electionTimeout));
      if (!leaderWatch) {
        args.add("--no-leader-watch");
      }
      NodeProcess node =
          NodeProcess.of("coordinator-n" + i, root.resolve("coordinator-n" + i + ".log"), args);
      coordinators.add(node);
      node.start(START);
    }
    for (String name : List.of("accounts-a", "accounts-b")) {
      NodeProcess service =
          NodeProcess.of(
              name,
              root.resolve(name + ".log"),
              List.of(
                  "account-service",
                  "--name",
                  name,
                  "--data-dir",
                  root.resolve(name).toString(),
                  "--port",
                  Integer.toString(freePort()),
                  "--coordinator",
                  String.join(",", addresses)));
      services.add(service);
      service.start(START);
    }
    List<Long> failovers = new ArrayList<>();
    List<Long> elections = new ArrayList<>();
    AtomicLong committed = new AtomicLong();
    AtomicLong notCommitted = new AtomicLong();
    List<Thread> load = new ArrayList<>();
    try (DecreeClient client = DecreeClient.create(addresses, Duration.ofSeconds(5), "bench")) {
      for (int i = 0; i < backgroundLoad; i++) {
        Thread t =
            new Thread(() -> commitUntilStopped(client, committed, notCommitted), "load-" + i);
        t.setDaemon(true);
        t.start();
        load.add(t);
      }
      for (int round = 0; round < rounds; round++) {
        NodeProcess leader = awaitLeader();
        // Warm: commits flow before the kill.
        for (int i = 0; i < 20; i++) {
          commitOne(client, committed, notCommitted);
        }
        long killedAt = System.nanoTime();
        leader.kill();
        java.util.concurrent.CompletableFuture<Long> elected =
            java.util.concurrent.CompletableFuture.supplyAsync(
                () -> {
                  try {
                    awaitLeader();
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1L;
                  }
                });
        long deadline = killedAt + TimeUnit.MILLISECONDS.toNanos(ROUND_LIMIT_MILLIS);
        long recovered = -1;
        while (System.nanoTime() < deadline) {
          if (commitOne(client, committed, notCommitted)) {
            recovered = System.nanoTime();
            break;
          }
          Thread.sleep(10);
        }
        if (recovered < 0) {
          throw new IllegalStateException(
              "bench-failover: no commit within " + ROUND_LIMIT_MILLIS + " ms of the kill");
        }
        failovers.add(TimeUnit.NANOSECONDS.toMillis(recovered - killedAt));
        elections.add(elected.join());
        leader.start(START);
        // Let the restarted JVM warm up and catch up, so it does not steal the next round's CPU.
        Thread.sleep(SETTLE_MILLIS);
      }
      stopLoad = true;
      for (Thread t : load) {
        t.join(TimeUnit.SECONDS.toMillis(30));
      }
    }
    return new Result(failovers, elections, committed.get(), notCommitted.get());
  }

  private void commitUntilStopped(
      DecreeClient client, AtomicLong committed, AtomicLong notCommitted) {
    while (!stopLoad) {
      if (!commitOne(client, committed, notCommitted)) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /** Begin, a write at both services, commit: true when answered COMMITTED. */
  private boolean commitOne(DecreeClient client, AtomicLong committed, AtomicLong notCommitted) {
    try {
      String tx = client.begin(Duration.ofSeconds(10)).txId();
      client.inTransaction(
          tx,
          () -> {
            for (NodeProcess service : services) {
              AccountsGrpc.newBlockingStub(channels.get(service.address()))
                  .withInterceptors(DecreeContext.clientInterceptor())
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .write(WriteRequest.newBuilder().putValues("k-" + tx, 1).build());
            }
          });
      if (client.commit(tx).outcome() == Outcome.COMMITTED) {
        committed.incrementAndGet();
        return true;
      }
    } catch (RuntimeException refusedDuringFailover) {
      // begin or a write refused while no member leads: counted, and the loop tries again
    }
    notCommitted.incrementAndGet();
    return false;
  }

  private NodeProcess awaitLeader() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ROUND_LIMIT_MILLIS);
    while (System.nanoTime() < deadline) {
      Optional<NodeProcess> leader =
          coordinators.stream().filter(NodeProcess::alive).filter(this::leads).findFirst();
      if (leader.isPresent()) {
        return leader.get();
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("bench-failover: no leader within " + ROUND_LIMIT_MILLIS);
  }

  private boolean leads(NodeProcess node) {
    try {
      return CoordinatorAdminGrpc.newBlockingStub(channels.get(node.address()))
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .getNodeStatus(NodeStatusRequest.getDefaultInstance())
          .getRole()
          .equals("LEADER");
    } catch (RuntimeException unreachable) {
      return false;
    }
  }

  private static int freePort() {
    return Ports.restartable();
  }
}
