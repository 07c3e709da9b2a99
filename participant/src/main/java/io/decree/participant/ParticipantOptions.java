package io.decree.participant;

import io.decree.core.ParticipantRef;
import io.decree.core.participant.ParticipantConfig;
import io.decree.participant.spi.ResourceManager;
import io.decree.wal.WriteAheadLog;
import io.grpc.BindableService;
import io.grpc.Channel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything a {@link ParticipantRuntime} needs, checked once by {@link Builder#build()}: an
 * invalid value fails there with a message naming the field, never later at the first transaction.
 */
public final class ParticipantOptions {
  /** How the runtime reaches another node; tests swap in in-process channels. */
  @FunctionalInterface
  interface Dialer {
    Channel dial(String address);
  }

  /**
   * Records between checkpoints by default: about three per two-phase branch, so a checkpoint every
   * ~100,000 branches, whose cost (one pass over the branches remembered) stays small.
   */
  public static final int CHECKPOINT_EVERY_RECORDS_DEFAULT = 300_000;

  private final String name;
  private final String advertisedAddress;
  private final String bindHost;
  private final int port;
  private final Path dataDirectory;
  private final WriteAheadLog wal;
  private final List<String> coordinatorAddresses;
  private final ResourceManager resourceManager;
  private final ParticipantConfig participantConfig;
  private final long tickPeriodMillis;
  private final long rpcDeadlineMillis;
  private final long pendingReplyTimeoutMillis;
  private final int loopQueueCapacity;
  private final int resourceThreads;
  private final int resourceQueueCapacity;
  private final int pendingRepliesMax;
  private final int checkpointEveryRecords;
  private final List<BindableService> businessServices;
  private final Dialer dialer;

  private ParticipantOptions(Builder b) {
    this.name = b.name;
    this.advertisedAddress = b.advertisedAddress;
    this.bindHost = b.bindHost;
    this.port = b.port;
    this.dataDirectory = b.dataDirectory;
    this.wal = b.wal;
    this.coordinatorAddresses = List.copyOf(b.coordinatorAddresses);
    this.resourceManager = b.resourceManager;
    this.participantConfig = b.participantConfig;
    this.tickPeriodMillis = b.tickPeriodMillis;
    this.rpcDeadlineMillis = b.rpcDeadlineMillis;
    this.pendingReplyTimeoutMillis = b.pendingReplyTimeoutMillis;
    this.loopQueueCapacity = b.loopQueueCapacity;
    this.resourceThreads = b.resourceThreads;
    this.resourceQueueCapacity = b.resourceQueueCapacity;
    this.pendingRepliesMax = b.pendingRepliesMax;
    this.checkpointEveryRecords = b.checkpointEveryRecords;
    this.businessServices = List.copyOf(b.businessServices);
    this.dialer = b.dialer;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  /** host:port the coordinator and peers use to reach this participant; null: bind host + port. */
  public String advertisedAddress() {
    return advertisedAddress;
  }

  public String bindHost() {
    return bindHost;
  }

  public int port() {
    return port;
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  /** A WAL supplied by the caller (who then owns and closes it), or null to open one. */
  public WriteAheadLog wal() {
    return wal;
  }

  public List<String> coordinatorAddresses() {
    return coordinatorAddresses;
  }

  public ResourceManager resourceManager() {
    return resourceManager;
  }

  public ParticipantConfig participantConfig() {
    return participantConfig;
  }

  public long tickPeriodMillis() {
    return tickPeriodMillis;
  }

  public long rpcDeadlineMillis() {
    return rpcDeadlineMillis;
  }

  public long pendingReplyTimeoutMillis() {
    return pendingReplyTimeoutMillis;
  }

  public int loopQueueCapacity() {
    return loopQueueCapacity;
  }

  public int resourceThreads() {
    return resourceThreads;
  }

  public int resourceQueueCapacity() {
    return resourceQueueCapacity;
  }

  public int pendingRepliesMax() {
    return pendingRepliesMax;
  }

  public int checkpointEveryRecords() {
    return checkpointEveryRecords;
  }

  public List<BindableService> businessServices() {
    return businessServices;
  }

  Dialer dialer() {
    return dialer;
  }

  public static final class Builder {
    private String name;
    private String advertisedAddress;
    private String bindHost = "127.0.0.1";
    private int port;
    private Path dataDirectory;
    private WriteAheadLog wal;
    private final List<String> coordinatorAddresses = new ArrayList<>();
    private ResourceManager resourceManager;
    private ParticipantConfig participantConfig = ParticipantConfig.defaults();
    private long tickPeriodMillis = 100;
    private long rpcDeadlineMillis = 5_000;
    private long pendingReplyTimeoutMillis = 30_000;
    private int loopQueueCapacity = 10_000;
    private int resourceThreads = 8;
    private int resourceQueueCapacity = 10_000;
    private int pendingRepliesMax = 10_000;
    private int checkpointEveryRecords = CHECKPOINT_EVERY_RECORDS_DEFAULT;
    private final List<BindableService> businessServices = new ArrayList<>();
    private Dialer dialer;

    private Builder() {}

    /** Stable identity of this participant, unique among the participants of a transaction. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** host:port others dial; defaults to the bind host and the bound port. */
    public Builder advertisedAddress(String advertisedAddress) {
      this.advertisedAddress = advertisedAddress;
      return this;
    }

    public Builder bindHost(String bindHost) {
      this.bindHost = bindHost;
      return this;
    }

    /** 0 picks a free port; {@link ParticipantRuntime#port()} tells which. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The runtime's WAL lives in {@code dataDirectory/wal}. */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = dataDirectory;
      return this;
    }

    /**
     * Use this WAL instead of opening one in the data directory (tests, embedding). The caller
     * keeps ownership: the runtime does not close it, but it writes checkpoints into it (record
     * types 101-103, each up to 256 KiB) and calls {@code retainFrom} after each, so the WAL may
     * delete what precedes; the WAL must hold nothing else.
     */
    public Builder wal(WriteAheadLog wal) {
      this.wal = wal;
      return this;
    }

    /** Coordinator addresses (host:port), tried in order; at least one. */
    public Builder coordinatorAddresses(List<String> addresses) {
      coordinatorAddresses.clear();
      coordinatorAddresses.addAll(addresses);
      return this;
    }

    public Builder resourceManager(ResourceManager resourceManager) {
      this.resourceManager = resourceManager;
      return this;
    }

    public Builder participantConfig(ParticipantConfig participantConfig) {
      this.participantConfig = participantConfig;
      return this;
    }

    /** How often the core's timers run (branch timeouts, inquiries, retries). */
    public Builder tickPeriodMillis(long tickPeriodMillis) {
      this.tickPeriodMillis = tickPeriodMillis;
      return this;
    }

    /** Deadline of every outbound call (enlist, inquiry, peer query). */
    public Builder rpcDeadlineMillis(long rpcDeadlineMillis) {
      this.rpcDeadlineMillis = rpcDeadlineMillis;
      return this;
    }

    /**
     * How long an inbound prepare/commit/abort waits for the core's answer before it fails with
     * UNAVAILABLE (the caller retries; every call is idempotent). Covers callers without a
     * deadline.
     */
    public Builder pendingReplyTimeoutMillis(long pendingReplyTimeoutMillis) {
      this.pendingReplyTimeoutMillis = pendingReplyTimeoutMillis;
      return this;
    }

    /** Tasks waiting for the core thread; beyond it inbound calls get UNAVAILABLE. */
    public Builder loopQueueCapacity(int loopQueueCapacity) {
      this.loopQueueCapacity = loopQueueCapacity;
      return this;
    }

    /** Threads calling the resource manager (it may block on disk or a database). */
    public Builder resourceThreads(int resourceThreads) {
      this.resourceThreads = resourceThreads;
      return this;
    }

    public Builder resourceQueueCapacity(int resourceQueueCapacity) {
      this.resourceQueueCapacity = resourceQueueCapacity;
      return this;
    }

    /** Inbound calls waiting for the core's answer at once; beyond it: UNAVAILABLE. */
    public Builder pendingRepliesMax(int pendingRepliesMax) {
      this.pendingRepliesMax = pendingRepliesMax;
      return this;
    }

    /**
     * Records appended between two checkpoints of the runtime's log; each checkpoint lets the WAL
     * delete the whole files before it (docs/participant.md).
     */
    public Builder checkpointEveryRecords(int checkpointEveryRecords) {
      this.checkpointEveryRecords = checkpointEveryRecords;
      return this;
    }

    /** The application's own gRPC services, served behind the enlisting interceptor. */
    public Builder addBusinessService(BindableService service) {
      businessServices.add(Objects.requireNonNull(service, "service"));
      return this;
    }

    Builder dialer(Dialer dialer) {
      this.dialer = dialer;
      return this;
    }

    /**
     * @throws IllegalArgumentException naming the first invalid field
     */
    public ParticipantOptions build() {
      try {
        new ParticipantRef(name, advertisedAddress == null ? "" : advertisedAddress);
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage());
      }
      require(
          advertisedAddress == null || isHostPort(advertisedAddress),
          "advertisedAddress must be host:port, was '" + advertisedAddress + "'");
      require(bindHost != null && !bindHost.isBlank(), "bindHost must be set");
      require(port >= 0 && port <= 65_535, "port must be in [0, 65535], was " + port);
      require(
          dataDirectory != null || wal != null, "dataDirectory must be set (or a wal supplied)");
      require(!coordinatorAddresses.isEmpty(), "coordinatorAddresses needs at least one address");
      for (String a : coordinatorAddresses) {
        require(
            a != null && (isHostPort(a) || dialer != null),
            "coordinator address must be host:port, was '" + a + "'");
      }
      require(resourceManager != null, "resourceManager must be set");
      require(participantConfig != null, "participantConfig must be set");
      require(
          !participantConfig.unsafe().any(),
          "participantConfig.unsafe holds simulator test switches; never set them here");
      require(tickPeriodMillis > 0, "tickPeriodMillis must be > 0, was " + tickPeriodMillis);
      require(rpcDeadlineMillis > 0, "rpcDeadlineMillis must be > 0, was " + rpcDeadlineMillis);
      require(
          pendingReplyTimeoutMillis > 0,
          "pendingReplyTimeoutMillis must be > 0, was " + pendingReplyTimeoutMillis);
      require(loopQueueCapacity > 0, "loopQueueCapacity must be > 0, was " + loopQueueCapacity);
      require(resourceThreads > 0, "resourceThreads must be > 0, was " + resourceThreads);
      require(
          resourceQueueCapacity > 0,
          "resourceQueueCapacity must be > 0, was " + resourceQueueCapacity);
      require(pendingRepliesMax > 0, "pendingRepliesMax must be > 0, was " + pendingRepliesMax);
      require(
          checkpointEveryRecords > 0,
          "checkpointEveryRecords must be > 0, was " + checkpointEveryRecords);
      return new ParticipantOptions(this);
    }

    private static boolean isHostPort(String address) {
      int colon = address.lastIndexOf(':');
      if (colon <= 0 || colon == address.length() - 1) {
        return false;
      }
      try {
        int p = Integer.parseInt(address.substring(colon + 1));
        return p > 0 && p <= 65_535;
      } catch (NumberFormatException e) {
        return false;
      }
    }

    private static void require(boolean ok, String message) {
      if (!ok) {
        throw invalid(message);
      }
    }

    private static IllegalArgumentException invalid(String message) {
      return new IllegalArgumentException("ParticipantOptions: " + message);
    }
  }
}
