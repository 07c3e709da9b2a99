package io.decree.participant;

import io.decree.core.Outcome;
import io.decree.node.grpc.Channels;
import io.decree.node.grpc.ProtoMapping;
import io.decree.node.grpc.TxIdHeader;
import io.decree.node.grpc.UnaryObserver;
import io.decree.proto.v1.BeginRequest;
import io.decree.proto.v1.BeginResponse;
import io.decree.proto.v1.CommitRequest;
import io.decree.proto.v1.RollbackRequest;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TxOutcome;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * For services that start global transactions: {@code begin}, do work in participant services under
 * the id ({@link #inTransaction}, with {@link DecreeContext#clientInterceptor()} on their stubs),
 * then {@code commit} or {@code rollback}.
 *
 * <pre>{@code
 * DecreeClient decree = DecreeClient.create(List.of("coord-1:7400", "coord-2:7400"));
 * DecreeClient.Transaction tx = decree.begin(Duration.ofSeconds(30));
 * decree.inTransaction(tx.txId(), () -> accounts.withdraw(...));  // stub with clientInterceptor()
 * DecreeClient.Result result = decree.commit(tx.txId());
 * }</pre>
 *
 * <p>Answers are definite ({@code COMMITTED}, {@code ABORTED}) only when the coordinator said so. A
 * lost connection or a deadline during commit or rollback gives {@code UNKNOWN} with the reason:
 * the decision may or may not have been made. Ask again with {@link #status}; every call is safe to
 * repeat by id. Addresses are tried in order; an UNAVAILABLE answer (down, not the leader) moves on
 * to the next one.
 *
 * <p>The calls to each coordinator travel on one long-lived stream ({@link CoordinatorSession}),
 * not a call each; a coordinator without it gets unary calls.
 */
public final class DecreeClient implements AutoCloseable {
  /** A begun transaction. */
  public record Transaction(String txId, long deadlineUnixMillis) {}

  /**
   * What the coordinator said about a transaction.
   *
   * @param reason why the outcome is UNKNOWN (or detail for a definite one); empty otherwise
   */
  public record Result(String txId, Outcome outcome, String reason) {}

  private static final int ABANDONED_SWEEP_ABOVE = 10_000;

  /**
   * How long after its deadline an abandoned transaction is still remembered. The coordinator has
   * aborted it by then; a late commit would be answered ABORTED either way.
   */
  private static final long ABANDONED_GRACE_MILLIS = 10 * 60_000;

  private final List<String> addresses;
  private final Function<String, Channel> dialer;
  private final Channels channels;
  private final long deadlineMillis;
  private final String clientName;
  private final AtomicInteger current = new AtomicInteger();

  /**
   * Transactions begun here, with the participants their calls named: the commit names them to the
   * coordinator (enlisting on the way back). Entries go with a definite answer, or long after the
   * deadline for a transaction its caller abandoned.
   */
  private final Map<String, JoinedParticipants> joined = new ConcurrentHashMap<>();

  private volatile long nextSweepMillis;

  /** Each coordinator's session stream, by address; opened on first use. */
  private final Map<String, CoordinatorSession> sessions = new ConcurrentHashMap<>();

  /** Fails requests on the session streams that outlive the deadline. */
  private final ScheduledExecutorService deadlines;

  private DecreeClient(
      List<String> addresses,
      Function<String, Channel> dialer,
      Channels channels,
      Duration deadline,
      String clientName) {
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("DecreeClient needs at least one coordinator address");
    }
    if (deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("DecreeClient deadline must be > 0, was " + deadline);
    }
    this.addresses = List.copyOf(addresses);
    this.dialer = dialer;
    this.channels = channels;
    this.deadlineMillis = deadline.toMillis();
    this.clientName = Objects.requireNonNull(clientName, "clientName");
    this.deadlines =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "decree-client-deadlines");
              t.setDaemon(true);
              return t;
            });
    // A deadline is kept to within a tenth of itself (at least 5 ms, at most 100 ms late).
    long sweepMillis = Math.max(5, Math.min(100, deadlineMillis / 10));
    deadlines.scheduleWithFixedDelay(
        () -> sessions.values().forEach(CoordinatorSession::expire),
        sweepMillis,
        sweepMillis,
        TimeUnit.MILLISECONDS);
  }

  /** A client with a 10 s deadline per call. */
  public static DecreeClient create(List<String> coordinatorAddresses) {
    return create(coordinatorAddresses, Duration.ofSeconds(10), "");
  }

  /**
   * @param deadline of each call to a coordinator; a commit that outlives it answers UNKNOWN
   * @param clientName shown to operators as who began the transactions
   */
  public static DecreeClient create(
      List<String> coordinatorAddresses, Duration deadline, String clientName) {
    Channels channels = new Channels();
    return new DecreeClient(coordinatorAddresses, channels::get, channels, deadline, clientName);
  }

  /** Tests: reach the coordinators through {@code dialer} (e.g. in-process channels). */
  static DecreeClient withDialer(
      List<String> coordinatorAddresses, Function<String, Channel> dialer, Duration deadline) {
    return new DecreeClient(coordinatorAddresses, dialer, null, deadline, "");
  }

  /**
   * Begins a transaction the coordinator aborts if it is not decided within {@code timeout}.
   *
   * @throws DecreeException when no coordinator accepted it
   */
  public Transaction begin(Duration timeout) {
    return begin(timeout, "");
  }

  /**
   * Like {@link #begin(Duration)}; the same {@code idempotencyKey} returns the same transaction, so
   * a begin whose answer was lost can be repeated safely.
   */
  public Transaction begin(Duration timeout, String idempotencyKey) {
    return join(beginAsync(timeout, idempotencyKey));
  }

  /** Commits and returns once the decision is durable (phase 2 may still be under way). */
  public Result commit(String txId) {
    return commit(txId, false);
  }

  /**
   * @param waitForPhaseTwo also wait until every participant acknowledged the decision
   * @throws IllegalStateException if a call under the transaction has not answered yet
   */
  public Result commit(String txId, boolean waitForPhaseTwo) {
    return join(commitAsync(txId, waitForPhaseTwo));
  }

  public Result rollback(String txId) {
    return join(rollbackAsync(txId));
  }

  public Result status(String txId) {
    return join(statusAsync(txId));
  }

  // ---------------------------------------------------------------- asynchronous

  /**
   * {@link #begin(Duration, String)} without a waiting thread. The future completes on a gRPC
   * transport thread: stages added to it must not block (use the {@code *Async} stages with an
   * executor of your own for work that does). Fails with {@link DecreeException}.
   */
  public CompletableFuture<Transaction> beginAsync(Duration timeout, String idempotencyKey) {
    return beginAsync(timeout, idempotencyKey, true);
  }

  /**
   * Begins a transaction that another process (or another client) may commit: its participants
   * enlist at the coordinator before their work, as with {@link DecreeContext#run}, instead of
   * being named by this client's commit. It costs a round trip per participant.
   */
  public Transaction beginShared(Duration timeout, String idempotencyKey) {
    return join(beginAsync(timeout, idempotencyKey, false));
  }

  private CompletableFuture<Transaction> beginAsync(
      Duration timeout, String idempotencyKey, boolean namedAtCommit) {
    BeginRequest request =
        BeginRequest.newBuilder()
            .setTimeoutMillis(timeout.toMillis())
            .setIdempotencyKey(idempotencyKey)
            .setClientName(clientName)
            .setParticipantsNamedAtCommit(namedAtCommit)
            .build();
    CompletableFuture<Transaction> began = new CompletableFuture<>();
    this.<BeginResponse>call((stub, observer) -> stub.begin(request, observer))
        .whenComplete(
            (response, error) -> {
              if (error != null) {
                Status status = Status.fromThrowable(error);
                began.completeExceptionally(
                    new DecreeException(
                        status.getCode(), "begin failed: " + describe(status), error));
                return;
              }
              if (namedAtCommit) {
                forgetAbandoned();
                joined.putIfAbsent(
                    response.getTxId(),
                    new JoinedParticipants(response.getTxId(), response.getDeadlineUnixMillis()));
              }
              began.complete(new Transaction(response.getTxId(), response.getDeadlineUnixMillis()));
            });
    return began;
  }

  /**
   * {@link #commit(String, boolean)} without a waiting thread; completes as {@link #beginAsync}
   * does. Fails with {@link IllegalStateException} if a call under the transaction has not answered
   * yet; every other failure is a result (UNKNOWN with the reason).
   */
  public CompletableFuture<Result> commitAsync(String txId, boolean waitForPhaseTwo) {
    JoinedParticipants j = joined.get(txId);
    CommitRequest.Builder request =
        CommitRequest.newBuilder().setTxId(txId).setWaitForPhaseTwo(waitForPhaseTwo);
    if (j != null) {
      int running = j.close();
      if (running > 0) {
        j.reopen();
        return CompletableFuture.failedFuture(
            new IllegalStateException(
                running
                    + " call(s) under transaction "
                    + txId
                    + " have not answered yet; wait for every answer before commit"));
      }
      List<String> unconfirmed = j.unconfirmed();
      if (!unconfirmed.isEmpty()) {
        // Work may have started where the commit could not name it: only an abort is safe.
        return rollbackAsync(txId)
            .thenApply(
                rolledBack ->
                    new Result(
                        txId,
                        rolledBack.outcome(),
                        "rolled back instead of committed: "
                            + unconfirmed.get(0)
                            + (rolledBack.reason().isEmpty() ? "" : "; " + rolledBack.reason())));
      }
      request.addAllParticipants(j.named()).setNamesParticipants(true);
    }
    CommitRequest built = request.build();
    return outcome(txId, "commit", (stub, observer) -> stub.commit(built, observer));
  }

  /** {@link #rollback} without a waiting thread; completes as {@link #beginAsync} does. */
  public CompletableFuture<Result> rollbackAsync(String txId) {
    JoinedParticipants j = joined.get(txId);
    RollbackRequest.Builder request = RollbackRequest.newBuilder().setTxId(txId);
    if (j != null) {
      j.close();
      request.addAllParticipants(j.named());
    }
    RollbackRequest built = request.build();
    return outcome(txId, "rollback", (stub, observer) -> stub.rollback(built, observer));
  }

  /** {@link #status} without a waiting thread; completes as {@link #beginAsync} does. */
  public CompletableFuture<Result> statusAsync(String txId) {
    StatusRequest request = StatusRequest.newBuilder().setTxId(txId).build();
    return outcome(txId, "status", (stub, observer) -> stub.getStatus(request, observer));
  }

  /**
   * Runs {@code work} with {@code txId} current: calls made by stubs with the interceptor join. For
   * a transaction begun by this client, each participant names itself in its answer and the commit
   * names them all to the coordinator, so no participant has to enlist before its work (one round
   * trip and one call fewer per participant). Wait for every call's answer before commit.
   */
  public void inTransaction(String txId, Runnable work) {
    JoinedParticipants j = joined.get(txId);
    if (j == null) {
      DecreeContext.run(txId, work);
    } else {
      Context.current()
          .withValue(TxIdHeader.CONTEXT, txId)
          .withValue(JoinedParticipants.CONTEXT, j)
          .run(work);
    }
  }

  /** Transactions begun but never committed nor rolled back, long past their deadline. */
  private void forgetAbandoned() {
    long now = System.currentTimeMillis();
    if (joined.size() > ABANDONED_SWEEP_ABOVE && now >= nextSweepMillis) {
      nextSweepMillis = now + 1_000; // a scan of the map, at most once a second
      long before = now - ABANDONED_GRACE_MILLIS;
      joined.values().removeIf(j -> j.deadlineUnixMillis() < before);
    }
  }

  /** The interceptor to put on participant service stubs; see {@link DecreeContext}. */
  public io.grpc.ClientInterceptor interceptor() {
    return DecreeContext.clientInterceptor();
  }

  /**
   * The coordinator's answer as a result; a failed call is UNKNOWN with the reason (never a guessed
   * outcome: the decision may have been made), except INVALID_ARGUMENT, which fails the future with
   * a {@link DecreeException}. A definite answer ends what this client tracks for the transaction.
   */
  private CompletableFuture<Result> outcome(
      String txId, String what, BiConsumer<CoordinatorCalls, StreamObserver<TxOutcome>> rpc) {
    CompletableFuture<Result> result = new CompletableFuture<>();
    call(rpc)
        .whenComplete(
            (o, error) -> {
              if (error == null) {
                Result r = new Result(txId, ProtoMapping.outcome(o.getOutcome()), o.getReason());
                if (r.outcome().definite()) {
                  joined.remove(txId);
                }
                result.complete(r);
                return;
              }
              Status status = Status.fromThrowable(error);
              if (status.getCode() == Status.Code.INVALID_ARGUMENT) {
                result.completeExceptionally(
                    new DecreeException(
                        Status.Code.INVALID_ARGUMENT,
                        what + " refused: " + describe(status),
                        error));
              } else {
                result.complete(
                    new Result(
                        txId,
                        Outcome.UNKNOWN,
                        what + " did not get an answer: " + describe(status)));
              }
            });
    return result;
  }

  /**
   * One attempt per address, starting at the last one that answered, while they are UNAVAILABLE.
   * Fails with the last {@link StatusRuntimeException}.
   */
  private <T> CompletableFuture<T> call(BiConsumer<CoordinatorCalls, StreamObserver<T>> rpc) {
    CompletableFuture<T> result = new CompletableFuture<>();
    attempt(rpc, 0, result);
    return result;
  }

  private <T> void attempt(
      BiConsumer<CoordinatorCalls, StreamObserver<T>> rpc,
      int attempt,
      CompletableFuture<T> result) {
    int index = current.get();
    String address = addresses.get(Math.floorMod(index, addresses.size()));
    CompletableFuture<T> answer = new CompletableFuture<>();
    try {
      // Under the root context: the caller's cancellation must not cut a commit short (that would
      // turn its answer into UNKNOWN), and the answer's callbacks must not run in the caller's
      // context, or a client that begins its next transaction there nests one context per
      // transaction (gRPC warns at a depth of 1,000).
      Context.ROOT.run(() -> rpc.accept(session(address), UnaryObserver.completing(answer)));
    } catch (RuntimeException e) {
      // E.g. an address the channel builder refuses: fail this call, never leave it pending.
      result.completeExceptionally(
          Status.INTERNAL
              .withDescription("calling " + address + " failed: " + e)
              .withCause(e)
              .asRuntimeException());
      return;
    }
    answer.whenComplete(
        (value, error) -> {
          if (error == null) {
            result.complete(value);
            return;
          }
          StatusRuntimeException e = Status.fromThrowable(error).asRuntimeException();
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
              || attempt + 1 >= addresses.size()) {
            result.completeExceptionally(e);
            return;
          }
          current.compareAndSet(index, index + 1);
          attempt(rpc, attempt + 1, result);
        });
  }

  private CoordinatorSession session(String address) {
    return sessions.computeIfAbsent(
        address, a -> new CoordinatorSession(dialer.apply(a), deadlineMillis));
  }

  /** Waits for a future of this client and rethrows what it failed with, as it was thrown. */
  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  private static String describe(Status status) {
    return status.getCode()
        + (status.getDescription() == null ? "" : ": " + status.getDescription());
  }

  @Override
  public void close() {
    deadlines.shutdownNow();
    sessions.values().forEach(CoordinatorSession::close);
    if (channels != null) {
      channels.close();
    }
  }
}
