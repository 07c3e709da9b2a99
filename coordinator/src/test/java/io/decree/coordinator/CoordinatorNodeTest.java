package io.decree.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.coordinator.log.DecisionLog;
import io.decree.core.coordinator.CoordinatorConfig;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.node.grpc.Channels;
import io.decree.proto.v1.BeginRequest;
import io.decree.proto.v1.CommitRequest;
import io.decree.proto.v1.CoordinatorGrpc;
import io.decree.proto.v1.EnlistRequest;
import io.decree.proto.v1.InquiryRequest;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.RollbackRequest;
import io.decree.proto.v1.SessionReply;
import io.decree.proto.v1.SessionRequest;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TxOutcome;
import io.decree.proto.v1.Vote;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The single-node coordinator over real gRPC on 127.0.0.1, with fake participants. */
class CoordinatorNodeTest {
  @TempDir Path dataDir;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Channels channels = new Channels();
  private CoordinatorNode node;

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) {
      node.close();
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
    channels.close();
  }

  private CoordinatorGrpc.CoordinatorBlockingStub start(CoordinatorOptions options) {
    node = CoordinatorNode.start(options);
    return client();
  }

  private CoordinatorGrpc.CoordinatorBlockingStub start() {
    return start(fastOptions());
  }

  private CoordinatorOptions fastOptions() {
    CoordinatorConfig protocol =
        CoordinatorConfig.defaults()
            .withTimings(2_000, new io.decree.core.Backoff(20, 200), 600_000)
            .withLimits(100, 3);
    return CoordinatorOptions.defaults(dataDir, 0).withProtocol(protocol);
  }

  private CoordinatorGrpc.CoordinatorBlockingStub client() {
    return CoordinatorGrpc.newBlockingStub(channels.get("127.0.0.1:" + node.port()))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private FakeParticipant participant(String name) {
    FakeParticipant p = new FakeParticipant(name);
    closeables.add(p);
    return p;
  }

  private String begin(CoordinatorGrpc.CoordinatorBlockingStub coordinator, FakeParticipant... ps) {
    String tx =
        coordinator.begin(BeginRequest.newBuilder().setTimeoutMillis(30_000).build()).getTxId();
    for (FakeParticipant p : ps) {
      coordinator.enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant(p.ref()).build());
    }
    return tx;
  }

  private static TxOutcome commit(CoordinatorGrpc.CoordinatorBlockingStub c, String tx) {
    return c.commit(CommitRequest.newBuilder().setTxId(tx).build());
  }

  /** A raw Session stream to the node: its requests side, the replies, and how it ended. */
  private record Session(
      StreamObserver<SessionRequest> requests,
      BlockingQueue<SessionReply> replies,
      CompletableFuture<Status> ended) {}

  private Session openSession() {
    BlockingQueue<SessionReply> replies = new LinkedBlockingQueue<>();
    CompletableFuture<Status> ended = new CompletableFuture<>();
    StreamObserver<SessionRequest> requests =
        CoordinatorGrpc.newStub(channels.get("127.0.0.1:" + node.port()))
            .session(
                new StreamObserver<>() {
                  @Override
                  public void onNext(SessionReply reply) {
                    replies.add(reply);
                  }

                  @Override
                  public void onError(Throwable t) {
                    ended.complete(Status.fromThrowable(t));
                  }

                  @Override
                  public void onCompleted() {
                    ended.complete(Status.OK);
                  }
                });
    return new Session(requests, replies, ended);
  }

  /** Polls a condition of a real server's side effects; bounded. */
  private static void eventually(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void commitsATwoParticipantTransactionAndDrivesPhaseTwo() throws Exception {
    var coordinator = start();
    FakeParticipant a = participant("a");
    FakeParticipant b = participant("b");
    String tx = begin(coordinator, a, b);

    TxOutcome outcome = commit(coordinator, tx);

    assertThat(outcome.getOutcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(a.received("prepare " + tx)).isTrue();
    assertThat(b.received("prepare " + tx)).isTrue();
    eventually(() -> a.received("commit " + tx) && b.received("commit " + tx));
    assertThat(coordinator.getStatus(StatusRequest.newBuilder().setTxId(tx).build()).getOutcome())
        .isEqualTo(Outcome.COMMITTED);
  }

  /**
   * Over the Exchange stream, a participant that is down (connection refused) while the coordinator
   * keeps retrying, then comes back, gets its prepare and phase 2. A stream call that failed at
   * once, on the sending thread, must not be kept: every later request would go into a closed call
   * and the transaction would never finish (found by the Jepsen-style final read).
   */
  @Test
  void aStreamParticipantThatWasDownGetsItsMessagesOnceBack() throws Exception {
    // Prepares may wait 20 s: gRPC's reconnect backoff after a refused connection is about 1-3 s.
    var coordinator =
        start(
            fastOptions()
                .withProtocol(
                    CoordinatorConfig.defaults()
                        .withTimings(20_000, new io.decree.core.Backoff(20, 200), 600_000)));
    FakeParticipant a = FakeParticipant.withExchange("a");
    FakeParticipant b = FakeParticipant.withExchange("b");
    closeables.add(a);
    closeables.add(b);
    String tx = begin(coordinator, a, b);
    b.stop();

    var answer = java.util.concurrent.CompletableFuture.supplyAsync(() -> commit(client(), tx));
    Thread.sleep(1_500); // prepares to b fail, and are retried, while it is down
    assertThat(answer).isNotDone();
    b.restart();

    assertThat(answer.get(15, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.COMMITTED);
    eventually(() -> a.received("commit " + tx) && b.received("commit " + tx));
  }

  @Test
  void aPrepareNobodyAnswersTimesOutIntoAbortWithoutAnyOtherTraffic() throws Exception {
    // Only the timers can end this transaction: b's address refuses connections, a answered long
    // ago, and nothing else reaches the node. What a timer decides must be carried out then, not
    // when some unrelated message next wakes the node (it once waited for that: the client's
    // commit stayed unanswered past its deadline).
    var coordinator = start();
    FakeParticipant a = participant("a");
    String tx = begin(coordinator, a);
    coordinator.enlist(
        EnlistRequest.newBuilder()
            .setTxId(tx)
            .setParticipant(
                io.decree.proto.v1.ParticipantRef.newBuilder()
                    .setName("b")
                    .setAddress("127.0.0.1:" + closedPort()))
            .build());

    TxOutcome outcome = commit(coordinator, tx); // prepare timeout 2 s, client deadline 10 s

    assertThat(outcome.getOutcome()).isEqualTo(Outcome.ABORTED);
    assertThat(outcome.getReason()).contains("prepare timed out");
    eventually(() -> a.received("abort " + tx));
  }

  private static int closedPort() throws java.io.IOException {
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Test
  void aCommitThatNamesItsParticipantsEnlistsThemAllOrNone() throws Exception {
    var coordinator = start();
    FakeParticipant a = participant("a");
    FakeParticipant b = participant("b");
    String tx =
        coordinator.begin(BeginRequest.newBuilder().setTimeoutMillis(30_000).build()).getTxId();
    var elsewhere =
        io.decree.proto.v1.ParticipantRef.newBuilder()
            .setName("a")
            .setAddress("127.0.0.1:" + closedPort())
            .build();

    assertStatus(
        () -> coordinator.commit(namingCommit(tx, a.ref(), elsewhere)),
        Status.Code.INVALID_ARGUMENT,
        "named twice");
    assertStatus(
        () ->
            coordinator.commit(
                namingCommit(
                    tx, io.decree.proto.v1.ParticipantRef.newBuilder().setName("x").build())),
        Status.Code.INVALID_ARGUMENT,
        "needs a name and an address");
    assertThat(a.calls).as("a refused commit changed nothing").isEmpty();

    assertThat(coordinator.commit(namingCommit(tx, a.ref(), b.ref())).getOutcome())
        .isEqualTo(Outcome.COMMITTED);
    assertThat(a.received("prepare " + tx) && b.received("prepare " + tx)).isTrue();
    // The same commit again (its answer was lost, say) is no change; a newcomer now is refused.
    assertThat(coordinator.commit(namingCommit(tx, a.ref(), b.ref())).getOutcome())
        .isEqualTo(Outcome.COMMITTED);
    FakeParticipant late = participant("late");
    assertStatus(
        () -> coordinator.commit(namingCommit(tx, a.ref(), late.ref())),
        Status.Code.FAILED_PRECONDITION,
        "cannot enlist late");
  }

  @Test
  void aTransactionWhoseClientNamesItsParticipantsAbortsOnACommitThatNamesNone() throws Exception {
    var coordinator = start();
    FakeParticipant a = participant("a");
    String tx =
        coordinator
            .begin(
                BeginRequest.newBuilder()
                    .setTimeoutMillis(30_000)
                    .setParticipantsNamedAtCommit(true)
                    .build())
            .getTxId();

    // Another process commits it by id: it cannot know who did work, so it must not commit.
    TxOutcome outcome = commit(coordinator, tx);

    assertThat(outcome.getOutcome()).isEqualTo(Outcome.ABORTED);
    assertThat(outcome.getReason()).contains("named by the client that began it");
    // The client that began it comes too late with its names: the answer stays ABORTED.
    assertThat(
            coordinator
                .commit(namingCommit(tx, a.ref()).toBuilder().setNamesParticipants(true).build())
                .getOutcome())
        .isEqualTo(Outcome.ABORTED);
    assertThat(a.calls).as("nobody was prepared").isEmpty();
  }

  @Test
  void aCommitNamingMoreParticipantsThanTheLimitAborts() {
    var coordinator = start(); // limit: 3 participants per transaction
    String tx =
        coordinator.begin(BeginRequest.newBuilder().setTimeoutMillis(30_000).build()).getTxId();
    var named = new ArrayList<io.decree.proto.v1.ParticipantRef>();
    for (int i = 0; i < 4; i++) {
      named.add(
          io.decree.proto.v1.ParticipantRef.newBuilder()
              .setName("p" + i)
              .setAddress("127.0.0.1:" + (20_000 + i))
              .build());
    }

    TxOutcome outcome =
        coordinator.commit(
            CommitRequest.newBuilder()
                .setTxId(tx)
                .addAllParticipants(named)
                .setNamesParticipants(true)
                .build());

    assertThat(outcome.getOutcome()).isEqualTo(Outcome.ABORTED);
    assertThat(outcome.getReason()).contains("the limit is 3");
  }

  private static CommitRequest namingCommit(
      String tx, io.decree.proto.v1.ParticipantRef... participants) {
    return CommitRequest.newBuilder()
        .setTxId(tx)
        .addAllParticipants(java.util.Arrays.asList(participants))
        .build();
  }

  @Test
  void aStreamThatStopsAnsweringIsReplacedAfterTheRpcDeadline() throws Exception {
    var coordinator = start(fastOptions().withRpcDeadlineMillis(300));
    FakeParticipant a = FakeParticipant.withExchange("a");
    FakeParticipant b = FakeParticipant.withExchange("b");
    closeables.add(a);
    closeables.add(b);
    b.exchangeSilent = true;
    String tx = begin(coordinator, a, b);

    var answer = java.util.concurrent.CompletableFuture.supplyAsync(() -> commit(client(), tx));
    // Prepares are resent every 20-200 ms into b's silent stream; after 300 ms without a reply
    // the coordinator gives up on that stream and opens another.
    eventually(() -> b.exchanges.get() >= 2);
    b.exchangeSilent = false;

    assertThat(answer.get(10, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.COMMITTED);
  }

  @Test
  void aNoVoteAbortsAndTheOthersHearAbort() throws Exception {
    var coordinator = start();
    FakeParticipant a = participant("a");
    FakeParticipant b = participant("b");
    b.vote = Vote.NO;
    String tx = begin(coordinator, a, b);

    assertThat(commit(coordinator, tx).getOutcome()).isEqualTo(Outcome.ABORTED);
    eventually(() -> a.received("abort " + tx));
    assertThat(b.received("abort " + tx)).as("a NO voter is out of phase 2").isFalse();
  }

  @Test
  void aSingleParticipantGetsOnePhaseCommit() {
    var coordinator = start();
    FakeParticipant a = participant("a");
    String tx = begin(coordinator, a);

    assertThat(commit(coordinator, tx).getOutcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(a.calls).containsExactly("one-phase " + tx);
  }

  @Test
  void rollbackBeforeCommitAbortsWithoutPrepare() throws Exception {
    var coordinator = start();
    FakeParticipant a = participant("a");
    FakeParticipant b = participant("b");
    String tx = begin(coordinator, a, b);

    TxOutcome outcome = coordinator.rollback(RollbackRequest.newBuilder().setTxId(tx).build());

    assertThat(outcome.getOutcome()).isEqualTo(Outcome.ABORTED);
    eventually(() -> a.received("abort " + tx) && b.received("abort " + tx));
    assertThat(a.calls).noneMatch(c -> c.startsWith("prepare"));
  }

  @Test
  void restartRedrivesPhaseTwoForDecidedTransactions() throws Exception {
    var coordinator = start();
    FakeParticipant a = participant("a");
    FakeParticipant b = participant("b");
    String tx = begin(coordinator, a, b);
    // b answers prepare, then becomes unreachable for phase 2.
    b.vote = Vote.YES;
    b.downAfterPrepare = true;
    CompletableFuture<TxOutcome> committing =
        CompletableFuture.supplyAsync(() -> commit(client(), tx));
    eventually(() -> b.received("prepare " + tx));
    assertThat(committing.get(10, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(b.received("commit " + tx)).isFalse();

    node.close();
    node = null;
    b.downAfterPrepare = false;
    b.unavailable = false;
    coordinator = start();

    eventually(() -> b.received("commit " + tx));
    assertThat(coordinator.getStatus(StatusRequest.newBuilder().setTxId(tx).build()).getOutcome())
        .isEqualTo(Outcome.COMMITTED);
  }

  /**
   * With a checkpoint every 2 records, a restart recovers from checkpoints written through the real
   * WAL: earlier outcomes are still known, and a decided transaction without END gets its phase 2.
   */
  @Test
  void aRestartFromCheckpointsKnowsEveryOutcomeAndRedrivesPhaseTwo() throws Exception {
    var coordinator = start(fastOptions().withCheckpointEveryRecords(2));
    FakeParticipant a = participant("a");
    FakeParticipant b = participant("b");
    List<String> earlier = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String tx = begin(coordinator, a, b);
      assertThat(commit(coordinator, tx).getOutcome()).isEqualTo(Outcome.COMMITTED);
      earlier.add(tx);
    }
    String rolledBack = begin(coordinator, a);
    coordinator.rollback(RollbackRequest.newBuilder().setTxId(rolledBack).build());
    String tx = begin(coordinator, a, b);
    b.downAfterPrepare = true;
    assertThat(commit(coordinator, tx).getOutcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(b.received("commit " + tx)).isFalse();

    node.close();
    node = null;
    b.downAfterPrepare = false;
    b.unavailable = false;
    coordinator = start(fastOptions().withCheckpointEveryRecords(2));

    eventually(() -> b.received("commit " + tx));
    for (String e : earlier) {
      assertThat(coordinator.getStatus(StatusRequest.newBuilder().setTxId(e).build()).getOutcome())
          .as(e)
          .isEqualTo(Outcome.COMMITTED);
    }
    assertThat(
            coordinator
                .getStatus(StatusRequest.newBuilder().setTxId(rolledBack).build())
                .getOutcome())
        .isEqualTo(Outcome.ABORTED);
  }

  @Test
  void anInquiryAboutAnUnknownTransactionMakesAbortDurableFirst() {
    var coordinator = start();
    FakeParticipant a = participant("a");
    String tx = begin(coordinator, a, participant("b"));
    node.close();
    node = null;
    coordinator = start(); // the active transaction was lost with the old process

    TxOutcome answer =
        coordinator.inquire(
            InquiryRequest.newBuilder().setTxId(tx).setParticipant(a.ref()).build());

    assertThat(answer.getOutcome()).isEqualTo(Outcome.ABORTED);
    // A commit retried now must not win: the durable ABORT stands.
    assertThat(commit(coordinator, tx).getOutcome()).isEqualTo(Outcome.ABORTED);
    node.close();
    node = null;
    coordinator = start();
    assertThat(coordinator.getStatus(StatusRequest.newBuilder().setTxId(tx).build()).getOutcome())
        .as("the ABORT survived a restart")
        .isEqualTo(Outcome.ABORTED);
  }

  @Test
  void aDecisionLogThatCannotSyncAnswersUnknownNeverAGuess() {
    node =
        CoordinatorNode.start(
            fastOptions(),
            new DecisionLog() {
              @Override
              public List<CoordinatorRecord> recover() {
                return List.of();
              }

              @Override
              public CompletableFuture<CoordinatorRecord.DecisionRecord> appendDecision(
                  CoordinatorRecord.DecisionRecord decision) {
                return CompletableFuture.failedFuture(new java.io.IOException("disk on fire"));
              }

              @Override
              public CompletableFuture<Void> append(CoordinatorRecord record) {
                return CompletableFuture.failedFuture(new java.io.IOException("disk on fire"));
              }

              @Override
              public void close() {}
            });
    var coordinator = client();
    String tx = begin(coordinator, participant("a"), participant("b"));

    TxOutcome outcome = commit(coordinator, tx);

    assertThat(outcome.getOutcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(outcome.getReason()).contains("disk on fire");
    assertThat(coordinator.getStatus(StatusRequest.newBuilder().setTxId(tx).build()).getOutcome())
        .isEqualTo(Outcome.UNKNOWN);
  }

  @Test
  void badInputGetsClearErrorsAndChangesNothing() {
    var coordinator = start();
    FakeParticipant a = participant("a");

    assertStatus(
        () -> coordinator.getStatus(StatusRequest.newBuilder().setTxId("not-an-id").build()),
        Status.Code.INVALID_ARGUMENT,
        "malformed transaction id");
    assertStatus(
        () -> coordinator.getStatus(StatusRequest.newBuilder().setTxId("").build()),
        Status.Code.INVALID_ARGUMENT,
        "missing");
    assertStatus(
        () ->
            coordinator.getStatus(
                StatusRequest.newBuilder().setTxId("ffffffffffff-00000001-00000001").build()),
        Status.Code.NOT_FOUND,
        "unknown transaction");

    String tx = begin(coordinator, a, participant("b"), participant("c"));
    assertStatus(
        () ->
            coordinator.enlist(
                EnlistRequest.newBuilder()
                    .setTxId(tx)
                    .setParticipant(participant("d").ref())
                    .build()),
        Status.Code.RESOURCE_EXHAUSTED,
        "limit");
    assertThat(commit(coordinator, tx).getOutcome()).isEqualTo(Outcome.COMMITTED);
    assertStatus(
        () ->
            coordinator.enlist(
                EnlistRequest.newBuilder()
                    .setTxId(tx)
                    .setParticipant(participant("e").ref())
                    .build()),
        Status.Code.FAILED_PRECONDITION,
        "already");
    assertStatus(
        () -> coordinator.begin(BeginRequest.newBuilder().setTimeoutMillis(-5).build()),
        Status.Code.INVALID_ARGUMENT,
        "timeout_millis");
    assertThat(coordinator.getStatus(StatusRequest.newBuilder().setTxId(tx).build()).getOutcome())
        .isEqualTo(Outcome.COMMITTED);
  }

  @Test
  void anOversizeRequestIsRefusedAndTheNodeGoesOn() {
    var coordinator = start();
    String huge = "k".repeat(Channels.MAX_MESSAGE_BYTES + 1);

    assertStatus(
        () -> coordinator.begin(BeginRequest.newBuilder().setIdempotencyKey(huge).build()),
        Status.Code.RESOURCE_EXHAUSTED,
        "");
    assertStatus(
        () ->
            coordinator.begin(
                BeginRequest.newBuilder().setIdempotencyKey("k".repeat(1_000)).build()),
        Status.Code.INVALID_ARGUMENT,
        "idempotency_key");
    String tx = begin(coordinator, participant("a"), participant("b"));
    assertThat(commit(coordinator, tx).getOutcome()).isEqualTo(Outcome.COMMITTED);
  }

  /**
   * The Session stream answers each request by its id with what the unary call would have answered,
   * refusals included, and a bad request does not end the stream.
   */
  @Test
  void theSessionStreamAnswersEachRequestByIdAsTheUnaryCallWould() throws Exception {
    start();
    FakeParticipant a = participant("a");
    FakeParticipant b = participant("b");
    Session session = openSession();
    BlockingQueue<SessionReply> replies = session.replies();
    CompletableFuture<Status> ended = session.ended();
    StreamObserver<SessionRequest> requests = session.requests();

    requests.onNext(
        SessionRequest.newBuilder()
            .setId(7)
            .setBegin(BeginRequest.newBuilder().setTimeoutMillis(30_000))
            .build());
    SessionReply began = replies.poll(10, TimeUnit.SECONDS);
    assertThat(began.getId()).isEqualTo(7);
    String tx = began.getBegan().getTxId();

    requests.onNext(
        SessionRequest.newBuilder()
            .setId(8)
            .setCommit(
                CommitRequest.newBuilder()
                    .setTxId(tx)
                    .setNamesParticipants(true)
                    .addParticipants(a.ref())
                    .addParticipants(b.ref()))
            .build());
    requests.onNext(
        SessionRequest.newBuilder()
            .setId(9)
            .setStatus(StatusRequest.newBuilder().setTxId("not-an-id"))
            .build());
    requests.onNext(SessionRequest.newBuilder().setId(10).build());
    Map<Long, SessionReply> byId = new HashMap<>();
    for (int i = 0; i < 3; i++) {
      SessionReply reply = replies.poll(10, TimeUnit.SECONDS);
      assertThat(reply).as("reply %d of 3", i + 1).isNotNull();
      byId.put(reply.getId(), reply);
    }

    assertThat(byId.get(8L).getOutcome().getOutcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(a.received("prepare " + tx)).isTrue();
    assertThat(byId.get(9L).getError().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(byId.get(10L).getError().getDescription()).contains("empty session request");
    requests.onNext(
        SessionRequest.newBuilder()
            .setId(11)
            .setStatus(StatusRequest.newBuilder().setTxId(tx))
            .build());
    SessionReply status = replies.poll(10, TimeUnit.SECONDS);
    assertThat(status.getId()).isEqualTo(11);
    assertThat(status.getOutcome().getOutcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(ended).as("bad requests do not end the stream").isNotDone();

    // Half-closing right after a request still gets its answer, then the end of the stream.
    requests.onNext(
        SessionRequest.newBuilder()
            .setId(12)
            .setStatus(StatusRequest.newBuilder().setTxId(tx))
            .build());
    requests.onCompleted();
    assertThat(replies.poll(10, TimeUnit.SECONDS).getId()).isEqualTo(12);
    assertThat(ended.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
  }

  /**
   * A stopping node ends its session streams itself once their requests are answered (the client
   * sees the stream complete, not cut by the server's forced shutdown after its grace).
   */
  @Test
  void aStoppingNodeEndsItsSessionStreamsCleanly() throws Exception {
    start();
    Session session = openSession();
    BlockingQueue<SessionReply> replies = session.replies();
    CompletableFuture<Status> ended = session.ended();
    StreamObserver<SessionRequest> requests = session.requests();
    requests.onNext(
        SessionRequest.newBuilder()
            .setId(1)
            .setBegin(BeginRequest.newBuilder().setTimeoutMillis(30_000))
            .build());
    assertThat(replies.poll(10, TimeUnit.SECONDS).hasBegan()).isTrue();

    node.close();
    node = null;

    assertThat(ended.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
  }

  @Test
  void beginWithTheSameIdempotencyKeyReturnsTheSameTransaction() {
    var coordinator = start();
    BeginRequest request =
        BeginRequest.newBuilder().setTimeoutMillis(30_000).setIdempotencyKey("order-42").build();
    assertThat(coordinator.begin(request).getTxId())
        .isEqualTo(coordinator.begin(request).getTxId());
  }

  private static void assertStatus(Runnable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(String.valueOf(e.getStatus().getDescription()))
                  .containsIgnoringCase(messagePart);
            });
  }
}
