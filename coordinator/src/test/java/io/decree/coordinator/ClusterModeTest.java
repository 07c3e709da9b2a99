package io.decree.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.core.Decision;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.node.grpc.Channels;
import io.decree.proto.v1.BeginRequest;
import io.decree.proto.v1.CommitRequest;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.CoordinatorGrpc;
import io.decree.proto.v1.EnlistRequest;
import io.decree.proto.v1.InquiryRequest;
import io.decree.proto.v1.NodeStatusRequest;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TxOutcome;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator driver as a cluster member, over a fake replicated log whose leadership the test
 * moves: a core only while leading, a fresh one per term, term-bound appends, redirects.
 */
class ClusterModeTest {
  @TempDir Path dataDir;
  private final Channels channels = new Channels();
  private final FakeReplicatedLog log = new FakeReplicatedLog();
  private FakeParticipant a;
  private FakeParticipant b;
  private CoordinatorNode node;
  private CoordinatorGrpc.CoordinatorBlockingStub coordinator;

  @BeforeEach
  void start() {
    a = new FakeParticipant("a");
    b = new FakeParticipant("b");
    CoordinatorOptions options =
        CoordinatorOptions.defaults(dataDir, 0)
            .withCluster(Map.of("n1", "127.0.0.1:1", "n2", "127.0.0.1:9002"), "", 2_000);
    node = CoordinatorNode.start(options, log);
    coordinator =
        CoordinatorGrpc.newBlockingStub(channels.get(node.address()))
            .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    node.close();
    a.close();
    b.close();
    channels.close();
  }

  private String begin() {
    String tx =
        coordinator.begin(BeginRequest.newBuilder().setTimeoutMillis(30_000).build()).getTxId();
    for (FakeParticipant p : List.of(a, b)) {
      coordinator.enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant(p.ref()).build());
    }
    return tx;
  }

  private static void eventually(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void aFollowerRefusesProtocolCallsAndNamesTheLeader() {
    log.follow("n2");

    assertThatThrownBy(() -> coordinator.begin(BeginRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(e.getStatus().getDescription())
                  .contains("not the leader", "leader is n2 at 127.0.0.1:9002");
            });
    assertThat(
            CoordinatorAdminGrpc.newBlockingStub(channels.get(node.address()))
                .getNodeStatus(NodeStatusRequest.getDefaultInstance())
                .getRole())
        .isEqualTo("FOLLOWER");
  }

  @Test
  void withoutALeaderTheRefusalSaysNoQuorumAndTheLastLeaderSeen() throws Exception {
    log.lead();
    eventually(this::leads);
    Thread.sleep(50); // a tick records the leader seen
    log.follow(null);
    eventually(() -> !leads());

    assertThatThrownBy(() -> coordinator.begin(BeginRequest.getDefaultInstance()))
        .hasMessageContaining("no coordinator quorum")
        .hasMessageContaining("last leader seen: n1");
  }

  @Test
  void aLeaderIssuesIdsFromItsTermAndAppendsUnderIt() throws Exception {
    log.lead();
    log.follow("n2");
    log.lead(); // term 3
    eventually(this::leads);

    String tx = begin();
    assertThat(TxId.parse(tx).issuer()).isEqualTo(3);
    assertThat(coordinator.commit(CommitRequest.newBuilder().setTxId(tx).build()).getOutcome())
        .isEqualTo(Outcome.COMMITTED);
    assertThat(log.appendTerms).isNotEmpty().allMatch(t -> t == 3);
  }

  @Test
  void aNewLeaderFinishesWhatTheLogHoldsAndAnswersStatusFromIt() throws Exception {
    TxId earlier = new TxId(System.currentTimeMillis() - 1_000, 1, 1);
    log.putDecision(
        new DecisionRecord(
            earlier,
            Decision.COMMIT,
            List.of(
                io.decree.node.grpc.ProtoMapping.participant(a.ref()),
                io.decree.node.grpc.ProtoMapping.participant(b.ref())),
            1));
    log.lead();

    eventually(() -> a.received("commit " + earlier) && b.received("commit " + earlier));
    TxOutcome status =
        coordinator.getStatus(StatusRequest.newBuilder().setTxId(earlier.toString()).build());
    assertThat(status.getOutcome()).isEqualTo(Outcome.COMMITTED);
  }

  @Test
  void aDeposedCoresWaitersHearUnknownAndItsLateAppendIsIgnored() throws Exception {
    log.lead();
    eventually(this::leads);
    String tx = begin();
    log.holdAppends = true;
    CompletableFuture<TxOutcome> committing =
        CompletableFuture.supplyAsync(
            () -> coordinator.commit(CommitRequest.newBuilder().setTxId(tx).build()));
    eventually(() -> !log.held.isEmpty());

    log.follow("n2");
    TxOutcome answer = committing.get(10, TimeUnit.SECONDS);
    assertThat(answer.getOutcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(answer.getReason()).contains("lost leadership");

    log.holdAppends = false;
    log.lead();
    eventually(this::leads);
    log.held.forEach(Runnable::run); // the old term's append answers late
    // The new core never heard of tx: a participant's inquiry makes ABORT durable, and it stands.
    TxOutcome inquiry =
        coordinator.inquire(
            InquiryRequest.newBuilder().setTxId(tx).setParticipant(a.ref()).build());
    assertThat(inquiry.getOutcome()).isEqualTo(Outcome.ABORTED);
    assertThat(b.received("commit " + tx)).isFalse();
  }

  private boolean leads() {
    return CoordinatorAdminGrpc.newBlockingStub(channels.get(node.address()))
        .getNodeStatus(NodeStatusRequest.getDefaultInstance())
        .getRole()
        .equals("LEADER");
  }
}
