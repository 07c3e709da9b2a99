package io.decree.participant;

import io.decree.core.Backoff;
import io.decree.core.Outcome;
import io.decree.core.TxId;
import io.decree.core.participant.ParticipantConfig;
import io.decree.core.participant.ParticipantConfig.Unsafe;
import io.decree.node.grpc.Channels;
import io.decree.participant.spi.ResourceException;
import io.decree.participant.spi.ResourceManager;
import io.decree.proto.v1.BeginRequest;
import io.decree.proto.v1.BeginResponse;
import io.decree.proto.v1.CommitRequest;
import io.decree.proto.v1.CoordinatorGrpc;
import io.decree.proto.v1.EnlistRequest;
import io.decree.proto.v1.EnlistResponse;
import io.decree.proto.v1.InquiryRequest;
import io.decree.proto.v1.OutcomeQuery;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.ProtocolError;
import io.decree.proto.v1.RollbackRequest;
import io.decree.proto.v1.SessionReply;
import io.decree.proto.v1.SessionRequest;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TxOutcome;
import io.grpc.BindableService;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/** Fakes at the I/O seams of the participant runtime, shared by its tests. */
final class Fixtures {
  private Fixtures() {}

  private static final AtomicLong SEQUENCE = new AtomicLong();

  static String newTxId() {
    return new TxId(System.currentTimeMillis(), 7, SEQUENCE.incrementAndGet()).toString();
  }

  /** Fast timers so in-doubt branches ask within tens of milliseconds. */
  static ParticipantConfig fastConfig() {
    return new ParticipantConfig(
        10_000, 30_000, 30, new Backoff(20, 100), 1, 600_000, 100_000, Unsafe.NONE);
  }

