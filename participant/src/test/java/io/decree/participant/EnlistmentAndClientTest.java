package io.decree.participant;

import static io.decree.participant.Fixtures.await;
import static io.decree.participant.Fixtures.newTxId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.core.Outcome;
import io.decree.core.participant.BranchState;
import io.decree.core.participant.BranchView;
import io.decree.node.grpc.TxIdHeader;
import io.decree.node.grpc.UnaryObserver;
import io.decree.participant.Fixtures.BusinessService;
import io.decree.participant.Fixtures.FakeCoordinator;
import io.decree.participant.Fixtures.Network;
import io.decree.participant.Fixtures.TestResource;
import io.decree.participant.kv.KvConfig;
import io.decree.participant.kv.KvResourceManager;
import io.decree.participant.kv.KvStore;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.ParticipantRef;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.Vote;
import io.decree.wal.InMemoryWal;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Business calls under a transaction, the client library, and the KV store behind the runtime. */
class EnlistmentAndClientTest {
  private static final String COORDINATOR = "fake-coordinator:1";
  private static final String COORDINATOR_DOWN = "fake-coordinator-down:1";

  private Network network;
  private FakeCoordinator coordinator;
  private FakeCoordinator downCoordinator;
  private TestResource resource;
  private BusinessService business;
  private InMemoryWal wal;
  private ParticipantRuntime runtime;
  private ManagedChannel channel;
  private DecreeClient client;

  @BeforeEach
  void setUp() {
    network = new Network();
    coordinator = new FakeCoordinator();
    downCoordinator = new FakeCoordinator();
    downCoordinator.unreachable = true;
    network.serve(COORDINATOR, coordinator);
    network.serve(COORDINATOR_DOWN, downCoordinator);
    resource = new TestResource();
    business = new BusinessService(resource, coordinator);
    wal = new InMemoryWal();
  }

