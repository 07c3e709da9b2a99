package io.decree.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.node.grpc.Channels;
import io.decree.node.grpc.GrpcServer;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.NodeStatusRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The watch a follower keeps on its leader: a leader whose process is gone (its port refuses
 * connections) is replaced at once; a leader that was never reached, or that still accepts
 * connections, is left to Raft's election timeout.
 */
class LeaderWatchTest {
  private final FakeReplicatedLog log = new FakeReplicatedLog(); // this member is n1
  private static final long STAGGER_MILLIS = 3_000;
  private static final long LAST_LOG_TERM = 7;

  private final Channels channels = new Channels();
  private final List<GrpcServer> peers = new java.util.ArrayList<>();
  private LeaderWatch watch;
  private GrpcServer leader;

  @AfterEach
  void stop() {
    if (watch != null) {
      watch.close();
    }
    if (leader != null) {
      leader.close();
    }
    peers.forEach(GrpcServer::close);
    channels.close();
  }

  private LeaderWatch watch(String leaderAddress) {
    return new LeaderWatch(
        log, Map.of("n1", "127.0.0.1:1", "n2", leaderAddress, "n3", "127.0.0.1:1"), channels::get);
  }

  @Test
  void aLeaderWhoseProcessIsGoneIsReplacedWithoutWaitingForTheElectionTimeout() {
    leader = GrpcServer.start("127.0.0.1", 0, List.of(), List.of());
    log.follow("n2");
    watch = watch("127.0.0.1:" + leader.port());
    assertThat(within(5_000, () -> watch.watching().isPresent()))
        .as("the watch reaches the leader")
        .isTrue();

    leader.close(); // the port now refuses connections, as after a kill -9

    // n1 is first among the followers {n1, n3}: it asks at once, for the term n2 led.
    assertThat(within(5_000, () -> !log.electionsAsked.isEmpty())).isTrue();
    assertThat(log.electionsAsked).containsExactly("n2@" + log.currentTerm());
  }

  @Test
  void aLeaderNeverReachedIsNotDeclaredGone() throws IOException {
    int closedPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      closedPort = probe.getLocalPort();
    }
    log.follow("n2");
    watch = watch("127.0.0.1:" + closedPort); // refuses from the start: perhaps not listening yet

