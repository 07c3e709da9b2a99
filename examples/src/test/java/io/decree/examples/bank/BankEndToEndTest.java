package io.decree.examples.bank;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.coordinator.CoordinatorNode;
import io.decree.coordinator.CoordinatorOptions;
import io.decree.core.Outcome;
import io.decree.node.grpc.Channels;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.AdjustRequest;
import io.decree.proto.examples.bank.v1.ReadRequest;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole stack in one JVM over real gRPC on 127.0.0.1: coordinator, two account services. */
class BankEndToEndTest {
  @TempDir Path dir;
  private CoordinatorNode coordinator;
  private AccountServer a;
  private AccountServer b;
  private DecreeClient decree;
  private final Channels channels = new Channels();

  @BeforeEach
  void start() {
    coordinator = CoordinatorNode.start(CoordinatorOptions.defaults(dir.resolve("coordinator"), 0));
    List<String> coordinators = List.of(coordinator.address());
    a =
        AccountServer.start(
            "accounts-a", "127.0.0.1", 0, dir.resolve("a"), coordinators, Map.of("alice", 100L));
    b =
        AccountServer.start(
            "accounts-b", "127.0.0.1", 0, dir.resolve("b"), coordinators, Map.of("bob", 100L));
    decree = DecreeClient.create(coordinators);
  }

  @AfterEach
  void stop() {
    decree.close();
    channels.close();
    b.close();
    a.close();
    coordinator.close();
  }

  private AccountsGrpc.AccountsBlockingStub accounts(AccountServer server) {
    return AccountsGrpc.newBlockingStub(channels.get(server.address()))
        .withInterceptors(DecreeContext.clientInterceptor())
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private DecreeClient.Result transfer(long amount) {
    String tx = decree.begin(Duration.ofSeconds(10)).txId();
    try {
      decree.inTransaction(
          tx,
          () -> {
            accounts(a)
                .adjust(AdjustRequest.newBuilder().setAccount("alice").setAmount(-amount).build());
            accounts(b)
                .adjust(AdjustRequest.newBuilder().setAccount("bob").setAmount(amount).build());
          });
    } catch (StatusRuntimeException e) {
      return decree.rollback(tx);
    }
    // Wait for phase 2 too: the balances are read outside any transaction right after.
    return decree.commit(tx, true);
  }

  private long balance(AccountServer server, String account) {
    return accounts(server)
        .read(ReadRequest.newBuilder().addAccounts(account).build())
        .getBalancesOrThrow(account);
  }

  @Test
  void aTransferCommitsAtBothServices() {
    assertThat(transfer(30).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(balance(a, "alice")).isEqualTo(70);
    assertThat(balance(b, "bob")).isEqualTo(130);
  }

  @Test
  void aFailedDebitRollsBackTheCredit() {
    DecreeClient.Result result = transfer(1_000);
    assertThat(result.outcome()).isEqualTo(Outcome.ABORTED);
    assertThat(balance(a, "alice")).isEqualTo(100);
    assertThat(balance(b, "bob")).isEqualTo(100);
  }

  @Test
  void concurrentTransfersConserveTheTotal() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<DecreeClient.Result>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        long amount = ThreadLocalRandom.current().nextLong(-5, 6);
        results.add(pool.submit(() -> transfer(amount)));
      }
      long committed = 0;
      for (Future<DecreeClient.Result> r : results) {
        if (r.get(30, TimeUnit.SECONDS).outcome() == Outcome.COMMITTED) {
          committed++;
        }
      }
      assertThat(committed).isPositive();
    } finally {
      pool.shutdownNow();
    }
    assertThat(balance(a, "alice") + balance(b, "bob")).isEqualTo(200);
  }
}
