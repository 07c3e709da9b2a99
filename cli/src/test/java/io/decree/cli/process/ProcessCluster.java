package io.decree.cli.process;

import io.decree.node.grpc.Channels;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.AdjustRequest;
import io.decree.proto.examples.bank.v1.ReadRequest;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.ParticipantAdminGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A coordinator and two account services (accounts-a holds "alice", accounts-b holds "bob"), each
 * its own JVM on 127.0.0.1 with a fixed port, so a killed node restarts where the others expect it.
 * Test fault switches are passed per node as JVM options.
 */
final class ProcessCluster implements AutoCloseable {
  static final Duration START = Duration.ofSeconds(60);

  final NodeProcess coordinator;
  final NodeProcess a;
  final NodeProcess b;
  final String coordinatorAddress;
  final DecreeClient client;
  private final Channels channels = new Channels();
  private final List<NodeProcess> all = new ArrayList<>();

  ProcessCluster(
      Path dir, List<String> coordinatorFaults, List<String> aFaults, List<String> bFaults) {
    int coordinatorPort = freePort();
    coordinatorAddress = "127.0.0.1:" + coordinatorPort;
    coordinator =
        NodeProcess.of(
            "coordinator",
            dir.resolve("coordinator.log"),
            coordinatorFaults,
            List.of(
                "coordinator",
                "--data-dir",
                dir.resolve("coordinator").toString(),
                "--port",
                Integer.toString(coordinatorPort)));
    a = service(dir, "accounts-a", "alice", aFaults);
    b = service(dir, "accounts-b", "bob", bFaults);
    all.addAll(List.of(coordinator, a, b));
    try {
      coordinator.start(START);
      a.start(START);
      b.start(START);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    client = DecreeClient.create(List.of(coordinatorAddress), Duration.ofSeconds(30), "test");
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
            coordinatorAddress,
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
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Begins a transfer of {@code amount} from alice (at a) to bob (at b); returns the tx id. */
  String beginTransfer(long amount) {
    String tx = client.begin(Duration.ofSeconds(60)).txId();
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