    assertThat(within(2_000, () -> !log.electionsAsked.isEmpty())).isFalse();
  }

  @Test
  void aWatchThatBreaksWhileTheLeaderStillListensIsOpenedAgainWithoutAnElection()
      throws IOException {
    AtomicInteger watches = new AtomicInteger();
    // A leader whose watch streams break (say, a proxy resets them) but whose port stays open.
    Server flaky =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(
                new HealthGrpc.HealthImplBase() {
                  @Override
                  public void watch(
                      HealthCheckRequest request, StreamObserver<HealthCheckResponse> response) {
                    watches.incrementAndGet();
                    response.onNext(
                        HealthCheckResponse.newBuilder()
                            .setStatus(HealthCheckResponse.ServingStatus.SERVING)
                            .build());
                    response.onError(Status.UNAVAILABLE.withDescription("reset").asException());
                  }
                })
            .build()
            .start();
    try {
      log.follow("n2");
      watch = watch("127.0.0.1:" + flaky.getPort());
      assertThat(within(5_000, () -> watches.get() >= 3)).as("the watch is reopened").isTrue();
      assertThat(log.electionsAsked).isEmpty();
    } finally {
      flaky.shutdownNow();
    }
  }

  /** A follower n0 whose last log entry is at {@code index}, in the term of this member's. */
  private GrpcServer peerAt(long index) {
    return peer(LAST_LOG_TERM, index);
  }

  /** A follower n0 that answers status with the given last log entry. */
  private GrpcServer peer(long lastLogTerm, long lastLogIndex) {
    GrpcServer peer =
        GrpcServer.start(
            "127.0.0.1",
            0,
            List.of(
                new CoordinatorAdminGrpc.CoordinatorAdminImplBase() {
                  @Override
                  public void getNodeStatus(
                      NodeStatusRequest request, StreamObserver<NodeStatus> response) {
                    response.onNext(
                        NodeStatus.newBuilder()
                            .setMemberId("n0")
                            .setLastLogTerm(lastLogTerm)
                            .setLastLogIndex(lastLogIndex)
                            .build());
                    response.onCompleted();
                  }
                }),
            List.of());
    peers.add(peer);
    return peer;
  }

  /** This member (n1) follows n2; the other follower is n0; elections wait 3 s per rank. */
  private long millisFromLeaderGoneToElection(int otherFollowerPort) {
    leader = GrpcServer.start("127.0.0.1", 0, List.of(), List.of());
    log.follow("n2");
    log.lastLog = new long[] {LAST_LOG_TERM, 10};
    watch =
        new LeaderWatch(
            log,
            Map.of(
                "n0", "127.0.0.1:" + otherFollowerPort,
                "n1", "127.0.0.1:1",
                "n2", "127.0.0.1:" + leader.port()),
            channels::get,
            STAGGER_MILLIS);
    assertThat(within(5_000, () -> watch.watching().isPresent())).isTrue();
    long closed = System.nanoTime();
    leader.close();
    assertThat(within(STAGGER_MILLIS + 5_000, () -> !log.electionsAsked.isEmpty())).isTrue();
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closed);
  }

  @Test
  void aFollowerWhoseLogIsAsLateButWhoseIdIsLaterWaitsItsTurn() {
    long waited = millisFromLeaderGoneToElection(peerAt(10).port());
    assertThat(waited).isGreaterThanOrEqualTo(STAGGER_MILLIS);
  }

  @Test
  void aFollowerWithALaterLogGoesFirstWhateverItsId() {
    long waited = millisFromLeaderGoneToElection(peerAt(9).port());
    assertThat(waited).as("asked before the other follower's turn").isLessThan(STAGGER_MILLIS);
  }

  @Test
  void aFollowerThatDoesNotAnswerIsNotWaitedFor() throws IOException {
    int closedPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      closedPort = probe.getLocalPort();
    }
    assertThat(millisFromLeaderGoneToElection(closedPort)).isLessThan(STAGGER_MILLIS);
  }

  @Test
  void followersGoInOrderOfTheirLastLogEntryThenOfTheirId() {
    assertThat(LeaderWatch.goesFirst(6, 1, "n3", 5, 99, "n1")).isTrue(); // later term
    assertThat(LeaderWatch.goesFirst(5, 11, "n3", 5, 10, "n1")).isTrue(); // same term, longer
    assertThat(LeaderWatch.goesFirst(5, 10, "n1", 5, 10, "n3")).isTrue(); // same log, earlier id
    assertThat(LeaderWatch.goesFirst(5, 10, "n3", 5, 10, "n1")).isFalse();
    assertThat(LeaderWatch.goesFirst(5, 9, "n1", 5, 10, "n3")).isFalse();
  }

  @Test
  void onlyARefusedConnectionCountsAsProofThatTheLeaderIsGone() throws IOException {
    int port;
    try (ServerSocket listening = new ServerSocket()) {
      listening.bind(new InetSocketAddress("127.0.0.1", 0));
      port = listening.getLocalPort();
      // A process that is stalled (or stopped) still completes the TCP handshake: not proof.
      assertThat(LeaderWatch.refusesConnections("127.0.0.1:" + port)).isFalse();
    }
    assertThat(LeaderWatch.refusesConnections("127.0.0.1:" + port)).isTrue();
  }

  @Test
  void aLeaderThisMemberNoLongerFollowsIsNotReplaced() {
    leader = GrpcServer.start("127.0.0.1", 0, List.of(), List.of());
    log.follow("n2");
    watch = watch("127.0.0.1:" + leader.port());
    assertThat(within(5_000, () -> watch.watching().isPresent())).isTrue();

    log.follow("n3"); // a new leader is known before the old one goes
    assertThat(within(5_000, () -> watch.watching().isEmpty())).isTrue();
    leader.close();

    assertThat(within(2_000, () -> !log.electionsAsked.isEmpty())).isFalse();
  }

  /** Polls {@code condition} until it holds or {@code millis} pass; bounded in time and count. */
  private static boolean within(long millis, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    for (int i = 0; i < 1_000 && System.nanoTime() < deadline; i++) {
      if (condition.getAsBoolean()) {
        return true;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return condition.getAsBoolean();
  }
}
