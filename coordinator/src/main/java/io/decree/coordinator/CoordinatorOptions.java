package io.decree.coordinator;

import io.decree.coordinator.log.WalDecisionLog;
import io.decree.core.coordinator.CoordinatorConfig;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Everything a coordinator node needs to start, validated at construction.
 *
 * @param dataDir where the decision log and the incarnation counter live
 * @param bindHost interface to listen on (127.0.0.1 unless it must be reachable from elsewhere)
 * @param port 0 picks a free port
 * @param advertisedAddress host:port participants use to reach this node; empty: bindHost:port
 * @param rpcDeadlineMillis deadline of each call to a participant
 * @param decisionTimeoutMillis how long a decision may take to become durable before the waiting
 *     client hears UNKNOWN (the append is retried)
 * @param tickMillis how often timeouts and retries are checked
 * @param queueCapacity work waiting for the core thread at most
 * @param memberAddresses in a cluster: every member's id and coordinator gRPC address (host:port),
 *     this one's included; told to participants and used in leader hints. Empty for a single node.
 * @param leaderWatch in a cluster: replace a leader whose process is gone without waiting out the
 *     election timeout ({@link LeaderWatch})
 * @param checkpointEveryRecords single node: decision-log records between two checkpoints, after
 *     each of which older log files are deleted ({@link io.decree.coordinator.log.WalDecisionLog})
 */
public record CoordinatorOptions(
    Path dataDir,
    String bindHost,
    int port,
    String advertisedAddress,
    CoordinatorConfig protocol,
    long rpcDeadlineMillis,
    long decisionTimeoutMillis,
    long tickMillis,
    int queueCapacity,
    Map<String, String> memberAddresses,
    boolean leaderWatch,
    int checkpointEveryRecords) {

  public CoordinatorOptions {
    if (dataDir == null) {
      throw new IllegalArgumentException("coordinator: --data-dir is required");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("coordinator: port must be 0..65535, got " + port);
    }
    if (rpcDeadlineMillis <= 0 || decisionTimeoutMillis <= 0 || tickMillis <= 0) {
      throw new IllegalArgumentException("coordinator: deadlines and tick must be > 0 ms");
    }
    if (queueCapacity <= 0) {
      throw new IllegalArgumentException("coordinator: queueCapacity must be > 0");
    }
    if (checkpointEveryRecords <= 0) {
      throw new IllegalArgumentException(
          "coordinator: checkpoint interval must be > 0 records, got " + checkpointEveryRecords);
    }
    bindHost = bindHost == null || bindHost.isBlank() ? "127.0.0.1" : bindHost;
    advertisedAddress = advertisedAddress == null ? "" : advertisedAddress;
    protocol = protocol == null ? CoordinatorConfig.defaults() : protocol;
    memberAddresses =
        memberAddresses == null
            ? Map.of()
            : Collections.unmodifiableMap(new LinkedHashMap<>(memberAddresses));
  }

  public static CoordinatorOptions defaults(Path dataDir, int port) {
    return new CoordinatorOptions(
        dataDir,
        "127.0.0.1",
        port,
        "",
        CoordinatorConfig.defaults(),
        2_000,
        5_000,
        10,
        65_536,
        Map.of(),
        true,
        WalDecisionLog.CHECKPOINT_EVERY_RECORDS_DEFAULT);
  }

  public CoordinatorOptions withProtocol(CoordinatorConfig protocol) {
    return with(c -> c.protocol = protocol);
  }

  public CoordinatorOptions withBindHost(String bindHost) {
    return with(c -> c.bindHost = bindHost);
  }

  /**
   * @param advertisedAddress host:port participants use; null or empty: bindHost:port
   */
  public CoordinatorOptions withAdvertised(String advertisedAddress) {
    return with(c -> c.advertisedAddress = advertisedAddress);
  }

  /** Cluster mode: this member's address is the entry under its id. */
  public CoordinatorOptions withCluster(
      Map<String, String> memberAddresses, String advertisedAddress, long decisionTimeoutMillis) {
    return with(
        c -> {
          c.memberAddresses = memberAddresses;
          c.advertisedAddress = advertisedAddress;
          c.decisionTimeoutMillis = decisionTimeoutMillis;
        });
  }

  public CoordinatorOptions withLeaderWatch(boolean leaderWatch) {
    return with(c -> c.leaderWatch = leaderWatch);
  }

  public CoordinatorOptions withCheckpointEveryRecords(int checkpointEveryRecords) {
    return with(c -> c.checkpointEveryRecords = checkpointEveryRecords);
  }

  public CoordinatorOptions withRpcDeadlineMillis(long rpcDeadlineMillis) {
    return with(c -> c.rpcDeadlineMillis = rpcDeadlineMillis);
  }

  /** A copy with {@code change} applied, validated like any other. */
  private CoordinatorOptions with(Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return new CoordinatorOptions(
        c.dataDir,
        c.bindHost,
        c.port,
        c.advertisedAddress,
        c.protocol,
        c.rpcDeadlineMillis,
        c.decisionTimeoutMillis,
        c.tickMillis,
        c.queueCapacity,
        c.memberAddresses,
        c.leaderWatch,
        c.checkpointEveryRecords);
  }

  /** The fields, mutable, for {@link #with}. */
  private static final class Copy {
    Path dataDir;
    String bindHost;
    int port;
    String advertisedAddress;
    CoordinatorConfig protocol;
    long rpcDeadlineMillis;
    long decisionTimeoutMillis;
    long tickMillis;
    int queueCapacity;
    Map<String, String> memberAddresses;
    boolean leaderWatch;
    int checkpointEveryRecords;

    Copy(CoordinatorOptions o) {
      dataDir = o.dataDir;
      bindHost = o.bindHost;
      port = o.port;
      advertisedAddress = o.advertisedAddress;
      protocol = o.protocol;
      rpcDeadlineMillis = o.rpcDeadlineMillis;
      decisionTimeoutMillis = o.decisionTimeoutMillis;
      tickMillis = o.tickMillis;
      queueCapacity = o.queueCapacity;
      memberAddresses = o.memberAddresses;
      leaderWatch = o.leaderWatch;
      checkpointEveryRecords = o.checkpointEveryRecords;
    }
  }
}
