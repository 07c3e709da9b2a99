package io.decree.cli;

import io.decree.cluster.ClusterOptions;
import io.decree.cluster.ClusterPeers;
import io.decree.cluster.RatisDecisionLog;
import io.decree.coordinator.CoordinatorNode;
import io.decree.coordinator.CoordinatorOptions;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Runs one coordinator node, alone or as a member of a cluster, until it is stopped. */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = {
      "Run a coordinator: a single node with its decision log in --data-dir (the default), or,"
          + " with --node-id and --cluster, one member of a cluster whose decision log is"
          + " replicated by Raft (Apache Ratis). Only the cluster's leader decides; the others"
          + " answer UNAVAILABLE with the leader's address.",
      "",
      "Cluster example (one line per member, each with its own --data-dir and --port):",
      "  decree coordinator --node-id n1 --port 9001 --data-dir d1"
          + " --cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003"
          + " --coordinators n1=127.0.0.1:9001,n2=127.0.0.1:9002,n3=127.0.0.1:9003"
    })
final class CoordinatorCommand implements java.util.concurrent.Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--data-dir", required = true, description = "Directory of the decision log.")
  Path dataDir;

  @Option(names = "--port", defaultValue = "7000", description = "gRPC port (0: any free port).")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description = "Interface to listen on (default: ${DEFAULT-VALUE}).")
  String bindHost;

  @Option(
      names = "--node-id",
      description = "Cluster mode: this member's id (must be in --cluster).")
  String nodeId;

  @Option(
      names = "--cluster",
      description =
          "Cluster mode: every member's Raft address, id=host:port,... After the first start,"
              + " the membership stored in --data-dir wins (change it with `admin cluster"
              + " add-member/remove-member`).")
  String clusterList;

  @Option(
      names = "--coordinators",
      description =
          "Cluster mode: every member's coordinator gRPC address, id=host:port,... Participants"
              + " are told these, and followers name the leader's. Default: this member's only.")
  String coordinatorList;

  @Option(
      names = "--join",
      description =
          "Cluster mode: start as a new member with an empty configuration; it serves once a"
              + " member runs `admin cluster add-member` for it.")
  boolean join;

  @Option(
      names = "--election-timeout",
      defaultValue = "1000-2000",
      description =
          "Cluster mode: a follower that hears no leader for a random time in MIN-MAX ms starts"
              + " an election (default: ${DEFAULT-VALUE}). Lower fails over faster; too low"
              + " flaps on a loaded machine.")
  String electionTimeout;

  @Option(
      names = "--no-leader-watch",
      description =
          "Cluster mode: wait out the election timeout even when the leader's process is known to"
              + " be gone (its coordinator port refuses connections). By default a follower then"
              + " starts an election at once.")
  boolean noLeaderWatch;

  @Option(
      names = "--raft-listen",
      paramLabel = "HOST:PORT",
      description =
          "Cluster mode: where this member's Raft server listens, when its --cluster address is"
              + " a proxy or NAT in front of it (default: its --cluster address).")
  String raftListen;

  @Option(
      names = "--advertise",
      description = "host:port participants use to reach this node (default: bind:port).")
  String advertised;

  @Option(
      names = "--checkpoint-every",
      paramLabel = "RECORDS",
      defaultValue = "${sys:decree.coordinator.checkpointEvery:-500000}",
      description =
          "Single node: write the decision state into the log every RECORDS records, then delete"
              + " the log files before it (default: ${DEFAULT-VALUE}; the log keeps about two"
              + " hours of records at most, as its files are hourly).")
  int checkpointEvery;

  @Override
  public Integer call() throws InterruptedException {
    if (checkpointEvery <= 0) {
      throw new ParameterException(
          spec.commandLine(), "--checkpoint-every must be > 0, was " + checkpointEvery);
    }
    CoordinatorOptions options =
        CoordinatorOptions.defaults(dataDir, port)
            .withBindHost(bindHost)
            .withCheckpointEveryRecords(checkpointEvery);
    CoordinatorNode node;
    if (nodeId == null && clusterList == null) {
      if (coordinatorList != null || join) {
        throw new ParameterException(
            spec.commandLine(), "--coordinators and --join need --node-id and --cluster");
      }
      node = CoordinatorNode.start(options.withAdvertised(advertised));
    } else {
      node = startMember(options);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  node.close();
                  stopped.countDown();
                }));
    // One parseable line, so scripts and tests know where it listens.
    System.out.println("coordinator listening on " + node.address());
    System.out.flush();
    stopped.await();
    return 0;
  }

  private long[] electionRange() {
    String[] parts = electionTimeout.split("-", -1);
    try {
      if (parts.length == 2) {
        return new long[] {Long.parseLong(parts[0].strip()), Long.parseLong(parts[1].strip())};
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ParameterException(
        spec.commandLine(),
        "--election-timeout must be MIN-MAX in milliseconds, e.g. 1000-2000, was '"
            + electionTimeout
            + "'");
  }

  private CoordinatorNode startMember(CoordinatorOptions options) {
    if (nodeId == null || clusterList == null) {
      throw new ParameterException(
          spec.commandLine(), "cluster mode needs both --node-id and --cluster");
    }
    ClusterOptions cluster;
    Map<String, String> members = new LinkedHashMap<>();
    try {
      cluster =
          ClusterOptions.builder()
              .nodeId(nodeId)
              .peers(clusterList)
              .dataDir(dataDir.resolve("raft"))
              .joining(join)
              .electionTimeoutMillis(electionRange()[0], electionRange()[1])
              .raftListen(raftListen)
              .build();
      if (coordinatorList != null) {
        for (ClusterPeers.Peer p : ClusterPeers.parse(coordinatorList).peers()) {
          members.put(p.id(), p.address());
        }
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    if (port == 0) {
      throw new ParameterException(
          spec.commandLine(), "cluster mode needs a fixed --port: peers and clients name it");
    }
    String self =
        advertised != null ? advertised : members.getOrDefault(nodeId, bindHost + ":" + port);
    if (!members.isEmpty() && !members.containsKey(nodeId)) {
      throw new ParameterException(
          spec.commandLine(), "--coordinators has no entry for this member " + nodeId);
    }
    if (members.isEmpty()) {
      members.put(nodeId, self);
    }
    RatisDecisionLog log = RatisDecisionLog.start(cluster);
    // The log's own deadline (with its clearer "no coordinator quorum" message) fires first.
    long decisionTimeout = cluster.appendTimeoutMillis() + 1_000;
    return CoordinatorNode.start(
        options.withCluster(members, self, decisionTimeout).withLeaderWatch(!noLeaderWatch), log);
  }
}
