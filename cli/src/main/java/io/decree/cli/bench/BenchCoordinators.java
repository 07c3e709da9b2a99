package io.decree.cli.bench;

import io.decree.cli.process.Ports;
import io.decree.cluster.ClusterOptions;
import io.decree.cluster.RatisDecisionLog;
import io.decree.coordinator.CoordinatorNode;
import io.decree.coordinator.CoordinatorOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A coordinator cluster inside the benchmark's JVM: N members over real Raft on 127.0.0.1. */
final class BenchCoordinators {
  private static final long LEADER_WAIT_MILLIS = 60_000;

  private BenchCoordinators() {}

  /** Starts {@code members} coordinators and returns once one of them leads. */
  static List<CoordinatorNode> startCluster(Path root, int members) {
    Map<String, String> raft = new LinkedHashMap<>();
    Map<String, String> grpc = new LinkedHashMap<>();
    for (int i = 1; i <= members; i++) {
      raft.put("n" + i, "127.0.0.1:" + freePort());
      grpc.put("n" + i, "127.0.0.1:" + freePort());
    }
    String clusterList = String.join(",", raft.entrySet().stream().map(Object::toString).toList());
    List<CoordinatorNode> nodes = new ArrayList<>();
    List<RatisDecisionLog> logs = new ArrayList<>();
    try {
      for (String id : raft.keySet()) {
        ClusterOptions cluster =
            ClusterOptions.builder()
                .nodeId(id)
                .peers(clusterList)
                .dataDir(root.resolve("coordinator-" + id).resolve("raft"))
                .build();
        RatisDecisionLog log = RatisDecisionLog.start(cluster);
        logs.add(log);
        String address = grpc.get(id);
        CoordinatorOptions options =
            CoordinatorOptions.defaults(
                    root.resolve("coordinator-" + id),
                    Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)))
                .withCluster(grpc, address, cluster.appendTimeoutMillis() + 1_000);
        nodes.add(CoordinatorNode.start(options, log));
      }
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEADER_WAIT_MILLIS);
      while (logs.stream().noneMatch(RatisDecisionLog::isLeader)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "bench: no coordinator became leader within " + LEADER_WAIT_MILLIS + " ms");
        }
        Thread.sleep(50);
      }
      return nodes;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      nodes.forEach(CoordinatorNode::close);
      throw new IllegalStateException("bench: interrupted while the cluster started", e);
    } catch (RuntimeException e) {
      nodes.forEach(CoordinatorNode::close);
      logs.subList(nodes.size(), logs.size()).forEach(RatisDecisionLog::close);
      throw e;
    }
  }

  private static int freePort() {
    return Ports.restartable();
  }
}