  /** Bounded wait for something other threads make true; fails with {@code what} on timeout. */
  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what, e);
      }
    }
  }

  // ---------------------------------------------------------------- fake coordinator

  /** A Coordinator service the test controls; records what participants asked. */
  static final class FakeCoordinator extends CoordinatorGrpc.CoordinatorImplBase {
    final List<String> enlisted = new CopyOnWriteArrayList<>();

    /** Participants named by commits and rollbacks: "commit tx/name=address". */
    final List<String> named = new CopyOnWriteArrayList<>();

    final AtomicInteger inquiries = new AtomicInteger();
    final AtomicReference<Outcome> inquiryAnswer = new AtomicReference<>(Outcome.UNKNOWN);
    final AtomicReference<Status> enlistFailure = new AtomicReference<>();
    volatile boolean unreachable;
    volatile boolean commitHangs;
    final AtomicInteger begins = new AtomicInteger();

    /** Off: the Session stream is UNIMPLEMENTED, as on a coordinator that predates it. */
    volatile boolean sessionSupported = true;

    /** The next commit on a Session stream ends that stream with UNAVAILABLE instead. */
    volatile boolean breakSessionAtCommit;

    final AtomicInteger sessionsOpened = new AtomicInteger();
    final AtomicInteger sessionRequests = new AtomicInteger();

    /** Each request goes to the unary handler; its answer comes back under the request's id. */
    @Override
    public StreamObserver<SessionRequest> session(StreamObserver<SessionReply> replies) {
      if (!sessionSupported) {
        return super.session(replies);
      }
      sessionsOpened.incrementAndGet();
      return new StreamObserver<>() {
        @Override
        public void onNext(SessionRequest request) {
          sessionRequests.incrementAndGet();
          long id = request.getId();
          switch (request.getCallCase()) {
            case BEGIN ->
                begin(request.getBegin(), answer(replies, id, SessionReply.Builder::setBegan));
            case COMMIT -> {
              if (breakSessionAtCommit) {
                breakSessionAtCommit = false;
                synchronized (replies) {
                  replies.onError(
                      Status.UNAVAILABLE
                          .withDescription("fake: stream broken")
                          .asRuntimeException());
                }
                return;
              }
              commit(request.getCommit(), answer(replies, id, SessionReply.Builder::setOutcome));
            }
            case ROLLBACK ->
                rollback(
                    request.getRollback(), answer(replies, id, SessionReply.Builder::setOutcome));
            case STATUS ->
                getStatus(
                    request.getStatus(), answer(replies, id, SessionReply.Builder::setOutcome));
            case CALL_NOT_SET -> throw new AssertionError("empty request");
          }
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          synchronized (replies) {
            replies.onCompleted();
          }
        }
      };
    }

    private static <T> StreamObserver<T> answer(
        StreamObserver<SessionReply> replies, long id, BiConsumer<SessionReply.Builder, T> set) {
      return new StreamObserver<>() {
        @Override
        public void onNext(T value) {
          SessionReply.Builder reply = SessionReply.newBuilder().setId(id);
          set.accept(reply, value);
          synchronized (replies) {
            replies.onNext(reply.build());
          }
        }

        @Override
        public void onError(Throwable t) {
          Status status = Status.fromThrowable(t);
          synchronized (replies) {
            replies.onNext(
                SessionReply.newBuilder()
                    .setId(id)
                    .setError(
                        ProtocolError.newBuilder()
                            .setCode(status.getCode().value())
                            .setDescription(String.valueOf(status.getDescription())))
                    .build());
          }
        }

        @Override
        public void onCompleted() {}
      };
    }

    @Override
    public void enlist(EnlistRequest request, StreamObserver<EnlistResponse> observer) {
      Status failure = enlistFailure.get();
      if (failure != null) {
        observer.onError(failure.asRuntimeException());
        return;
      }
      enlisted.add(request.getTxId() + "/" + request.getParticipant().getName());
      observer.onNext(EnlistResponse.getDefaultInstance());
      observer.onCompleted();
    }

    @Override
    public void inquire(InquiryRequest request, StreamObserver<TxOutcome> observer) {
      inquiries.incrementAndGet();
      if (unreachable) {
        observer.onError(Status.UNAVAILABLE.withDescription("fake: down").asRuntimeException());
        return;
      }
      Outcome o = inquiryAnswer.get();
      observer.onNext(outcome(request.getTxId(), o, o == Outcome.UNKNOWN ? "undecided" : ""));
      observer.onCompleted();
    }

    @Override
    public void begin(BeginRequest request, StreamObserver<BeginResponse> observer) {
      begins.incrementAndGet();
      if (unreachable) {
        observer.onError(Status.UNAVAILABLE.withDescription("fake: down").asRuntimeException());
        return;
      }
      observer.onNext(
          BeginResponse.newBuilder()
              .setTxId(newTxId())
              .setDeadlineUnixMillis(System.currentTimeMillis() + request.getTimeoutMillis())
              .build());
      observer.onCompleted();
    }

    @Override
    public void commit(CommitRequest request, StreamObserver<TxOutcome> observer) {
      request
          .getParticipantsList()
          .forEach(
              p ->
                  named.add(
                      "commit " + request.getTxId() + "/" + p.getName() + "=" + p.getAddress()));
      if (unreachable) {
        observer.onError(Status.UNAVAILABLE.withDescription("fake: down").asRuntimeException());
      } else if (!commitHangs) {
        observer.onNext(outcome(request.getTxId(), Outcome.COMMITTED, ""));
        observer.onCompleted();
      } // else: never answers, the client's deadline passes
    }

    @Override
    public void rollback(RollbackRequest request, StreamObserver<TxOutcome> observer) {
      request
          .getParticipantsList()
          .forEach(
              p ->
                  named.add(
                      "rollback " + request.getTxId() + "/" + p.getName() + "=" + p.getAddress()));
      observer.onNext(outcome(request.getTxId(), Outcome.ABORTED, ""));
      observer.onCompleted();
    }

    @Override
    public void getStatus(StatusRequest request, StreamObserver<TxOutcome> observer) {
      observer.onNext(outcome(request.getTxId(), Outcome.UNKNOWN, "fake: forgotten"));
      observer.onCompleted();
    }
  }

  /** A peer's Participant service that only answers QueryOutcome. */
  static final class FakePeer extends ParticipantGrpc.ParticipantImplBase {
    final AtomicReference<Outcome> answer = new AtomicReference<>(Outcome.UNKNOWN);
    final AtomicInteger queries = new AtomicInteger();

    @Override
    public void queryOutcome(OutcomeQuery request, StreamObserver<TxOutcome> observer) {
      queries.incrementAndGet();
      observer.onNext(outcome(request.getTxId(), answer.get(), ""));
      observer.onCompleted();
    }
  }

  static TxOutcome outcome(String txId, Outcome o, String reason) {
    return TxOutcome.newBuilder()
        .setTxId(txId)
        .setOutcome(io.decree.node.grpc.ProtoMapping.toProto(o))
        .setReason(reason)
        .build();
  }

  // ---------------------------------------------------------------- test resource

  /** A resource that remembers what it was asked; work is marked by the business service. */
  static final class TestResource implements ResourceManager {
    final Set<String> worked = ConcurrentHashMap.newKeySet();
    final Map<String, String> applied = new ConcurrentHashMap<>();
    final List<PreparedBranch> recovered = new CopyOnWriteArrayList<>();
    final List<String> heldPrepared = new CopyOnWriteArrayList<>();
    final AtomicInteger prepares = new AtomicInteger();
    volatile Vote vote = Vote.YES;

    @Override
    public String name() {
      return "test-rm";
    }

    @Override
    public PrepareResult prepare(String txId) {
      prepares.incrementAndGet();
      if (!worked.contains(txId)) {
        return PrepareResult.no("no work under " + txId);
      }
      return switch (vote) {
        case YES -> PrepareResult.yes(("data-" + txId).getBytes(StandardCharsets.UTF_8));
        case READ_ONLY -> PrepareResult.readOnly();
        case NO -> PrepareResult.no("test says no");
      };
    }

    @Override
    public void commit(String txId, byte[] branchData) {
      applied.put(txId, "COMMIT:" + new String(branchData, StandardCharsets.UTF_8));
    }

    @Override
    public void rollback(String txId, byte[] branchData) {
      applied.put(txId, "ROLLBACK");
    }

    @Override
    public List<String> recover(List<PreparedBranch> preparedInLog) throws ResourceException {
      recovered.addAll(preparedInLog);
      List<String> held = new ArrayList<>(heldPrepared);
      preparedInLog.forEach(p -> held.add(p.txId()));
      return held;
    }
  }

  // ---------------------------------------------------------------- business service

  static final MethodDescriptor<String, String> WORK =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Business/Work")
          .setRequestMarshaller(new StringMarshaller())
          .setResponseMarshaller(new StringMarshaller())
          .build();

  /**
   * The application's service: records the transaction id it ran under and how many enlistments the
   * coordinator had seen when it ran, and marks work in the resource.
   */
  static final class BusinessService implements BindableService {
    final List<String> seen = new CopyOnWriteArrayList<>();

    /** A request "hold" waits for this before it answers. */
    final java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);

    private final TestResource resource;
    private final FakeCoordinator coordinator;

    BusinessService(TestResource resource, FakeCoordinator coordinator) {
      this.resource = resource;
      this.coordinator = coordinator;
    }

    @Override
    public ServerServiceDefinition bindService() {
      return ServerServiceDefinition.builder("test.Business")
          .addMethod(
              WORK,
              ServerCalls.asyncUnaryCall(
                  (String request, StreamObserver<String> observer) -> {
                    String tx = DecreeContext.currentTxId().orElse("none");
                    seen.add(tx + " enlisted=" + coordinator.enlisted.size());
                    if (!tx.equals("none")) {
                      resource.worked.add(tx);
                    }
                    if (request.equals("hold")) {
                      try {
                        held.await(5, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }
                    if (request.equals("refuse")) {
                      observer.onError(
                          Status.FAILED_PRECONDITION
                              .withDescription("business rule says no")
                              .asRuntimeException());
                      return;
                    }
                    observer.onNext("done " + request);
                    observer.onCompleted();
                  }))
          .build();
    }
  }

  static final class StringMarshaller implements MethodDescriptor.Marshaller<String> {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  // ---------------------------------------------------------------- in-process plumbing

  /** In-process servers by address, and Netty for every other address. */
  static final class Network implements AutoCloseable {
    private final Map<String, ManagedChannel> inProcess = new ConcurrentHashMap<>();
    private final List<Server> servers = new CopyOnWriteArrayList<>();
    private final Channels netty = new Channels();

    /** Serves {@code service} in-process under {@code address} (any host:port-like text). */
    void serve(String address, BindableService service) {
      try {
        servers.add(InProcessServerBuilder.forName(address).addService(service).build().start());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      inProcess.put(address, InProcessChannelBuilder.forName(address).build());
    }

    Channel dial(String address) {
      ManagedChannel channel = inProcess.get(address);
      return channel != null ? channel : netty.get(address);
    }

    @Override
    public void close() {
      inProcess.values().forEach(ManagedChannel::shutdownNow);
      servers.forEach(Server::shutdownNow);
      netty.close();
    }
  }
}