  private void start(io.decree.participant.spi.ResourceManager rm, BindableService service) {
    runtime =
        new ParticipantRuntime(
                ParticipantOptions.builder()
                    .name("accounts-a")
                    .wal(wal)
                    .coordinatorAddresses(List.of(COORDINATOR))
                    .resourceManager(rm)
                    .participantConfig(Fixtures.fastConfig())
                    .tickPeriodMillis(10)
                    .rpcDeadlineMillis(2_000)
                    .addBusinessService(service)
                    .dialer(network::dial)
                    .build())
            .start();
    channel = NettyChannelBuilder.forTarget(runtime.address()).usePlaintext().build();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    if (client != null) {
      client.close();
    }
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(2, TimeUnit.SECONDS);
    }
    if (runtime != null) {
      runtime.close();
    }
    wal.close();
    network.close();
  }

  private String call(Channel on, String request) {
    return ClientCalls.blockingUnaryCall(
        on, Fixtures.WORK, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), request);
  }

  private Channel withHeader(String txId) {
    Metadata headers = new Metadata();
    headers.put(TxIdHeader.KEY, txId);
    return ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  @Test
  void businessCallUnderATransactionEnlistsOnceBeforeTheHandlerRuns() {
    start(resource, business);
    String tx = newTxId();
    Channel joined = ClientInterceptors.intercept(channel, DecreeContext.clientInterceptor());

    DecreeContext.run(tx, () -> call(joined, "first"));
    DecreeContext.run(tx, () -> call(joined, "second"));

    assertThat(coordinator.enlisted).containsExactly(tx + "/accounts-a");
    // The handler saw the id, and the enlistment had already happened when it ran.
    assertThat(business.seen).containsExactly(tx + " enlisted=1", tx + " enlisted=1");
    assertThat(runtime.branches())
        .extracting(BranchView::state)
        .containsExactly(BranchState.ACTIVE);
  }

  /** The runtime, and a client of the fake coordinator: returns the channel its calls join by. */
  private Channel startWithClient() {
    start(resource, business);
    client = DecreeClient.withDialer(List.of(COORDINATOR), network::dial, Duration.ofSeconds(2));
    return ClientInterceptors.intercept(channel, client.interceptor());
  }

  @Test
  void aClientThatBeganTheTransactionNamesItsParticipantsWithTheCommitInsteadOfEnlisting() {
    Channel joined = startWithClient();
    String tx = client.begin(Duration.ofSeconds(30)).txId();

    client.inTransaction(tx, () -> call(joined, "first"));
    client.inTransaction(
        tx,
        () ->
            assertThatThrownBy(() -> call(joined, "refuse"))
                .hasMessageContaining("business rule says no"));
    DecreeClient.Result result = client.commit(tx);

    assertThat(coordinator.enlisted).as("no enlist call before the work").isEmpty();
    assertThat(business.seen).containsExactly(tx + " enlisted=0", tx + " enlisted=0");
    assertThat(result.outcome()).isEqualTo(Outcome.COMMITTED);
    // Named once, although two calls (one refused by the business rule) reached it.
    assertThat(coordinator.named)
        .containsExactly("commit " + tx + "/accounts-a=" + runtime.address());
    assertThat(runtime.branches())
        .singleElement()
        .satisfies(b -> assertThat(b.state()).isEqualTo(BranchState.ACTIVE));
  }

  @Test
  void transactionsChainedInTheClientsCallbacksDoNotNestGrpcContexts() throws Exception {
    Channel joined = startWithClient();
    List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            warnings.add(record);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger grpcContextLog = Logger.getLogger(io.grpc.Context.class.getName());
    grpcContextLog.addHandler(handler);
    try {
      // As an asynchronous client does: each transaction begins where the previous one's commit
      // answered, its business call goes out in the transaction and the commit follows its answer.
      // gRPC warns once a chain of nested contexts reaches 1,000.
      int transactions = 1_100;
      CompletableFuture<Integer> committed = new CompletableFuture<>();
      chain(joined, transactions, 0, committed);
      assertThat(committed.get(60, TimeUnit.SECONDS)).isEqualTo(transactions);
    } finally {
      grpcContextLog.removeHandler(handler);
    }
    assertThat(warnings).extracting(LogRecord::getMessage).isEmpty();
  }

  private void chain(Channel joined, int left, int done, CompletableFuture<Integer> committed) {
    if (left == 0) {
      committed.complete(done);
      return;
    }
    client
        .beginAsync(Duration.ofSeconds(30), "")
        .thenCompose(
            tx -> {
              CompletableFuture<String> answer = new CompletableFuture<>();
              client.inTransaction(
                  tx.txId(),
                  () ->
                      ClientCalls.asyncUnaryCall(
                          joined.newCall(
                              Fixtures.WORK,
                              CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS)),
                          "work",
                          UnaryObserver.completing(answer)));
              return answer.thenCompose(ignored -> client.commitAsync(tx.txId(), false));
            })
        .whenComplete(
            (result, error) -> {
              if (error != null || result.outcome() != Outcome.COMMITTED) {
                committed.completeExceptionally(
                    new AssertionError("transaction " + done + ": " + result + " " + error));
              } else {
                chain(joined, left - 1, done + 1, committed);
              }
            });
  }

  @Test
  void aCallThatEndsWithoutNamingItsParticipantTurnsTheCommitIntoARollback() {
    Channel joined = startWithClient();
    String tx = client.begin(Duration.ofSeconds(30)).txId();
    client.inTransaction(tx, () -> call(joined, "first"));
    // The answer to this one is lost (its deadline passes while the handler still works): the
    // participant may have done work the commit could not name. (A deadline long enough for the
    // call to reach its handler on a loaded machine: one that passes before would leave nothing
    // to abandon.)
    client.inTransaction(
        tx,
        () ->
            assertThatThrownBy(
                    () ->
                        ClientCalls.blockingUnaryCall(
                            joined,
                            Fixtures.WORK,
                            CallOptions.DEFAULT.withDeadlineAfter(1_000, TimeUnit.MILLISECONDS),
                            "hold"))
                .isInstanceOfSatisfying(
                    StatusRuntimeException.class,
                    e ->
                        assertThat(e.getStatus().getCode())
                            .isEqualTo(Status.Code.DEADLINE_EXCEEDED)));
    business.held.countDown();
    // The participant saw its call cancelled: it let go of the branch at once, not at the 30 s
    // deadline (the commit below cannot name it to anyone).
    await(
        "the abandoned branch aborted",
        () ->
            runtime.branches().stream()
                .anyMatch(b -> b.state() == BranchState.ABORTED && b.txId().toString().equals(tx)));

    DecreeClient.Result result = client.commit(tx);

    assertThat(result.outcome()).isEqualTo(Outcome.ABORTED);
    assertThat(result.reason())
        .contains("rolled back instead of committed")
        .contains("DEADLINE_EXCEEDED");
    assertThat(coordinator.named)
        .containsExactly("rollback " + tx + "/accounts-a=" + runtime.address());
  }

  @Test
  void noCallJoinsOnceTheCommitBeganAndACommitWaitsForNoCall() throws Exception {
    Channel joined = startWithClient();
    String tx = client.begin(Duration.ofSeconds(30)).txId();
    var running =
        new java.util.concurrent.atomic.AtomicReference<java.util.concurrent.Future<String>>();
    client.inTransaction(
        tx,
        () ->
            running.set(
                ClientCalls.futureUnaryCall(
                    joined.newCall(
                        Fixtures.WORK, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS)),
                    "hold")));

    assertThatThrownBy(() -> client.commit(tx))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("1 call(s) under transaction " + tx + " have not answered yet");
    business.held.countDown();
    running.get().get(5, TimeUnit.SECONDS);

    client.inTransaction(
        tx,
        () -> {
          assertThat(client.commit(tx).outcome()).isEqualTo(Outcome.COMMITTED);
          assertThatThrownBy(() -> call(joined, "late"))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("no new work joins it");
                  });
        });
    assertThat(business.seen).as("only the held call ran").hasSize(1);
  }

  @Test
  void aBadEnlistOnReplyHeaderIsInvalidArgumentAndTheHandlerDoesNotRun() {
    start(resource, business);
    Metadata headers = new Metadata();
    headers.put(TxIdHeader.KEY, newTxId());
    headers.put(TxIdHeader.ENLIST_ON_REPLY, "tomorrow");
    Channel bad =
        ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));

    assertThatThrownBy(() -> call(bad, "x"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("decree-enlist-on-reply");
            });
    assertThat(business.seen).isEmpty();
  }

  @Test
  void businessCallWithoutTransactionRunsUntransactionally() {
    start(resource, business);
    assertThat(call(ClientInterceptors.intercept(channel, DecreeContext.clientInterceptor()), "x"))
        .isEqualTo("done x");
    assertThat(coordinator.enlisted).isEmpty();
    assertThat(business.seen).containsExactly("none enlisted=0");
    assertThat(runtime.branches()).isEmpty();
  }

  @Test
  void malformedHeaderIsInvalidArgumentAndTheHandlerDoesNotRun() {
    start(resource, business);
    assertThatThrownBy(() -> call(withHeader("bogus"), "x"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("decree-tx-id");
            });
    assertThat(business.seen).isEmpty();
  }

  @Test
  void refusedEnlistmentFailsTheCallAndAbortsTheBranch() {
    start(resource, business);
    coordinator.enlistFailure.set(
        Status.FAILED_PRECONDITION.withDescription("transaction is already committing"));
    String tx = newTxId();
    assertThatThrownBy(() -> call(withHeader(tx), "x"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("already committing");
            });
    assertThat(business.seen).isEmpty();
    await(
        "the branch is aborted",
        () ->
            runtime.branches().stream()
                .anyMatch(b -> b.txId().toString().equals(tx) && b.state() == BranchState.ABORTED));
  }

  @Test
  void clientBeginsAndCommitsAndMovesPastAnUnavailableCoordinator() {
    client =
        DecreeClient.withDialer(
            List.of(COORDINATOR_DOWN, COORDINATOR), network::dial, Duration.ofSeconds(2));
    DecreeClient.Transaction tx = client.begin(Duration.ofSeconds(30), "key-1");
    assertThat(downCoordinator.begins.get()).isEqualTo(1);
    assertThat(coordinator.begins.get()).isEqualTo(1);
    assertThat(client.commit(tx.txId()).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(client.rollback(tx.txId()).outcome()).isEqualTo(Outcome.ABORTED);
    assertThat(client.status(tx.txId()).outcome()).isEqualTo(Outcome.UNKNOWN);
  }

  @Test
  void beginCommitAndStatusGoOnOneSessionStream() {
    client = DecreeClient.withDialer(List.of(COORDINATOR), network::dial, Duration.ofSeconds(2));
    DecreeClient.Transaction tx = client.begin(Duration.ofSeconds(30));
    assertThat(client.commit(tx.txId()).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(client.status(tx.txId()).outcome()).isEqualTo(Outcome.UNKNOWN);

    assertThat(coordinator.sessionsOpened.get()).isEqualTo(1);
    assertThat(coordinator.sessionRequests.get()).isEqualTo(3);
  }

  @Test
  void aCoordinatorWithoutTheSessionStreamGetsUnaryCalls() {
    coordinator.sessionSupported = false;
    client = DecreeClient.withDialer(List.of(COORDINATOR), network::dial, Duration.ofSeconds(2));
    DecreeClient.Transaction tx = client.begin(Duration.ofSeconds(30));
    assertThat(client.commit(tx.txId()).outcome()).isEqualTo(Outcome.COMMITTED);

    assertThat(coordinator.begins.get()).as("the refused stream's begin, sent again").isEqualTo(1);
    assertThat(coordinator.sessionRequests.get()).isZero();
  }

  @Test
  void aSessionStreamThatBreaksMakesTheCommitUnknownAndTheNextCallOpensANewOne() {
    client = DecreeClient.withDialer(List.of(COORDINATOR), network::dial, Duration.ofSeconds(2));
    String tx = client.begin(Duration.ofSeconds(30)).txId();
    coordinator.breakSessionAtCommit = true;

    DecreeClient.Result broken = client.commit(tx);
    assertThat(broken.outcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(broken.reason()).contains("UNAVAILABLE").contains("fake: stream broken");

    assertThat(client.commit(tx).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(coordinator.sessionsOpened.get()).isEqualTo(2);
  }

  @Test
  void aSessionStreamThatStopsAnsweringIsReplacedAfterTheDeadline() {
    coordinator.commitHangs = true;
    client = DecreeClient.withDialer(List.of(COORDINATOR), network::dial, Duration.ofMillis(200));
    assertThat(client.commit(newTxId()).reason()).contains("DEADLINE_EXCEEDED");

    coordinator.commitHangs = false;
    assertThat(client.commit(newTxId()).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(coordinator.sessionsOpened.get()).as("the silent stream was replaced").isEqualTo(2);
  }

  @Test
  void closingTheClientEndsWhatWaitsWithoutMovingOnToTheNextCoordinator() throws Exception {
    FakeCoordinator second = new FakeCoordinator();
    network.serve("fake-coordinator-2:1", second);
    coordinator.commitHangs = true;
    client =
        DecreeClient.withDialer(
            List.of(COORDINATOR, "fake-coordinator-2:1"), network::dial, Duration.ofSeconds(30));
    CompletableFuture<DecreeClient.Result> waiting = client.commitAsync(newTxId(), false);
    await("the commit reached the coordinator", () -> coordinator.sessionRequests.get() == 1);

    client.close();

    DecreeClient.Result result = waiting.get(5, TimeUnit.SECONDS);
    assertThat(result.outcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(result.reason()).contains("CANCELLED");
    assertThat(second.sessionsOpened.get()).isZero();
    client = null; // closed already
  }

  @Test
  void commitWithoutAnswerIsUnknownNeverAGuess() {
    coordinator.commitHangs = true;
    client = DecreeClient.withDialer(List.of(COORDINATOR), network::dial, Duration.ofMillis(200));
    DecreeClient.Result result = client.commit(newTxId());
    assertThat(result.outcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(result.reason()).contains("DEADLINE_EXCEEDED");

    coordinator.unreachable = true;
    assertThat(client.commit(newTxId()).outcome()).isEqualTo(Outcome.UNKNOWN);
    assertThatThrownBy(() -> client.begin(Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            DecreeException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void kvStoreBehindTheRuntimeCommitsThroughTwoPhaseCommit() throws Exception {
    InMemoryWal kvWal = new InMemoryWal();
    try (KvStore store = KvStore.open(kvWal, KvConfig.defaults())) {
      BindableService accounts =
          () ->
              ServerServiceDefinition.builder("test.Business")
                  .addMethod(
                      Fixtures.WORK,
                      ServerCalls.asyncUnaryCall(
                          (String request, StreamObserver<String> observer) -> {
                            String tx = DecreeContext.currentTxId().orElseThrow();
                            store.put(tx, request, 100);
                            observer.onNext("ok");
                            observer.onCompleted();
                          }))
                  .build();
      start(new KvResourceManager("kv:accounts-a", store), accounts);
      String tx = newTxId();
      call(withHeader(tx), "alice");

      ParticipantGrpc.ParticipantBlockingStub p =
          ParticipantGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
      PrepareRequest prepare =
          PrepareRequest.newBuilder()
              .setTxId(tx)
              .addParticipants(ParticipantRef.newBuilder().setName("accounts-a").setAddress("a:1"))
              .build();
      assertThat(p.prepare(prepare).getVote()).isEqualTo(Vote.YES);
      assertThat(store.readCommitted("alice")).isZero();
      p.commit(PhaseTwoRequest.newBuilder().setTxId(tx).build());
      assertThat(store.readCommitted("alice")).isEqualTo(100);
    } finally {
      runtime.close();
      runtime = null;
      kvWal.close();
    }
  }
}
