package io.decree.cluster;

import io.decree.cluster.ClusterUnavailableException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of the coordinator cluster: this node's Ratis server (gRPC transport, storage in the
 * data dir) running the {@link DecisionStateMachine}, and a Raft client to the group. Every Ratis
 * setting that matters for safety or for bounded waiting is set here explicitly, not left to the
 * library's defaults; docs/cluster.md explains each.
 */
public final class ClusterMember implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterMember.class);

  /** Pause between Ratis client retries (leader lookup, a leader not ready yet). */
  private static final long RETRY_SLEEP_MILLIS = 100;

  private final ClusterOptions options;
  private final RaftPeerId selfId;
  private final RaftGroup group;
  private final DecisionStateMachine stateMachine;
  private final RaftServer server;
  private final RaftServer.Division division;

  /**
   * The client appends and reads go through. Ratis closes a client for good once one request used
   * up its retries; such a client is replaced (see {@link #renewClient}), else a member that leads
   * again could never append.
   */
  private final AtomicReference<RaftClient> client;

  private ClusterMember(
      ClusterOptions options,
      RaftGroup group,
      DecisionStateMachine stateMachine,
      RaftServer server,
      RaftServer.Division division,
      RaftClient client) {
    this.options = options;
    this.selfId = RaftPeerId.valueOf(options.nodeId());
    this.group = group;
    this.stateMachine = stateMachine;
    this.server = server;
    this.division = division;
    this.client = new AtomicReference<>(client);
  }

  /**
   * Starts this node's Ratis server and its client. A fresh data dir is formatted with the cluster
   * list as the initial configuration (or an empty one when {@code joining}); an existing one is
   * recovered, and the replicated configuration in it wins over the list.
   */
  public static ClusterMember start(ClusterOptions options) {
    RaftGroupId groupId = RaftGroupId.valueOf(options.groupUuid());
    List<RaftPeer> peers = new ArrayList<>();
    for (ClusterPeers.Peer p : options.peers().peers()) {
      peers.add(toRaftPeer(p));
    }
    RaftGroup group = RaftGroup.valueOf(groupId, peers);
    boolean fresh = !Files.exists(options.dataDir().resolve(options.groupUuid().toString()));
    // A joining member must not start elections in a configuration it is not part of yet; Ratis'
    // own tests start new members with an empty group and let setConfiguration add them.
    RaftGroup startGroup = options.joining() && fresh ? RaftGroup.valueOf(groupId) : group;
    DecisionStateMachine stateMachine = new DecisionStateMachine();
    RaftServer server = null;
    try {
      Files.createDirectories(options.dataDir());
      server =
          RaftServer.newBuilder()
              .setServerId(RaftPeerId.valueOf(options.nodeId()))
              .setGroup(startGroup)
              .setStateMachine(stateMachine)
              .setProperties(serverProperties(options))
              .setOption(RaftStorage.StartupOption.RECOVER)
              .build();
      server.start();
      RaftServer.Division division = server.getDivision(groupId);
      RaftClient client = newClient(options, group, options.appendTimeoutMillis());
      log.info(
          "cluster member {} started at {} in group {} ({}), data in {}",
          options.nodeId(),
          options.self().address(),
          options.groupName(),
          fresh ? (options.joining() ? "fresh, joining" : "fresh") : "recovered",
          options.dataDir());
      return new ClusterMember(options, group, stateMachine, server, division, client);
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        try {
          server.close();
        } catch (IOException | RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw new IllegalStateException(
          "cluster member " + options.nodeId() + " failed to start: " + e.getMessage(), e);
    }
  }

  static RaftProperties serverProperties(ClusterOptions options) {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(options.dataDir().toFile()));
    GrpcConfigKeys.Server.setHost(p, options.listen().host());
    GrpcConfigKeys.Server.setPort(p, options.listen().port());

    // Elections: 1-2 s by default, so a loaded 2-core machine does not flap.
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(options.electionTimeoutMinMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(options.electionTimeoutMaxMillis()));
    RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
    RaftServerConfigKeys.setCloseThreshold(p, TimeDuration.valueOf(10, TimeUnit.SECONDS));

    // Durability: an entry counts toward the commit index only after it was fsynced (FileChannel
    // .force) on that replica: synchronous flush, neither "unsafe" nor "async" flush. forceSyncNum
    // bounds how many entries one fsync may cover; the log worker also flushes whenever its queue
    // runs dry, so it batches fsyncs under load and never delays one when idle.
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
    RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);
    RaftServerConfigKeys.Log.setForceSyncNum(p, 128);
    RaftServerConfigKeys.Log.StateMachineData.setSync(p, true);
    // Metadata entries record the commit index in the log, so a restarted member knows what was
    // committed before it hears from a leader. They roughly double the entry count, not the fsyncs.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, true);
    RaftServerConfigKeys.Log.setSegmentSizeMax(
        p, SizeInBytes.valueOf(options.segmentSizeMaxBytes()));
    RaftServerConfigKeys.Log.setPreallocatedSize(
        p, SizeInBytes.valueOf(Math.min(4L << 20, options.segmentSizeMaxBytes())));

    // Snapshots every snapshotThresholdEntries; then the log is purged up to the snapshot (closed
    // segments only), keeping two snapshot files.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, options.snapshotThresholdEntries());
    RaftServerConfigKeys.Snapshot.setCreationGap(p, 1);
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, options.snapshotOnStop());
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, 1);
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);

    // Linearizable reads through ReadIndex; bounded.
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setTimeout(p, millis(options.readTimeoutMillis()));
    return p;
  }

  /**
   * A client whose every request gives up: Ratis clients retry forever unless bounded. Attempts are
   * spread over {@code budgetMillis}; callers still put their own deadline on each future.
   */
  private static RaftClient newClient(ClusterOptions options, RaftGroup group, long budgetMillis) {
    RaftProperties p = new RaftProperties();
    long requestTimeout = Math.max(500, Math.min(budgetMillis, 3000));
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(requestTimeout));
    RaftClientConfigKeys.Rpc.setWatchRequestTimeout(p, millis(requestTimeout));
    RaftClientConfigKeys.Async.setOutstandingRequestsMax(p, 64);
    int attempts = (int) Math.max(3, budgetMillis / RETRY_SLEEP_MILLIS);
    RetryPolicy retry =
        RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts, millis(RETRY_SLEEP_MILLIS));
    return RaftClient.newBuilder()
        .setClientId(ClientId.randomId())
        .setRaftGroup(group)
        .setLeaderId(RaftPeerId.valueOf(options.nodeId()))
        .setProperties(p)
        .setRetryPolicy(retry)
        .build();
  }

  private static TimeDuration millis(long value) {
    return TimeDuration.valueOf(value, TimeUnit.MILLISECONDS);
  }

  private static RaftPeer toRaftPeer(ClusterPeers.Peer p) {
    return RaftPeer.newBuilder().setId(p.id()).setAddress(p.address()).build();
  }

  // ---------------------------------------------------------------- state

  public String nodeId() {
    return options.nodeId();
  }

  public ClusterOptions options() {
    return options;
  }

  /** Leads and has applied every entry of earlier terms (its state is the whole log). */
  public boolean isLeaderReady() {
    return division.getInfo().isLeader() && division.getInfo().isLeaderReady();
  }

  public long currentTerm() {
    return division.getInfo().getCurrentTerm();
  }

  /** The leader this member knows of, if any. */
  public Optional<String> leaderId() {
    RaftPeerId leader = division.getInfo().getLeaderId();
    return leader == null ? Optional.empty() : Optional.of(leader.toString());
  }

  public boolean isAlive() {
    return division.getInfo().isAlive();
  }

  /**
   * Starts an election now, without waiting out the election timeout, if this member still follows
   * {@code goneLeaderId} in {@code term} and its log ends in that term. For a leader known to be
   * gone: an election is always safe in Raft (a needless one costs a term, never a decision), and
   * this one skips pre-vote, so the other members vote at once instead of waiting for their own
   * timeouts.
   *
   * <p>It is the request a Ratis leader sends to the member it hands leadership to, made here in
   * the gone leader's name: Ratis accepts it only from the leader this member follows, in its term,
   * and only when this member's log is as long as the one named (its own last entry).
   *
   * @return true when this member became a candidate
   */
  public boolean startElectionNow(String goneLeaderId, long term) {
    RaftPeerId gone = RaftPeerId.valueOf(goneLeaderId);
    TermIndex last = division.getRaftLog().getLastEntryTermIndex();
    // Ratis recognizes the request only in the current term, with a last entry of that term.
    if (!division.getInfo().isFollower()
        || !gone.equals(division.getInfo().getLeaderId())
        || division.getInfo().getCurrentTerm() != term
        || last == null
        || last.getTerm() != term) {
      return false;
    }
    StartLeaderElectionRequestProto request =
        StartLeaderElectionRequestProto.newBuilder()
            .setServerRequest(
                RaftRpcRequestProto.newBuilder()
                    .setRequestorId(gone.toByteString())
                    .setReplyId(selfId.toByteString())
                    .setRaftGroupId(
                        RaftGroupIdProto.newBuilder().setId(group.getGroupId().toByteString())))
            .setLeaderLastEntry(last.toProto())
            .build();
    try {
      return server.startLeaderElection(request).getServerReply().getSuccess();
    } catch (IOException | RuntimeException refused) {
      log.warn("cluster member {}: could not start an election: {}", selfId, refused.toString());
      return false;
    }
  }

  /** The voting members in the configuration this member has (committed or not). */
  public List<ClusterPeers.Peer> currentMembers() {
    Collection<RaftPeer> peers = division.getRaftConf().getCurrentPeers();
    List<ClusterPeers.Peer> members = new ArrayList<>(peers.size());
    for (RaftPeer p : peers) {
      members.add(ClusterPeers.Peer.of(p.getId().toString(), p.getAddress()));
    }
    return members;
  }

  /** Index of the first entry still in the local Raft log (above 0 once purged). */
  public long logStartIndex() {
    return division.getRaftLog().getStartIndex();
  }

  public long lastAppliedIndex() {
    return division.getInfo().getLastAppliedIndex();
  }

  /** The term and index of the last entry in the local Raft log; {0, 0} when it is empty. */
  public long[] lastLogEntry() {
    TermIndex last = division.getRaftLog().getLastEntryTermIndex();
    return last == null ? new long[] {0, 0} : new long[] {last.getTerm(), last.getIndex()};
  }

  DecisionStateMachine stateMachine() {
    return stateMachine;
  }

  // ---------------------------------------------------------------- requests

  /** Appends one encoded batch as one Raft entry; completes with the state machine's reply. */
  CompletableFuture<byte[]> submit(byte[] entry) {
    return request(c -> c.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(entry))));
  }

  /** A linearizable read (ReadIndex at the leader, then the state machine's {@code query}). */
  CompletableFuture<byte[]> readLinearizable(byte[] query) {
    return request(
        c -> c.async().sendReadOnly(Message.valueOf(UnsafeByteOperations.unsafeWrap(query))));
  }

  /** Sends through the current client; a client Ratis has closed is replaced for the next call. */
  private CompletableFuture<byte[]> request(
      java.util.function.Function<RaftClient, CompletableFuture<RaftClientReply>> send) {
    RaftClient used = client.get();
    CompletableFuture<RaftClientReply> sent;
    try {
      sent = send.apply(used);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    return sent.whenComplete(
            (reply, error) -> {
              if (error != null && clientIsSpent(error)) {
                renewClient(used, error);
              }
            })
        .thenApply(ClusterMember::replyBytes);
  }

  /** Ratis closes a client after a request ran out of retries; it refuses everything after. */
  static boolean clientIsSpent(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof AlreadyClosedException || t instanceof RaftRetryFailureException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Replaces {@code spent} with a fresh client, unless another call already did. Also called when
   * this member starts to lead, so each term begins with a client that can send.
   */
  void renewClient(RaftClient spent, Throwable why) {
    RaftClient fresh = newClient(options, group, options.appendTimeoutMillis());
    if (client.compareAndSet(spent, fresh)) {
      log.warn(
          "cluster member {}: Raft client replaced ({})",
          nodeId(),
          why == null ? "new term" : why.toString());
      closeQuietly(spent);
    } else {
      closeQuietly(fresh);
    }
  }

  /** See {@link #renewClient(RaftClient, Throwable)}. */
  void renewClient() {
    renewClient(client.get(), null);
  }

  /** TEST ONLY: closes the current client as Ratis does after a request ran out of retries. */
  void closeClientForTest() {
    closeQuietly(client.get());
  }

  private void closeQuietly(RaftClient c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      log.warn("cluster member {}: closing a Raft client: {}", nodeId(), e.toString());
    }
  }

  private static byte[] replyBytes(RaftClientReply reply) {
    if (!reply.isSuccess()) {
      RaftException e = reply.getException();
      throw new ClusterUnavailableException(
          Reason.NO_QUORUM,
          "Ratis refused the request: " + (e == null ? "no reason given" : e.getMessage()),
          e);
    }
    return reply.getMessage().getContent().toByteArray();
  }

  // ---------------------------------------------------------------- administration

  /**
   * Adds a voting member (it must be running, started with {@code joining}). Returns once the new
   * configuration is committed; the new member first catches up from the leader's log or, when the
   * log was purged, from a snapshot.
   *
   * @throws ClusterUnavailableException if the change is not confirmed within the membership
   *     timeout
   */
  public void addMember(String peerId, String address) {
    ClusterPeers.Peer peer = ClusterPeers.Peer.of(peerId, address);
    if (currentMembers().stream().anyMatch(p -> p.id().equals(peerId))) {
      throw new IllegalArgumentException("member " + peerId + " is already in the cluster");
    }
    changeConfiguration(
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(List.of(toRaftPeer(peer)))
            .setMode(SetConfigurationRequest.Mode.ADD)
            .build(),
        "add " + peerId + " at " + address);
  }

  /**
   * Removes a voting member. Compare-and-set against the configuration this member sees, so two
   * concurrent changes cannot silently undo each other.
   */
  public void removeMember(String peerId) {
    Collection<RaftPeer> current = division.getRaftConf().getCurrentPeers();
    List<RaftPeer> remaining = new ArrayList<>();
    for (RaftPeer p : current) {
      if (!p.getId().toString().equals(peerId)) {
        remaining.add(p);
      }
    }
    if (remaining.size() == current.size()) {
      throw new IllegalArgumentException("member " + peerId + " is not in the cluster");
    }
    if (remaining.isEmpty()) {
      throw new IllegalArgumentException("cannot remove the last member " + peerId);
    }
    changeConfiguration(
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(remaining)
            .setServersInCurrentConf(new ArrayList<>(current))
            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
            .build(),
        "remove " + peerId);
  }

  private void changeConfiguration(SetConfigurationRequest.Arguments arguments, String what) {
    // Own client: a membership change may wait for a new member to catch up, far longer than an
    // append is allowed to take.
    try (RaftClient admin = newClient(options, group, options.membershipTimeoutMillis())) {
      RaftClientReply reply = admin.admin().setConfiguration(arguments);
      if (!reply.isSuccess()) {
        throw new ClusterUnavailableException(
            Reason.NO_QUORUM, "membership change (" + what + ") refused: " + reply.getException());
      }
      log.info("membership change done: {}", what);
    } catch (IOException e) {
      throw new ClusterUnavailableException(
          Reason.NO_QUORUM, "membership change (" + what + ") failed: " + e.getMessage(), e);
    }
  }

  /**
   * Takes a snapshot on this member now (the auto-trigger also does, every snapshotThresholdEntries
   * entries); the log is then purged up to it.
   *
   * @return the snapshot's log index
   */
  public long takeSnapshot() {
    try {
      RaftClientReply reply =
          client
              .get()
              .getSnapshotManagementApi(selfId)
              .create(true, options.membershipTimeoutMillis());
      if (!reply.isSuccess()) {
        throw new ClusterUnavailableException(
            Reason.NO_QUORUM, "snapshot refused: " + reply.getException());
      }
      return reply.getLogIndex();
    } catch (IOException e) {
      throw new UncheckedIOException("snapshot on " + nodeId() + " failed", e);
    }
  }

  /** Where this member's Raft storage for the group lives. */
  public Path storageDir() {
    return options.dataDir().resolve(options.groupUuid().toString());
  }

  @Override
  public void close() {
    closeQuietly(client.get());
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      log.warn("cluster member {}: closing the Raft server: {}", nodeId(), e.toString());
    }
  }
}
