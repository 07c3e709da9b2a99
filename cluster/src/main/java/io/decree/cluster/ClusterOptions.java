package io.decree.cluster;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.UUID;

/**
 * Everything one member of the coordinator cluster needs, validated at {@link Builder#build()}.
 *
 * @param nodeId this member's id; must be in {@code peers}
 * @param peers the cluster list; on a fresh start it is the initial configuration, after that the
 *     replicated configuration (changed by {@code addMember}/{@code removeMember}) wins
 * @param dataDir where the Raft log, its metadata and the snapshots live
 * @param groupName the Raft group's name; its id is derived from it, so every member must agree
 * @param joining start with an empty configuration and wait to be added by {@code addMember} (a new
 *     member of a running cluster); ignored once the data dir holds this group's storage
 * @param electionTimeoutMinMillis lower bound of the randomized election timeout
 * @param electionTimeoutMaxMillis upper bound of the randomized election timeout
 * @param appendTimeoutMillis deadline for one append, from the call until it is durable on a
 *     majority; past it the append fails (its record may or may not be durable)
 * @param readTimeoutMillis deadline for a linearizable read
 * @param membershipTimeoutMillis deadline for a configuration change (the new member must catch up
 *     first, which may need a snapshot)
 * @param batchRecordsMax most records one Raft entry carries
 * @param batchBytesMax most encoded bytes one Raft entry carries
 * @param queuedRecordsMax most records waiting for an entry; beyond it appends fail at once
 * @param snapshotThresholdEntries take a snapshot after this many applied entries
 * @param segmentSizeMaxBytes size at which a Raft log segment is closed; only closed segments are
 *     purged after a snapshot
 * @param raftListen host:port this member's Raft server binds to, when the address the others dial
 *     (its entry in {@code peers}) is a proxy or a NAT in front of it; empty: that entry
 * @param snapshotOnStop take a snapshot when the member stops cleanly (shorter restarts); a crash
 *     takes none, and the restart replays the log
 */
