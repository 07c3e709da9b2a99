package io.decree.participant;

import io.decree.core.ParticipantRef;
import io.decree.core.participant.BranchView;
import io.decree.node.grpc.Channels;
import io.decree.node.grpc.GrpcServer;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.wal.ChronicleWal;
import io.decree.wal.WalConfig;
import io.decree.wal.WriteAheadLog;
import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A participant: the {@code Participant} and {@code ParticipantAdmin} services, the application's
 * business services behind the enlisting interceptor, its write-ahead log, and the resource
 * manager, driven by one {@link io.decree.core.participant.ParticipantCore}.
 *
 * <p>{@link #start()} replays the WAL and recovers before it answers any protocol call: branches
 * the log holds prepared without a decision are in doubt; the runtime asks the coordinator (then
 * the peers) until it learns the decision, and reports them as blocked meanwhile ({@link
 * #branches()}, {@code ParticipantAdmin.ListBranches}). See docs/participant.md.
 */
public final class ParticipantRuntime implements AutoCloseable {
  private final ParticipantOptions options;
  private Channels channels;
  private WriteAheadLog wal;
  private boolean ownsWal;
  private ParticipantDriver driver;
  private GrpcServer server;
  private ParticipantRef self;

  public ParticipantRuntime(ParticipantOptions options) {
    this.options = options;
  }

  /**
   * Opens the WAL, listens, recovers, then serves. The port is bound before recovery so that the
   * advertised address is known; protocol calls that arrive meanwhile get UNAVAILABLE.
   *
   * @throws IllegalStateException when already started, or the log or resource cannot recover
   * @throws java.io.UncheckedIOException when the port cannot be bound
   */
  public synchronized ParticipantRuntime start() {
    if (driver != null) {
      throw new IllegalStateException("participant " + options.name() + " already started");
    }
    try {
      ParticipantOptions.Dialer dialer = options.dialer();
      if (dialer == null) {
        channels = new Channels();
        dialer = channels::get;
      }
      if (options.wal() != null) {
        wal = options.wal();
      } else {
        wal =
            ChronicleWal.open(
                WalConfig.builder()
                    .directory(options.dataDirectory().resolve("wal"))
                    .build()
                    .validate());
        ownsWal = true;
      }
      driver =
          new ParticipantDriver(
              options,
              wal,
              new OutboundPublisher(
                  options.coordinatorAddresses(), dialer, options.rpcDeadlineMillis()));
      List<BindableService> protocol =
          List.of(new ParticipantServiceAdapter(driver), new ParticipantAdminAdapter(driver));
      ServerInterceptor enlisting = new EnlistingServerInterceptor(driver);
      List<BindableService> services = new ArrayList<>(protocol);
      for (BindableService business : options.businessServices()) {
        ServerServiceDefinition intercepted =
            ServerInterceptors.intercept(business.bindService(), enlisting);
        services.add(() -> intercepted);
      }
      // The protocol service parks calls and runs the core with them, on the transport thread
      // (briefly: it may wait for room in the WAL's queue). Business services and the admin view
      // may block for long: worker threads.
      server =
          GrpcServer.start(
              options.bindHost(),
              options.port(),
              services,
              List.of(),
              Set.of(ParticipantGrpc.SERVICE_NAME));
      String address =
          options.advertisedAddress() != null
              ? options.advertisedAddress()
              : options.bindHost() + ":" + server.port();
      self = new ParticipantRef(options.name(), address);
      driver.recover(self);
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** The bound port (useful with port 0). */
  public int port() {
    requireStarted();
    return server.port();
  }

  /** This participant as the coordinator and its peers know it. */
  public String address() {
    requireStarted();
    return self.address();
  }

  /** Every branch this participant remembers, with the blocking report of those in doubt. */
  public List<BranchView> branches() {
    requireStarted();
    return driver.branches();
  }

  /** The error that stopped the protocol core, if a broken invariant did. */
  public Throwable fatalError() {
    return driver == null ? null : driver.fatalError();
  }

  private void requireStarted() {
    if (driver == null || server == null || self == null) {
      throw new IllegalStateException("participant " + options.name() + " is not started");
    }
  }

  /** Stops serving, then the core and resource calls, then closes the WAL (when it owns it). */
  @Override
  public synchronized void close() {
    if (server != null) {
      server.close();
      server = null;
    }
    if (driver != null) {
      driver.close();
    }
    if (channels != null) {
      channels.close();
      channels = null;
    }
    if (wal != null && ownsWal) {
      wal.close();
    }
    wal = null;
  }
}
