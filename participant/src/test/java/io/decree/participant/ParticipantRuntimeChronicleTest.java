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
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.Vote;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.List;
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
    return ParticipantOptions.builder()
        .name("accounts-a")
        .dataDirectory(dataDirectory)
        .coordinatorAddresses(List.of(COORDINATOR))
        .resourceManager(resource)
        .participantConfig(Fixtures.fastConfig())
        .addBusinessService(new BusinessService(resource, coordinator))
        .dialer(network::dial)
        .build();
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
