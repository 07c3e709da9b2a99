package io.decree.examples.bank;

import io.decree.participant.DecreeContext;
import io.decree.participant.kv.KvException;
import io.decree.participant.kv.KvNotRecoveredException;
import io.decree.participant.kv.KvStore;
import io.decree.participant.kv.LockTimeoutException;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.AdjustRequest;
import io.decree.proto.examples.bank.v1.AdjustResponse;
import io.decree.proto.examples.bank.v1.ReadRequest;
import io.decree.proto.examples.bank.v1.ReadResponse;
import io.decree.proto.examples.bank.v1.WriteRequest;
import io.decree.proto.examples.bank.v1.WriteResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The business side of an account service: plain gRPC handlers that work on the key-value store
 * under the current global transaction. The participant runtime's interceptor has already enlisted
 * this service when a handler runs; committing or aborting is the coordinator's business.
 */
public final class AccountService extends AccountsGrpc.AccountsImplBase {
  private final KvStore store;

  public AccountService(KvStore store) {
    this.store = store;
  }

  @Override
  public void adjust(AdjustRequest request, StreamObserver<AdjustResponse> observer) {
    respond(
        observer,
        () -> {
          String tx = requireTransaction("Adjust");
          if (request.getAccount().isEmpty()) {
            throw Status.INVALID_ARGUMENT
                .withDescription("account is required")
                .asRuntimeException();
          }
          long balance = store.getForUpdate(tx, request.getAccount());
          long next = Math.addExact(balance, request.getAmount());
          if (next < 0) {
            throw Status.FAILED_PRECONDITION
                .withDescription(
                    "insufficient funds in " + request.getAccount() + ": " + balance + " available")
                .asRuntimeException();
          }
          store.put(tx, request.getAccount(), next);
          return AdjustResponse.newBuilder().setBalance(next).build();
        });
  }

  @Override
  public void write(WriteRequest request, StreamObserver<WriteResponse> observer) {
    respond(
        observer,
        () -> {
          String tx = requireTransaction("Write");
          // Sorted, so two writers of the same keys lock them in the same order.
          new TreeMap<>(request.getValuesMap()).forEach((k, v) -> store.put(tx, k, v));
          return WriteResponse.getDefaultInstance();
        });
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> observer) {
    respond(
        observer,
        () -> {
          var tx = DecreeContext.currentTxId();
          Map<String, Long> balances;
          if (tx.isPresent()) {
            List<String> keys =
                request.getAccountsCount() == 0
                    ? List.copyOf(store.readCommittedAll().keySet())
                    : request.getAccountsList();
            balances = store.getAll(tx.get(), keys);
          } else {
            balances = new TreeMap<>(store.readCommittedAll());
            if (request.getAccountsCount() > 0) {
              balances.keySet().retainAll(request.getAccountsList());
            }
          }
          return ReadResponse.newBuilder().putAllBalances(balances).build();
        });
  }

  private static String requireTransaction(String call) {
    return DecreeContext.currentTxId()
        .orElseThrow(
            () ->
                Status.FAILED_PRECONDITION
                    .withDescription(call + " must run inside a global transaction (decree-tx-id)")
                    .asRuntimeException());
  }

  /** Maps store failures to status codes a client can act on. */
  private static <T> void respond(StreamObserver<T> observer, Supplier<T> work) {
    try {
      observer.onNext(work.get());
      observer.onCompleted();
    } catch (StatusRuntimeException e) {
      observer.onError(e);
    } catch (LockTimeoutException e) {
      observer.onError(Status.ABORTED.withDescription(e.getMessage()).asRuntimeException());
    } catch (KvNotRecoveredException e) {
      observer.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
    } catch (KvException | ArithmeticException e) {
      observer.onError(
          Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
    }
  }
}