public record ClusterOptions(
    String nodeId,
    ClusterPeers peers,
    Path dataDir,
    String groupName,
    boolean joining,
    long electionTimeoutMinMillis,
    long electionTimeoutMaxMillis,
    long appendTimeoutMillis,
    long readTimeoutMillis,
    long membershipTimeoutMillis,
    int batchRecordsMax,
    int batchBytesMax,
    int queuedRecordsMax,
    long snapshotThresholdEntries,
    long segmentSizeMaxBytes,
    String raftListen,
    boolean snapshotOnStop) {

  public static final String DEFAULT_GROUP_NAME = "decree-coordinators";

  public ClusterOptions {
    Objects.requireNonNull(peers, "peers");
    Objects.requireNonNull(dataDir, "dataDir");
    peers.require(nodeId);
    if (groupName == null || groupName.isBlank() || groupName.length() > 128) {
      throw new IllegalArgumentException("groupName must be 1..128 characters");
    }
    if (electionTimeoutMinMillis < 100 || electionTimeoutMaxMillis <= electionTimeoutMinMillis) {
      throw new IllegalArgumentException(
          "election timeout must be min >= 100 ms and max > min, got "
              + electionTimeoutMinMillis
              + ".."
              + electionTimeoutMaxMillis);
    }
    requirePositive("appendTimeoutMillis", appendTimeoutMillis);
    requirePositive("readTimeoutMillis", readTimeoutMillis);
    requirePositive("membershipTimeoutMillis", membershipTimeoutMillis);
    if (batchRecordsMax < 1 || batchRecordsMax > 65_535) {
      throw new IllegalArgumentException("batchRecordsMax must be 1..65535: " + batchRecordsMax);
    }
    if (batchBytesMax < 1024 || batchBytesMax > 16 << 20) {
      throw new IllegalArgumentException("batchBytesMax must be 1 KiB..16 MiB: " + batchBytesMax);
    }
    requirePositive("queuedRecordsMax", queuedRecordsMax);
    requirePositive("snapshotThresholdEntries", snapshotThresholdEntries);
    if (segmentSizeMaxBytes < 16 * 1024) {
      throw new IllegalArgumentException("segmentSizeMaxBytes must be >= 16 KiB");
    }
    Objects.requireNonNull(raftListen, "raftListen");
    if (!raftListen.isEmpty()) {
      ClusterPeers.Peer.of(nodeId, raftListen); // validates host:port
    }
  }

  private static void requirePositive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0: " + value);
    }
  }

  /** The Raft group id: a name-based UUID, so every member derives the same one. */
  public UUID groupUuid() {
    return UUID.nameUUIDFromBytes(("decree-cluster:" + groupName).getBytes(StandardCharsets.UTF_8));
  }

  public ClusterPeers.Peer self() {
    return peers.require(nodeId);
  }

  /** Where this member's Raft server binds: {@code raftListen}, else its own peer address. */
  public ClusterPeers.Peer listen() {
    return raftListen.isEmpty() ? self() : ClusterPeers.Peer.of(nodeId, raftListen);
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .nodeId(nodeId)
        .peers(peers)
        .dataDir(dataDir)
        .groupName(groupName)
        .joining(joining)
        .electionTimeoutMillis(electionTimeoutMinMillis, electionTimeoutMaxMillis)
        .appendTimeoutMillis(appendTimeoutMillis)
        .readTimeoutMillis(readTimeoutMillis)
        .membershipTimeoutMillis(membershipTimeoutMillis)
        .batchRecordsMax(batchRecordsMax)
        .batchBytesMax(batchBytesMax)
        .queuedRecordsMax(queuedRecordsMax)
        .snapshotThresholdEntries(snapshotThresholdEntries)
        .segmentSizeMaxBytes(segmentSizeMaxBytes)
        .raftListen(raftListen)
        .snapshotOnStop(snapshotOnStop);
  }

  /** Defaults suit a small cluster on loaded machines: elections 1-2 s, appends bounded at 5 s. */
  public static final class Builder {
    private String nodeId;
    private ClusterPeers peers;
    private Path dataDir;
    private String groupName = DEFAULT_GROUP_NAME;
    private boolean joining;
    private long electionTimeoutMinMillis = 1000;
    private long electionTimeoutMaxMillis = 2000;
    private long appendTimeoutMillis = 5000;
    private long readTimeoutMillis = 5000;
    private long membershipTimeoutMillis = 60_000;
    private int batchRecordsMax = 1024;
    private int batchBytesMax = 1 << 20;
    private int queuedRecordsMax = 16_384;
    private long snapshotThresholdEntries = 10_000;
    private long segmentSizeMaxBytes = 8L << 20;
    private String raftListen = "";
    private boolean snapshotOnStop = true;

    private Builder() {}

    public Builder nodeId(String value) {
      nodeId = value;
      return this;
    }

    public Builder peers(ClusterPeers value) {
      peers = value;
      return this;
    }

    public Builder peers(String clusterList) {
      peers = ClusterPeers.parse(clusterList);
      return this;
    }

    public Builder dataDir(Path value) {
      dataDir = value;
      return this;
    }

    public Builder groupName(String value) {
      groupName = value;
      return this;
    }

    public Builder joining(boolean value) {
      joining = value;
      return this;
    }

    public Builder electionTimeoutMillis(long min, long max) {
      electionTimeoutMinMillis = min;
      electionTimeoutMaxMillis = max;
      return this;
    }

    public Builder appendTimeoutMillis(long value) {
      appendTimeoutMillis = value;
      return this;
    }

    public Builder readTimeoutMillis(long value) {
      readTimeoutMillis = value;
      return this;
    }

    public Builder membershipTimeoutMillis(long value) {
      membershipTimeoutMillis = value;
      return this;
    }

    public Builder batchRecordsMax(int value) {
      batchRecordsMax = value;
      return this;
    }

    public Builder batchBytesMax(int value) {
      batchBytesMax = value;
      return this;
    }

    public Builder queuedRecordsMax(int value) {
      queuedRecordsMax = value;
      return this;
    }

    public Builder snapshotThresholdEntries(long value) {
      snapshotThresholdEntries = value;
      return this;
    }

    public Builder segmentSizeMaxBytes(long value) {
      segmentSizeMaxBytes = value;
      return this;
    }

    public Builder raftListen(String value) {
      raftListen = value == null ? "" : value;
      return this;
    }

    public Builder snapshotOnStop(boolean value) {
      snapshotOnStop = value;
      return this;
    }

    public ClusterOptions build() {
      return new ClusterOptions(
          nodeId,
          peers,
          dataDir,
          groupName,
          joining,
          electionTimeoutMinMillis,
          electionTimeoutMaxMillis,
          appendTimeoutMillis,
          readTimeoutMillis,
          membershipTimeoutMillis,
          batchRecordsMax,
          batchBytesMax,
          queuedRecordsMax,
          snapshotThresholdEntries,
          segmentSizeMaxBytes,
          raftListen,
          snapshotOnStop);
    }
  }
}
