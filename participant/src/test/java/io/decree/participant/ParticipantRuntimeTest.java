package io.decree.participant;

import static io.decree.participant.Fixtures.await;
import static io.decree.participant.Fixtures.newTxId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import io.decree.core.Outcome;
import io.decree.core.participant.BranchState;
import io.decree.core.participant.BranchView;
import io.decree.node.grpc.TxIdHeader;
import io.decree.participant.Fixtures.BusinessService;
import io.decree.participant.Fixtures.FakeCoordinator;
import io.decree.participant.Fixtures.FakePeer;
import io.decree.participant.Fixtures.Network;
import io.decree.participant.Fixtures.TestResource;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.ListBranchesResponse;
import io.decree.proto.v1.OutcomeQuery;
import io.decree.proto.v1.ParticipantAdminGrpc;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.ParticipantRef;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PhaseTwoResponse;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.PrepareResponse;
import io.decree.proto.v1.ProtocolReply;
import io.decree.proto.v1.ProtocolRequest;
import io.decree.proto.v1.TxOutcome;
import io.decree.proto.v1.Vote;
import io.decree.wal.InMemoryWal;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The runtime end to end over real gRPC on 127.0.0.1 (its own server is Netty), with a fake
 * coordinator and fake peers in-process and a test resource.
 */
class ParticipantRuntimeTest {
  private static final String COORDINATOR = "fake-coordinator:1";
  private static final String PEER = "fake-peer:1";

  private Network network;
  private FakeCoordinator coordinator;
  private FakePeer peer;
  private TestResource resource;
  private BusinessService business;
  private InMemoryWal wal;
  private ParticipantRuntime runtime;
  private ManagedChannel channel;
  private int checkpointEveryRecords = ParticipantOptions.CHECKPOINT_EVERY_RECORDS_DEFAULT;

  @BeforeEach
  void setUp() {
    network = new Network();
    coordinator = new FakeCoordinator();
    peer = new FakePeer();
    network.serve(COORDINATOR, coordinator);
    network.serve(PEER, peer);
    resource = new TestResource();
    business = new BusinessService(resource, coordinator);
    wal = new InMemoryWal();
    start();
  }

  private void start() {
    runtime =
        new ParticipantRuntime(
                ParticipantOptions.builder()
                    .name("accounts-a")
                    .wal(wal)
                    .coordinatorAddresses(List.of(COORDINATOR))
                    .resourceManager(resource)
                    .participantConfig(Fixtures.fastConfig())
                    .tickPeriodMillis(10)
                    .rpcDeadlineMillis(2_000)
                    .addBusinessService(business)
                    .dialer(network::dial)
                    .checkpointEveryRecords(checkpointEveryRecords)
                    .build())
            .start();
    channel = NettyChannelBuilder.forTarget(runtime.address()).usePlaintext().build();
  }

