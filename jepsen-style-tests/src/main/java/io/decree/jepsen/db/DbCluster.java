package io.decree.jepsen.db;

import io.decree.cli.process.Ports;
import io.decree.jepsen.net.FaultProxy;
import io.decree.jepsen.net.Network;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The system under test: coordinators c1..cN (one, or a cluster of three) and participants p1..pM,
 * each its own JVM, data directory and port on 127.0.0.1, and every link between them through a
 * {@link FaultProxy}:
 *
 * <ul>
 *   <li>{@code client->cK}: the clients' coordinator addresses;
 *   <li>{@code pJ->cK}: participant pJ's coordinator addresses (enlist, inquiries);
 *   <li>{@code any->pJ}: pJ's advertised address, used by the coordinators (prepare, phase 2), by
 *       its peers (cooperative termination) and by the clients (business calls). One proxy for all
 *       of them, because a participant advertises one address.
 *   <li>{@code cI->cK} (cluster mode): Raft traffic that cI opens to cK. Every member dials cK at
 *       one address (its entry in {@code --cluster}; cK's Raft server listens elsewhere, {@code
 *       --raft-listen}); a {@link io.decree.jepsen.net.SourceDispatcher} there hands each
 *       connection to the link of the member that opened it.
 * </ul>
 *
 * The harness itself (admin queries, final reads) talks to the nodes directly.
 */
public final class DbCluster implements AutoCloseable {
  public static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  public static final String COORDINATOR_MAIN = "io.decree.cli.DecreeCommand";

  private final Path dir;
  private final Network network = new Network();
  private final Map<String, ChildJvm> nodes = new LinkedHashMap<>();
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private final List<String> coordinators = new ArrayList<>();
  private final List<String> participants = new ArrayList<>();

  /**
   * @param accounts per participant, its opening keys and values
   * @param jvmOptions per node name, extra JVM options (test fault switches)
   */
  public DbCluster(
      Path dir,
      int coordinatorCount,
      List<Map<String, Long>> accounts,
      Map<String, List<String>> jvmOptions) {
    if (coordinatorCount != 1 && coordinatorCount != 3) {
      throw new IllegalArgumentException("1 or 3 coordinators, not " + coordinatorCount);
    }
    this.dir = dir;
    for (int i = 1; i <= coordinatorCount; i++) {
      coordinators.add("c" + i);
    }
    for (int i = 1; i <= accounts.size(); i++) {
      participants.add("p" + i);
    }
    for (String c : coordinators) {
      ports.put(c, freePort());
      network.link("client", c, ports.get(c));
    }
    for (String p : participants) {
      ports.put(p, freePort());
      network.link("any", p, ports.get(p));
      for (String c : coordinators) {
        network.link(p, c, ports.get(c));
      }
    }
    Map<String, Integer> raftPorts = new LinkedHashMap<>();
    Map<String, String> raftAddresses = new LinkedHashMap<>();
    for (String c : coordinators) {
      raftPorts.put(c, freePort());
      if (coordinators.size() > 1) {
        raftAddresses.put(c, network.dispatched(c, raftPorts.get(c), this::coordinatorPids));
      }
    }
    for (String c : coordinators) {
      List<String> args = new ArrayList<>();
      args.addAll(
          List.of(
              "coordinator",
              "--data-dir",
              dir.resolve(c).toString(),
              "--port",
              Integer.toString(ports.get(c))));
      if (coordinators.size() > 1) {
        // Cluster mode: the members dial each other's dispatchers; each Raft server listens on
        // its own port behind its dispatcher.
        List<String> raft = new ArrayList<>();
        List<String> grpc = new ArrayList<>();
        for (String other : coordinators) {
          raft.add(other + "=" + raftAddresses.get(other));
          grpc.add(other + "=127.0.0.1:" + ports.get(other));
        }
        args.addAll(
            List.of(
                "--node-id",
                c,
                "--cluster",
                String.join(",", raft),
                "--raft-listen",
                "127.0.0.1:" + raftPorts.get(c),
                "--coordinators",
                String.join(",", grpc)));
      }
      nodes.put(
          c,
          new ChildJvm(
              c,
              dir.resolve(c + ".log"),
              COORDINATOR_MAIN,
              jvmOptions.getOrDefault(c, List.of()),
              args));
    }
    for (int i = 0; i < participants.size(); i++) {
      String p = participants.get(i);
      List<String> coordinatorAddresses = new ArrayList<>();
      for (String c : coordinators) {
        coordinatorAddresses.add(network.get(p, c).address());
      }
      List<String> args = new ArrayList<>();
      args.addAll(
          List.of(
              "--name",
              p,
              "--data-dir",
              dir.resolve(p).toString(),
              "--port",
              Integer.toString(ports.get(p)),
              "--advertise",
              network.get("any", p).address(),
              "--coordinators",
              String.join(",", coordinatorAddresses)));
      accounts.get(i).forEach((k, v) -> args.addAll(List.of("--account", k + "=" + v)));
      nodes.put(
          p,
          new ChildJvm(
              p,
              dir.resolve(p + ".log"),
              ParticipantMain.class.getName(),
              jvmOptions.getOrDefault(p, List.of()),
              args));
    }
  }

