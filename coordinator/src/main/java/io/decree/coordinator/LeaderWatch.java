package io.decree.coordinator;

import io.decree.coordinator.log.ClusterView;
import io.decree.coordinator.log.ReplicatedDecisionLog;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.NodeStatusRequest;
import io.grpc.Channel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a follower replace a leader whose process is gone without waiting out the election timeout
 * (1-2 s by default, and Raft may take up to about twice that to notice: docs/cluster.md).
 *
 * <p>A follower keeps a gRPC health watch open to the leader's coordinator address. When that
 * stream breaks after it was established, the follower tries a plain TCP connect to the same
 * address. A refused connection means nothing listens there any more: the process was killed,
 * crashed or stopped. Anything else (a timeout, a stalled or partitioned leader) proves nothing and
 * is left to Raft's own timeout, so a slow leader keeps the full 1-2 s of grace.
 *
 * <p>Once the leader is known to be gone, the followers start an election one {@link
 * #STAGGER_MILLIS} after the other, each only if it still follows the gone leader in the same term
 * by then. Each asks the other followers for the last entry of their Raft log: the one with the
 * latest goes first (member id breaks ties), because a candidate whose log is behind a voter's
 * loses, and two candidates asking at once would split the votes. A follower that does not answer
 * within {@link #STATUS_TIMEOUT_MILLIS} is not waited for.
 */
public final class LeaderWatch implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeaderWatch.class);

  static final long CHECK_EVERY_MILLIS = 100;
  static final long STAGGER_MILLIS = 300;
  static final int PROBE_TIMEOUT_MILLIS = 300;
  static final int PROBES = 3;
  static final long PROBE_PAUSE_MILLIS = 100;
  static final long STATUS_TIMEOUT_MILLIS = 300;

  private final ReplicatedDecisionLog cluster;
  private final Map<String, String> memberAddresses;
  private final Function<String, Channel> channels;
  private final long staggerMillis;
  private final ScheduledExecutorService timer;

  private volatile boolean closed;
  private final ScheduledFuture<?> checks;
  private volatile ScheduledFuture<?> election;

  /** The watch on the leader this member follows; null while it leads or knows none. */
  private volatile Watch current;

  /**
   * @param memberAddresses every member's id and coordinator gRPC address
   * @param channels a channel to a coordinator address
   */
  public LeaderWatch(
      ReplicatedDecisionLog cluster,
      Map<String, String> memberAddresses,
      Function<String, Channel> channels) {
    this(cluster, memberAddresses, channels, STAGGER_MILLIS);
  }

  LeaderWatch(
      ReplicatedDecisionLog cluster,
      Map<String, String> memberAddresses,
      Function<String, Channel> channels,
      long staggerMillis) {
    this.cluster = cluster;
    this.memberAddresses = Map.copyOf(memberAddresses);
    this.channels = channels;
    this.staggerMillis = staggerMillis;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "decree-leader-watch-" + cluster.memberId());
              t.setDaemon(true);
              return t;
            });
    this.checks =
        timer.scheduleWithFixedDelay(
            this::followLeader, 0, CHECK_EVERY_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Watches the leader this member knows of; stops watching while it leads or knows none. */
  private void followLeader() {
    try {
      watchCurrentLeader();
    } catch (RuntimeException e) {
      // A periodic task that throws is never run again: log and keep watching.
      log.warn("{}: leader watch: {}", cluster.memberId(), e.toString());
    }
  }

  private void watchCurrentLeader() {
    String leader = cluster.leaderId().filter(id -> !id.equals(cluster.memberId())).orElse(null);
    if (Objects.equals(leader, current == null ? null : current.leader)) {
      return;
    }
    stopWatching();
    String address = leader == null ? null : memberAddresses.get(leader);
    if (address == null) {
      return;
    }
    Watch watch = new Watch(leader, address);
    current = watch;
    try {
      HealthGrpc.newStub(channels.apply(address))
          .watch(HealthCheckRequest.getDefaultInstance(), watch);
    } catch (RuntimeException e) {
      stopWatching(); // the next check tries again
      throw e;
    }
  }

  /** The leader this member watches and has reached, if any. */
  Optional<String> watching() {
    Watch watch = current;
    return watch != null && watch.established ? Optional.of(watch.leader) : Optional.empty();
  }

  private void stopWatching() {
    Watch watch = current;
    current = null;
    if (watch != null) {
      watch.cancel("the leader changed");
    }
  }

  /** One health watch on one leader; it reports only its own end. */
  private final class Watch
      implements ClientResponseObserver<HealthCheckRequest, HealthCheckResponse> {
    private final String leader;
    private final String address;
    private volatile boolean established;
    private volatile ClientCallStreamObserver<HealthCheckRequest> call;

    Watch(String leader, String address) {
      this.leader = leader;
      this.address = address;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<HealthCheckRequest> requestStream) {
      call = requestStream;
    }

    void cancel(String why) {
      if (call != null) {
        call.cancel(why, null);
      }
    }

    @Override
    public void onNext(HealthCheckResponse status) {
      if (current != this) {
        return; // a watch this member already gave up
      }
      established = true;
      if (status.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
        // A leader that is stopping says so before its port closes; ending the watch here also
        // keeps it from waiting for this stream while it shuts down.
        call.cancel("the leader is stopping", null);
      }
    }

    @Override
    public void onError(Throwable t) {
      ended();
    }

    @Override
    public void onCompleted() {
      ended();
    }

    private void ended() {
      if (closed) {
        return;
      }
      try {
        timer.execute(this::afterEnd);
      } catch (RejectedExecutionException closing) {
        // the watch is closing: nothing to do
      }
    }

    private void afterEnd() {
      if (current != this) {
        return; // a watch this member already gave up
      }
      current = null; // the next check opens a new watch
      // A watch that never got its first answer proves nothing: the leader's gRPC port may just
      // not be open yet.
      if (established) {
        probe(leader, address, PROBES);
      }
    }
  }

  /**
   * Tries to connect, a few times {@link #PROBE_PAUSE_MILLIS} apart (a stopping leader announces it
   * a moment before its port closes), while this member still follows that leader.
   */
  private void probe(String leader, String address, int probesLeft) {
    long term = cluster.currentTerm();
    if (!cluster.leaderId().equals(Optional.of(leader))) {
      return;
    }
    if (refusesConnections(address)) {
      leaderGone(leader, address, term);
    } else if (probesLeft > 1) {
      timer.schedule(
          () -> probe(leader, address, probesLeft - 1), PROBE_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /** {@code leader} led {@code term} when its port was found refusing connections. */
  private void leaderGone(String leader, String address, long term) {
    ClusterView self = cluster.view();
    int before = 0;
    for (Map.Entry<String, String> member : memberAddresses.entrySet()) {
      String id = member.getKey();
      if (id.equals(leader) || id.equals(self.memberId())) {
        continue;
      }
      Optional<NodeStatus> other = status(member.getValue());
      if (other.isPresent()
          && goesFirst(
              other.get().getLastLogTerm(),
              other.get().getLastLogIndex(),
              id,
              self.lastLogTerm(),
              self.lastLogIndex(),
              self.memberId())) {
        before++;
      }
    }
    long delay = before * staggerMillis;
    log.info(
        "{}: leader {} at {} refuses connections (its process is gone); starting an election in"
            + " {} ms unless another member leads by then ({} follower(s) with a later log or an"
            + " earlier id go first)",
        self.memberId(),
        leader,
        address,
        delay,
        before);
    election =
        timer.schedule(
            () -> {
              if (cluster.startElectionNow(leader, term)) {
                log.info(
                    "{}: started an election to replace {} (term {})",
                    cluster.memberId(),
                    leader,
                    term);
              }
            },
            delay,
            TimeUnit.MILLISECONDS);
  }

  /** Whether a follower with log (term, index) and this id goes before the other one. */
  static boolean goesFirst(
      long term, long index, String id, long otherTerm, long otherIndex, String otherId) {
    if (term != otherTerm) {
      return term > otherTerm;
    }
    if (index != otherIndex) {
      return index > otherIndex;
    }
    return id.compareTo(otherId) < 0;
  }

  /** Another member's status, or empty when it does not answer in time. */
  private Optional<NodeStatus> status(String address) {
    try {
      return Optional.of(
          CoordinatorAdminGrpc.newBlockingStub(channels.apply(address))
              .withDeadlineAfter(STATUS_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
              .getNodeStatus(NodeStatusRequest.getDefaultInstance()));
    } catch (RuntimeException unreachable) {
      return Optional.empty();
    }
  }

  /** True only when the address answers a TCP connect with a refusal: nothing listens there. */
  static boolean refusesConnections(String address) {
    int colon = address.lastIndexOf(':');
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(
              address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
          PROBE_TIMEOUT_MILLIS);
      return false;
    } catch (ConnectException refused) {
      return true;
    } catch (IOException | RuntimeException inconclusive) {
      return false;
    }
  }

  @Override
  public void close() {
    closed = true;
    // Not shutdownNow(): interrupting an election being started could leave Ratis half-way.
    checks.cancel(false);
    ScheduledFuture<?> waiting = election;
    if (waiting != null) {
      waiting.cancel(false);
    }
    timer.shutdown();
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopWatching();
  }
}
