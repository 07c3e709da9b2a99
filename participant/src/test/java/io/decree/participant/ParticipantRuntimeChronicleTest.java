package io.decree.participant;

import static io.decree.participant.Fixtures.newTxId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.core.participant.BranchState;
import io.decree.node.grpc.TxIdHeader;
import io.decree.participant.Fixtures.BusinessService;
import io.decree.participant.Fixtures.FakeCoordinator;
import io.decree.participant.Fixtures.Network;
import io.decree.participant.Fixtures.TestResource;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.ParticipantRef;
import io.decree.proto.v1.PhaseTwoRequest;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.Vote;
import io.decree.wal.ChronicleWal;
import io.decree.wal.WalConfig;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime on its own Chronicle WAL in the data directory, and the options' validation. */
class ParticipantRuntimeChronicleTest {
  private static final String COORDINATOR = "fake-coordinator:1";

  @TempDir Path dataDirectory;
  private final Network network = new Network();
  private final FakeCoordinator coordinator = new FakeCoordinator();
  private final TestResource resource = new TestResource();

  @AfterEach
  void tearDown() {
    network.close();
  }

  private ParticipantOptions options() {
    return baseOptions().dataDirectory(dataDirectory).build();
  }

  private ParticipantOptions.Builder baseOptions() {
    return ParticipantOptions.builder()
        .name("accounts-a")
        .coordinatorAddresses(List.of(COORDINATOR))
        .resourceManager(resource)
        .participantConfig(Fixtures.fastConfig())
        .addBusinessService(new BusinessService(resource, coordinator))
        .dialer(network::dial);
  }

  @Test
  void aYesSurvivesARestartOnTheRealWal() throws Exception {
    network.serve(COORDINATOR, coordinator);
    String tx = newTxId();
    try (ParticipantRuntime runtime = new ParticipantRuntime(options()).start()) {
      ManagedChannel channel =
          NettyChannelBuilder.forTarget(runtime.address()).usePlaintext().build();
      try {
        Metadata headers = new Metadata();
        headers.put(TxIdHeader.KEY, tx);
        ClientCalls.blockingUnaryCall(
            ClientInterceptors.intercept(
                channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
            Fixtures.WORK,
            CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
            "w");
        PrepareRequest prepare =
            PrepareRequest.newBuilder()
                .setTxId(tx)
                .addParticipants(
                    ParticipantRef.newBuilder().setName("accounts-a").setAddress("a:1"))
                .build();
        assertThat(
                ParticipantGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .prepare(prepare)
                    .getVote())
            .isEqualTo(Vote.YES);
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(2, TimeUnit.SECONDS);
      }
    }
    try (ParticipantRuntime restarted = new ParticipantRuntime(options()).start()) {
      assertThat(restarted.branches())
          .singleElement()
          .satisfies(
              b -> {
                assertThat(b.txId().toString()).isEqualTo(tx);
                assertThat(b.state()).isEqualTo(BranchState.PREPARED);
                assertThat(b.blocking()).isNotNull();
              });
      assertThat(resource.recovered).extracting(p -> p.txId()).contains(tx);
    }
  }

  /**
   * The core runs on the WAL's writer when a sync completes, and appends from there go beyond the
   * queue's capacity at its tail. With a queue of two, batches of one and a checkpoint every two
   * records, concurrent prepares and commits keep that path busy; after a restart every branch must
   * be where its durable records put it (a record out of order around a checkpoint would lose one).
   */
  @Test
  void aTinyWalQueueWithCheckpointsEveryTwoRecordsKeepsEveryBranchAcrossARestart()
      throws Exception {
    WalConfig tiny =
        WalConfig.builder()
            .directory(dataDirectory.resolve("tiny-wal"))
            .queueCapacity(2)
            .maxBatch(1)
            .build();
    network.serve(COORDINATOR, coordinator);
    List<String> committed = new ArrayList<>();
    List<String> inDoubt = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      (i % 2 == 0 ? committed : inDoubt).add(newTxId());
    }
    try (ChronicleWal wal = ChronicleWal.open(tiny);
        ParticipantRuntime runtime =
            new ParticipantRuntime(baseOptions().wal(wal).checkpointEveryRecords(2).build())
                .start()) {
      ManagedChannel channel =
          NettyChannelBuilder.forTarget(runtime.address()).usePlaintext().build();
      ExecutorService clients = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (String tx : committed) {
          done.add(clients.submit(() -> prepareAndMaybeCommit(channel, tx, true)));
        }
        for (String tx : inDoubt) {
          done.add(clients.submit(() -> prepareAndMaybeCommit(channel, tx, false)));
        }
        for (Future<?> f : done) {
          f.get(30, TimeUnit.SECONDS);
        }
      } finally {
        clients.shutdownNow();
        channel.shutdownNow();
        channel.awaitTermination(2, TimeUnit.SECONDS);
      }
    }
    resource.recovered.clear();
    try (ChronicleWal wal = ChronicleWal.open(tiny);
        ParticipantRuntime restarted =
            new ParticipantRuntime(baseOptions().wal(wal).checkpointEveryRecords(2).build())
                .start()) {
      assertThat(resource.recovered)
          .extracting(p -> p.txId())
          .containsExactlyInAnyOrderElementsOf(inDoubt);
      Map<String, BranchState> states = new HashMap<>();
      restarted.branches().forEach(b -> states.put(b.txId().toString(), b.state()));
      inDoubt.forEach(tx -> assertThat(states.get(tx)).as(tx).isEqualTo(BranchState.PREPARED));
      committed.forEach(tx -> assertThat(states.get(tx)).as(tx).isEqualTo(BranchState.COMMITTED));
    }
  }

  private static void prepareAndMaybeCommit(ManagedChannel channel, String tx, boolean commit) {
    Metadata headers = new Metadata();
    headers.put(TxIdHeader.KEY, tx);
    ClientCalls.blockingUnaryCall(
        ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
        Fixtures.WORK,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        "w");
    ParticipantGrpc.ParticipantBlockingStub participant =
        ParticipantGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    PrepareRequest prepare =
        PrepareRequest.newBuilder()
            .setTxId(tx)
            .addParticipants(ParticipantRef.newBuilder().setName("accounts-a").setAddress("a:1"))
            .build();
    assertThat(participant.prepare(prepare).getVote()).isEqualTo(Vote.YES);
    if (commit) {
      assertThat(participant.commit(PhaseTwoRequest.newBuilder().setTxId(tx).build()).getOutcome())
          .isEqualTo(io.decree.proto.v1.Outcome.COMMITTED);
    }
  }

  @Test
  void invalidOptionsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> ParticipantOptions.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("participant name");
    assertThatThrownBy(
            () ->
                ParticipantOptions.builder()
                    .name("a")
                    .dataDirectory(dataDirectory)
                    .resourceManager(resource)
                    .build())
        .hasMessageContaining("coordinatorAddresses");
    assertThatThrownBy(
            () ->
                ParticipantOptions.builder()
                    .name("a")
                    .dataDirectory(dataDirectory)
                    .resourceManager(resource)
                    .coordinatorAddresses(List.of("no-port"))
                    .build())
        .hasMessageContaining("host:port");
    assertThatThrownBy(
            () ->
                ParticipantOptions.builder()
                    .name("a")
                    .dataDirectory(dataDirectory)
                    .resourceManager(resource)
                    .coordinatorAddresses(List.of("c:1"))
                    .tickPeriodMillis(0)
                    .build())
        .hasMessageContaining("tickPeriodMillis");
  }
}