  /** Each coordinator's current pid (-1 while down), for telling Raft connections apart. */
  private Map<String, Long> coordinatorPids() {
    Map<String, Long> pids = new LinkedHashMap<>();
    for (String c : coordinators) {
      ChildJvm node = nodes.get(c);
      pids.put(c, node == null ? -1L : node.pid());
    }
    return pids;
  }

  /** Starts every node: the coordinators together, then the participants together. */
  public void start() {
    startTogether(coordinators.stream().map(nodes::get).toList());
    startTogether(participants.stream().map(nodes::get).toList());
  }

  /**
   * Starts the nodes in parallel and waits until each listens (bounded by {@link #START_TIMEOUT}
   * each); rethrows the first failure. Cluster members need each other to elect a leader, and a
   * majority comes back as soon as its members do.
   */
  public static void startTogether(List<ChildJvm> jvms) {
    List<Thread> threads = new ArrayList<>();
    List<RuntimeException> failed = java.util.Collections.synchronizedList(new ArrayList<>());
    for (ChildJvm node : jvms) {
      Thread t =
          new Thread(
              () -> {
                try {
                  node.start(START_TIMEOUT);
                } catch (RuntimeException e) {
                  failed.add(e);
                }
              },
              "start-" + node.name());
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    long deadline = System.nanoTime() + START_TIMEOUT.plusSeconds(10).toNanos();
    for (Thread t : threads) {
      try {
        t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting nodes", e);
      }
    }
    if (!failed.isEmpty()) {
      throw failed.get(0);
    }
  }

  public Path dir() {
    return dir;
  }

  public Network network() {
    return network;
  }

  public List<String> coordinators() {
    return List.copyOf(coordinators);
  }

  public List<String> participants() {
    return List.copyOf(participants);
  }

  public List<String> nodeNames() {
    return List.copyOf(nodes.keySet());
  }

  public ChildJvm node(String name) {
    ChildJvm node = nodes.get(name);
    if (node == null) {
      throw new IllegalArgumentException("no node " + name);
    }
    return node;
  }

  /** What clients dial to reach the coordinators, in order. */
  public List<String> clientCoordinatorAddresses() {
    List<String> out = new ArrayList<>();
    for (String c : coordinators) {
      out.add(network.get("client", c).address());
    }
    return out;
  }

  /** What clients dial to reach a participant's services. */
  public String clientParticipantAddress(String participant) {
    return network.get("any", participant).address();
  }

  /** The harness's own, fault-free way to a node. */
  public String directAddress(String node) {
    return "127.0.0.1:" + ports.get(node);
  }

  /** Coordinators that hold no quorum without {@code down}: all, for a single node. */
  public boolean quorumLostWithout(int downCoordinators) {
    return coordinators.size() - downCoordinators < coordinators.size() / 2 + 1;
  }

  public List<Path> logs() {
    return nodes.values().stream().map(ChildJvm::log).toList();
  }

  /** A port free now, below the ephemeral range, never handed out twice: see {@link Ports}. */
  static int freePort() {
    return Ports.restartable();
  }

  /** Stops every node (clean stop, then kill -9) and every link. Safe to call twice. */
  @Override
  public void close() {
    for (ChildJvm node : nodes.values()) {
      try {
        node.close();
      } catch (RuntimeException e) {
        node.kill9();
      }
    }
    network.close();
  }
}
