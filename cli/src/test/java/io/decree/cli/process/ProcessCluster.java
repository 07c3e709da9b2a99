package io.decree.cli.process;

import io.decree.node.grpc.Channels;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.AdjustRequest;
import io.decree.proto.examples.bank.v1.ReadRequest;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.NodeStatusRequest;
import io.decree.proto.v1.ParticipantAdminGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A coordinator (or a cluster of them) and two account services (accounts-a holds "alice",
 * accounts-b holds "bob"), each its own JVM on 127.0.0.1 with a fixed port, so a killed node
 * restarts where the others expect it. Test fault switches are passed per node as JVM options.
 */
final class ProcessCluster implements AutoCloseable {
  static final Duration START = Duration.ofSeconds(60);

  /** The first coordinator (the only one unless a cluster was asked for). */
  final NodeProcess coordinator;

  final List<NodeProcess> coordinators = new ArrayList<>();
  final NodeProcess a;
  final NodeProcess b;
  final String coordinatorAddress;

  /** Every coordinator's gRPC address, comma-separated. */
  final String coordinatorAddresses;

  /** Cluster mode: id=host:port of each member's Raft and gRPC endpoints. */
  private final List<String> raft = new ArrayList<>();

  private final List<String> grpc = new ArrayList<>();
  final DecreeClient client;
  private final Channels channels = new Channels();
  private final List<NodeProcess> all = new ArrayList<>();

  ProcessCluster(
      Path dir, List<String> coordinatorFaults, List<String> aFaults, List<String> bFaults) {
    this(dir, 1, coordinatorFaults, aFaults, bFaults);
  }

