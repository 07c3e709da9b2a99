package io.decree.cluster;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Real Ratis members in this JVM: separate data dirs, gRPC on 127.0.0.1 with free ports. Members
 * can be stopped (their server closed, as a crash would) and restarted over the same dir and port.
 */
final class TestCluster implements AutoCloseable {
  static final Duration ELECTION_WAIT = Duration.ofSeconds(30);

  private final Path root;
  private final UnaryOperator<ClusterOptions.Builder> tune;
  private final Map<String, ClusterPeers.Peer> peers = new LinkedHashMap<>();
  private final Map<String, RatisDecisionLog> running = new LinkedHashMap<>();

  TestCluster(Path root, int size, UnaryOperator<ClusterOptions.Builder> tune) {
    this.root = root;
    this.tune = tune;
    List<Integer> ports = freePorts(size + 1); // one spare for a member added later
    for (int i = 1; i <= size + 1; i++) {
      peers.put("n" + i, new ClusterPeers.Peer("n" + i, "127.0.0.1", ports.get(i - 1)));
    }
  }

  private static List<Integer> freePorts(int count) {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        sockets.add(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
      }
      List<Integer> ports = new ArrayList<>();
      sockets.forEach(s -> ports.add(s.getLocalPort()));
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket s : sockets) {
        try {
          s.close();
        } catch (IOException ignored) {
          // a probe socket; nothing to do
        }
      }
    }
  }

  /** The cluster list of the first {@code size} members (n1..n{size}). */
  ClusterPeers initialPeers(int size) {
    return new ClusterPeers(new ArrayList<>(peers.values()).subList(0, size));
  }

  ClusterPeers.Peer peer(String id) {
    return peers.get(id);
  }

  ClusterOptions options(String id, ClusterPeers list, boolean joining) {
    return tune.apply(
            ClusterOptions.builder()
                .nodeId(id)
                .peers(list)
                .dataDir(root.resolve(id))
                .joining(joining)
                .electionTimeoutMillis(1000, 2000)
                .appendTimeoutMillis(5000)
                .readTimeoutMillis(5000))
        .build();
  }

  RatisDecisionLog start(String id, ClusterPeers list, boolean joining) {
    RatisDecisionLog log = RatisDecisionLog.start(options(id, list, joining));
    running.put(id, log);
    return log;
  }

  void startAll(int size) {
    ClusterPeers list = initialPeers(size);
    for (ClusterPeers.Peer p : list.peers()) {
      start(p.id(), list, false);
    }
  }

  /** Closes a member's log and Ratis server: to the others it has crashed. */
  void stop(String id) {
    RatisDecisionLog log = running.remove(id);
    if (log != null) {
      log.close();
    }
  }

  RatisDecisionLog log(String id) {
    return running.get(id);
  }

  Map<String, RatisDecisionLog> running() {
    return running;
  }

  Optional<RatisDecisionLog> leader() {
    return running.values().stream().filter(RatisDecisionLog::isLeader).findFirst();
  }

  /** Waits until one running member leads and is ready. */
  RatisDecisionLog awaitLeader() {
    await("a ready leader").atMost(ELECTION_WAIT).until(() -> leader().isPresent());
    return leader().orElseThrow();
  }

  List<RatisDecisionLog> followers() {
    List<RatisDecisionLog> followers = new ArrayList<>();
    running.values().stream().filter(l -> !l.isLeader()).forEach(followers::add);
    return followers;
  }

  @Override
  public void close() {
    for (String id : new ArrayList<>(running.keySet())) {
      stop(id);
    }
  }
}