  private void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(2, TimeUnit.SECONDS);
    }
    if (runtime != null) {
      runtime.close();
    }
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    stop();
    wal.close();
    network.close();
  }

  private ParticipantGrpc.ParticipantBlockingStub participant() {
    return ParticipantGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  private String work(String txId) {
    Metadata headers = new Metadata();
    headers.put(TxIdHeader.KEY, txId);
    Channel withTx =
        ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    return ClientCalls.blockingUnaryCall(
        withTx, Fixtures.WORK, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "w");
  }

  private PrepareRequest prepareRequest(String txId, String... peerAddresses) {
    PrepareRequest.Builder b =
        PrepareRequest.newBuilder()
            .setTxId(txId)
            .addParticipants(ParticipantRef.newBuilder().setName("accounts-a").setAddress("x:1"));
    for (int i = 0; i < peerAddresses.length; i++) {
      b.addParticipants(
          ParticipantRef.newBuilder().setName("peer-" + i).setAddress(peerAddresses[i]));
    }
    return b.build();
  }

  private PhaseTwoRequest phaseTwo(String txId) {
    return PhaseTwoRequest.newBuilder().setTxId(txId).build();
  }

  private BranchState state(String txId) {
    return runtime.branches().stream()
        .filter(b -> b.txId().toString().equals(txId))
        .map(BranchView::state)
        .findFirst()
        .orElse(null);
  }

  @Test
  void prepareVotesYesOnlyAfterTheVoteIsSynced_thenCommits() throws Exception {
    wal.syncMode(InMemoryWal.SyncMode.MANUAL);
    String tx = newTxId();
    work(tx);

    ListenableFuture<PrepareResponse> vote =
        ParticipantGrpc.newFutureStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .prepare(prepareRequest(tx));
    await("the prepared record reaches the WAL", () -> wal.unsyncedCount() == 1);
    Thread.sleep(50); // give a wrong implementation the chance to answer early
    assertThat(vote.isDone()).as("YES must wait for the sync").isFalse();

    wal.sync();
    assertThat(vote.get(5, TimeUnit.SECONDS).getVote()).isEqualTo(Vote.YES);
    assertThat(state(tx)).isEqualTo(BranchState.PREPARED);

    wal.syncMode(InMemoryWal.SyncMode.AUTO);
    PhaseTwoResponse ack = participant().commit(phaseTwo(tx));
    assertThat(ack.getOutcome()).isEqualTo(io.decree.proto.v1.Outcome.COMMITTED);
    assertThat(resource.applied).containsEntry(tx, "COMMIT:data-" + tx);
    assertThat(state(tx)).isEqualTo(BranchState.COMMITTED);
  }

  /** Collects the replies of one Exchange stream. */
  private static final class StreamReplies implements StreamObserver<ProtocolReply> {
    final BlockingQueue<ProtocolReply> replies = new LinkedBlockingQueue<>();
    volatile Throwable error;

    @Override
    public void onNext(ProtocolReply reply) {
      replies.add(reply);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {}

    ProtocolReply next() throws InterruptedException {
      ProtocolReply r = replies.poll(5, TimeUnit.SECONDS);
      assertThat(r).as("a reply within 5 s (stream error: %s)", error).isNotNull();
      return r;
    }
  }

  @Test
  void theExchangeStreamCarriesManyTransactionsAndRefusesBadRequestsOneByOne() throws Exception {
    String tx1 = newTxId();
    String tx2 = newTxId();
    work(tx1);
    work(tx2);
    StreamReplies replies = new StreamReplies();
    StreamObserver<ProtocolRequest> requests = ParticipantGrpc.newStub(channel).exchange(replies);

    requests.onNext(ProtocolRequest.newBuilder().setPrepare(prepareRequest(tx1)).build());
    requests.onNext(ProtocolRequest.newBuilder().setPrepare(prepareRequest(tx2)).build());
    Map<String, ProtocolReply> votes = new HashMap<>();
    for (int i = 0; i < 2; i++) {
      ProtocolReply r = replies.next();
      votes.put(r.getTxId(), r);
    }
    assertThat(votes.get(tx1).getVote().getVote()).isEqualTo(Vote.YES);
    assertThat(votes.get(tx2).getVote().getVote()).isEqualTo(Vote.YES);

    // A bad request gets its own error reply; the stream goes on.
    requests.onNext(
        ProtocolRequest.newBuilder().setCommit(PhaseTwoRequest.newBuilder().setTxId("x")).build());
    ProtocolReply refused = replies.next();
    assertThat(refused.getTxId()).isEqualTo("x");
    assertThat(refused.getError().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    requests.onNext(ProtocolRequest.getDefaultInstance());
    assertThat(replies.next().getError().getDescription()).contains("empty protocol request");

    requests.onNext(ProtocolRequest.newBuilder().setCommit(phaseTwo(tx1)).build());
    requests.onNext(ProtocolRequest.newBuilder().setAbort(phaseTwo(tx2)).build());
    Map<String, ProtocolReply> acks = new HashMap<>();
    for (int i = 0; i < 2; i++) {
      ProtocolReply r = replies.next();
      acks.put(r.getTxId(), r);
    }
    assertThat(acks.get(tx1).getPhaseTwo().getOutcome())
        .isEqualTo(io.decree.proto.v1.Outcome.COMMITTED);
    assertThat(acks.get(tx2).getPhaseTwo().getOutcome())
        .isEqualTo(io.decree.proto.v1.Outcome.ABORTED);
    assertThat(resource.applied)
        .containsEntry(tx1, "COMMIT:data-" + tx1)
        .containsEntry(tx2, "ROLLBACK");
    requests.onCompleted();
    assertThat(replies.error).isNull();
  }

  @Test
  void abortAfterPrepareRollsBack() {
    String tx = newTxId();
    work(tx);
    assertThat(participant().prepare(prepareRequest(tx)).getVote()).isEqualTo(Vote.YES);
    PhaseTwoResponse ack = participant().abort(phaseTwo(tx));
    assertThat(ack.getOutcome()).isEqualTo(io.decree.proto.v1.Outcome.ABORTED);
    assertThat(resource.applied).containsEntry(tx, "ROLLBACK");
  }

  @Test
  void abortOfActiveBranchRollsBack() {
    String tx = newTxId();
    work(tx);
    assertThat(participant().abort(phaseTwo(tx)).getOutcome())
        .isEqualTo(io.decree.proto.v1.Outcome.ABORTED);
    await("rollback reaches the resource", () -> "ROLLBACK".equals(resource.applied.get(tx)));
  }

  @Test
  void onePhaseCommitCommits() {
    String tx = newTxId();
    work(tx);
    TxOutcome outcome = participant().commitOnePhase(phaseTwo(tx));
    assertThat(outcome.getOutcome()).isEqualTo(io.decree.proto.v1.Outcome.COMMITTED);
    assertThat(outcome.getTxId()).isEqualTo(tx);
    assertThat(resource.applied).containsEntry(tx, "COMMIT:data-" + tx);
  }

  @Test
  void duplicatePrepareGivesTheSameVoteWithoutPreparingTwice() {
    String tx = newTxId();
    work(tx);
    assertThat(participant().prepare(prepareRequest(tx)).getVote()).isEqualTo(Vote.YES);
    assertThat(participant().prepare(prepareRequest(tx)).getVote()).isEqualTo(Vote.YES);
    assertThat(resource.prepares.get()).isEqualTo(1);
    // And a repeated commit is acknowledged again.
    participant().commit(phaseTwo(tx));
    assertThat(participant().commit(phaseTwo(tx)).getOutcome())
        .isEqualTo(io.decree.proto.v1.Outcome.COMMITTED);
  }

  @Test
  void prepareOfUnknownBranchVotesNo() {
    PrepareResponse vote = participant().prepare(prepareRequest(newTxId()));
    assertThat(vote.getVote()).isEqualTo(Vote.NO);
    assertThat(vote.getReason()).contains("no work");
  }

  @Test
  void resourceNoVoteIsPassedOn() {
    resource.vote = io.decree.participant.spi.ResourceManager.Vote.NO;
    String tx = newTxId();
    work(tx);
    PrepareResponse vote = participant().prepare(prepareRequest(tx));
    assertThat(vote.getVote()).isEqualTo(Vote.NO);
    assertThat(vote.getReason()).isEqualTo("test says no");
  }

  @Test
  void queryOutcomeOnActiveBranchAbortsIt() {
    String tx = newTxId();
    work(tx);
    TxOutcome answer =
        participant().queryOutcome(OutcomeQuery.newBuilder().setTxId(tx).setAskedBy("b").build());
    assertThat(answer.getOutcome()).isEqualTo(io.decree.proto.v1.Outcome.ABORTED);
    assertThat(state(tx)).isEqualTo(BranchState.ABORTED);
    await("rollback reaches the resource", () -> "ROLLBACK".equals(resource.applied.get(tx)));
    // Work can no longer start under it, and a late prepare gets NO.
    assertThatThrownBy(() -> work(tx))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("no longer active");
            });
    assertThat(participant().prepare(prepareRequest(tx)).getVote()).isEqualTo(Vote.NO);
  }

  @Test
  void restartedPreparedBranchIsInDoubtAndBlockedUntilTheCoordinatorAnswers() throws Exception {
    String tx = newTxId();
    work(tx);
    assertThat(participant().prepare(prepareRequest(tx, PEER)).getVote()).isEqualTo(Vote.YES);

    stop();
    wal.close();
    wal = wal.reopen();
    resource = new TestResource();
    start();

    assertThat(resource.recovered).extracting(p -> p.txId()).containsExactly(tx);
    await("an inquiry reaches the coordinator", () -> coordinator.inquiries.get() >= 2);
    ListBranchesResponse listed =
        ParticipantAdminGrpc.newBlockingStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .listBranches(ListBranchesRequest.newBuilder().setInDoubtOnly(true).build());
    assertThat(listed.getParticipant()).isEqualTo("accounts-a");
    assertThat(listed.getBranchesList()).hasSize(1);
    BranchStatus branch = listed.getBranches(0);
    assertThat(branch.getTxId()).isEqualTo(tx);
    assertThat(branch.getState()).isEqualTo("PREPARED");
    assertThat(branch.getVote()).isEqualTo(Vote.YES);
    assertThat(branch.hasBlocking()).isTrue();
    assertThat(branch.getBlocking().getWaitingFor()).contains("decision from the coordinator");
    assertThat(branch.getBlocking().getSinceUnixMillis()).isPositive();
    assertThat(branch.getBlocking().getRetries()).isPositive();
    assertThat(branch.getBlocking().getNextRetryUnixMillis()).isPositive();
    assertThat(branch.getBlocking().getContactsList())
        .anySatisfy(
            c -> {
              assertThat(c.getParty()).isEqualTo("coordinator");
              assertThat(c.getLastSuccessUnixMillis()).isPositive();
            });
    assertThat(resource.applied).doesNotContainKey(tx);

    coordinator.inquiryAnswer.set(Outcome.COMMITTED);
    await("the in-doubt branch commits", () -> resource.applied.containsKey(tx));
    assertThat(resource.applied.get(tx)).isEqualTo("COMMIT:data-" + tx);
    await("the branch is COMMITTED", () -> state(tx) == BranchState.COMMITTED);
  }

  @Test
  void aRestartFromACheckpointKeepsTheInDoubtAndTheFinishedBranchesAfterOlderRecordsAreGone()
      throws Exception {
    stop();
    checkpointEveryRecords = 4;
    start();
    // Three records (vote, decision, completion) for the committed one, a vote for the other:
    // the fourth record triggers a checkpoint, and once it is durable the WAL drops what precedes.
    String committed = newTxId();
    work(committed);
    assertThat(participant().prepare(prepareRequest(committed)).getVote()).isEqualTo(Vote.YES);
    participant().commit(phaseTwo(committed));
    String inDoubt = newTxId();
    work(inDoubt);
    assertThat(participant().prepare(prepareRequest(inDoubt, PEER)).getVote()).isEqualTo(Vote.YES);
    await(
        "the log starts with the checkpoint",
        () -> {
          List<Integer> types = new java.util.ArrayList<>();
          wal.replay(r -> types.add(r.type()));
          return !types.isEmpty() && types.get(0) == io.decree.wal.WalCheckpoints.BEGIN;
        });

    stop();
    wal.close();
    wal = wal.reopen();
    resource = new TestResource();
    start();

    assertThat(resource.recovered).extracting(p -> p.txId()).containsExactly(inDoubt);
    assertThat(state(committed)).isEqualTo(BranchState.COMMITTED);
    assertThat(state(inDoubt)).isEqualTo(BranchState.PREPARED);
    coordinator.inquiryAnswer.set(Outcome.COMMITTED);
    await("the in-doubt branch commits", () -> resource.applied.containsKey(inDoubt));
    assertThat(resource.applied).doesNotContainKey(committed); // applied before the restart
  }

  @Test
  void blockedBranchLearnsTheDecisionFromAPeerWhenTheCoordinatorIsDown() {
    coordinator.unreachable = true;
    String tx = newTxId();
    work(tx);
    assertThat(participant().prepare(prepareRequest(tx, PEER)).getVote()).isEqualTo(Vote.YES);

    await("the peer is asked", () -> peer.queries.get() >= 1);
    BranchView view = runtime.branches().get(0);
    assertThat(view.blocking()).isNotNull();
    assertThat(view.blocking().contacts())
        .anySatisfy(
            c -> {
              assertThat(c.party()).isEqualTo("coordinator");
              assertThat(c.lastError()).contains("UNAVAILABLE");
            });
    assertThat(resource.applied).doesNotContainKey(tx);

    peer.answer.set(Outcome.COMMITTED);
    await("the branch commits on the peer's word", () -> resource.applied.containsKey(tx));
    assertThat(resource.applied.get(tx)).isEqualTo("COMMIT:data-" + tx);
  }

  @Test
  void restartRollsBackWhatTheResourceHoldsPreparedButTheLogNeverVotedFor() throws Exception {
    stop();
    String stray = newTxId();
    resource.heldPrepared.add(stray);
    start();
    await("the stray branch is rolled back", () -> "ROLLBACK".equals(resource.applied.get(stray)));
  }

  @Test
  void malformedTxIdIsInvalidArgument() {
    assertThatThrownBy(() -> participant().prepare(prepareRequest("not-a-tx-id")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("tx_id").contains("malformed");
            });
    assertThatThrownBy(() -> participant().commit(phaseTwo("")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThatThrownBy(
            () -> participant().queryOutcome(OutcomeQuery.newBuilder().setTxId(newTxId()).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("asked_by");
            });
  }

  @Test
  void oversizeRequestIsResourceExhausted() {
    String huge = "x".repeat(5 * 1024 * 1024);
    assertThatThrownBy(
            () ->
                participant()
                    .queryOutcome(
                        OutcomeQuery.newBuilder().setTxId(newTxId()).setAskedBy(huge).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
  }
}