  /**
   * @param members 1: a single coordinator; 3 or more: a cluster (n1..nN), faults on every member
   */
  ProcessCluster(
      Path dir,
      int members,
      List<String> coordinatorFaults,
      List<String> aFaults,
      List<String> bFaults) {
    for (int i = 1; i <= members; i++) {
      grpc.add("n" + i + "=127.0.0.1:" + freePort());
      raft.add("n" + i + "=127.0.0.1:" + freePort());
    }
    coordinatorAddresses =
        String.join(",", grpc.stream().map(e -> e.substring(e.indexOf('=') + 1)).toList());
    coordinatorAddress = coordinatorAddresses.split(",")[0];
    for (int i = 1; i <= members; i++) {
      String port = grpc.get(i - 1).substring(grpc.get(i - 1).lastIndexOf(':') + 1);
      List<String> args =
          new ArrayList<>(
              List.of(
                  "coordinator",
                  "--data-dir",
                  dir.resolve("coordinator-n" + i).toString(),
                  "--port",
                  port));
      if (members > 1) {
        args.addAll(
            List.of(
                "--node-id",
                "n" + i,
                "--cluster",
                String.join(",", raft),
                "--coordinators",
                String.join(",", grpc)));
      }
      String name = members > 1 ? "coordinator-n" + i : "coordinator";
      coordinators.add(NodeProcess.of(name, dir.resolve(name + ".log"), coordinatorFaults, args));
    }
    coordinator = coordinators.get(0);
    a = service(dir, "accounts-a", "alice", aFaults);
    b = service(dir, "accounts-b", "bob", bFaults);
    all.addAll(coordinators);
    all.addAll(List.of(a, b));
    try {
      coordinators.forEach(c -> c.start(START));
      a.start(START);
      b.start(START);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    client =
        DecreeClient.create(
            List.of(coordinatorAddresses.split(",")), Duration.ofSeconds(30), "test");
  }

  private NodeProcess service(Path dir, String name, String account, List<String> faults) {
    return NodeProcess.of(
        name,
        dir.resolve(name + ".log"),
        faults,
        List.of(
            "account-service",
            "--name",
            name,
            "--data-dir",
            dir.resolve(name).toString(),
            "--coordinator",
            coordinatorAddresses,
            "--port",
            Integer.toString(freePort()),
            "--account",
            account + "=100"));
  }

  /** Restarts a killed node with the same command but without its fault switches. */
  NodeProcess restartWithoutFaults(NodeProcess node) {
    node.withoutJvmOptions().start(START);
    return node;
  }

  static int freePort() {
    return Ports.restartable();
  }

  /**
   * Starts a member that joins the cluster (--join); it serves once a member adds it. Its Raft and
   * gRPC ports are picked now and known from then on by {@link #raftAddress}.
   */
  NodeProcess joiner(Path dir, String id) {
    raft.add(id + "=127.0.0.1:" + freePort());
    grpc.add(id + "=127.0.0.1:" + freePort());
    String entry = grpc.get(grpc.size() - 1);
    NodeProcess node =
        NodeProcess.of(
            "coordinator-" + id,
            dir.resolve("coordinator-" + id + ".log"),
            List.of(),
            List.of(
                "coordinator",
                "--data-dir",
                dir.resolve("coordinator-" + id).toString(),
                "--port",
                entry.substring(entry.lastIndexOf(':') + 1),
                "--node-id",
                id,
                "--join",
                "--cluster",
                String.join(",", raft),
                "--coordinators",
                String.join(",", grpc)));
    all.add(node);
    coordinators.add(node);
    node.start(START);
    return node;
  }

  String raftAddress(String id) {
    return raft.stream()
        .filter(e -> e.startsWith(id + "="))
        .map(e -> e.substring(e.indexOf('=') + 1))
        .findFirst()
        .orElseThrow();
  }

  io.grpc.Channel channel(NodeProcess node) {
    return channels.get(node.address());
  }

  /** Begins a transfer of {@code amount} from alice (at a) to bob (at b); returns the tx id. */
  String beginTransfer(long amount) {
    return beginTransfer(amount, Duration.ofSeconds(60));
  }

  String beginTransfer(long amount, Duration timeout) {
    String tx = client.begin(timeout).txId();
    client.inTransaction(
        tx,
        () -> {
          accounts(a)
              .adjust(AdjustRequest.newBuilder().setAccount("alice").setAmount(-amount).build());
          accounts(b)
              .adjust(AdjustRequest.newBuilder().setAccount("bob").setAmount(amount).build());
        });
    return tx;
  }

  /** The coordinator that reports itself LEADER now, if one does. */
  Optional<NodeProcess> leader() {
    for (NodeProcess c : coordinators) {
      if (c.alive() && "LEADER".equals(nodeStatus(c).map(NodeStatus::getRole).orElse(""))) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  /** A coordinator's own report, or empty when it does not answer. */
  Optional<NodeStatus> nodeStatus(NodeProcess coordinator) {
    try {
      return Optional.of(
          CoordinatorAdminGrpc.newBlockingStub(channels.get(coordinator.address()))
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .getNodeStatus(NodeStatusRequest.getDefaultInstance()));
    } catch (RuntimeException unreachable) {
      return Optional.empty();
    }
  }

  long balance(NodeProcess service, String account) {
    return accounts(service)
        .read(ReadRequest.newBuilder().addAccounts(account).build())
        .getBalancesOrThrow(account);
  }

  AccountsGrpc.AccountsBlockingStub accounts(NodeProcess service) {
    return AccountsGrpc.newBlockingStub(channels.get(service.address()))
        .withInterceptors(DecreeContext.clientInterceptor())
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  Optional<BranchStatus> branch(NodeProcess service, String txId) {
    return ParticipantAdminGrpc.newBlockingStub(channels.get(service.address()))
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .listBranches(ListBranchesRequest.getDefaultInstance())
        .getBranchesList()
        .stream()
        .filter(br -> br.getTxId().equals(txId))
        .findFirst();
  }

  String state(NodeProcess service, String txId) {
    try {
      return branch(service, txId).map(BranchStatus::getState).orElse("NONE");
    } catch (RuntimeException unreachable) {
      return "UNREACHABLE";
    }
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
    }
    channels.close();
    all.forEach(NodeProcess::kill);
  }
}
