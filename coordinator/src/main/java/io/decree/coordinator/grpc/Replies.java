package io.decree.coordinator.grpc;

import io.decree.core.coordinator.ClientReply;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;

/** Completes a gRPC call from the core's reply, mapping refusals to status codes. */
final class Replies {
  private Replies() {}

  /**
   * Completes {@code observer} with {@code onSuccess(reply)} when the reply is of the expected
   * type, or with the status code the refusal maps to.
   */
  static <R extends ClientReply, T> java.util.function.Consumer<ClientReply> to(
      StreamObserver<T> observer, Class<R> expected, Function<R, T> onSuccess) {
    return reply -> {
      if (expected.isInstance(reply)) {
        observer.onNext(onSuccess.apply(expected.cast(reply)));
        observer.onCompleted();
      } else if (reply instanceof ClientReply.Rejected rejected) {
        observer.onError(
            status(rejected.kind()).withDescription(rejected.message()).asRuntimeException());
      } else {
        observer.onError(
            Status.INTERNAL.withDescription("unexpected reply " + reply).asRuntimeException());
      }
    };
  }

  static Status status(ClientReply.Rejection kind) {
    return switch (kind) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> Status.UNAVAILABLE;
    };
  }

  /** Runs {@code submit}; a full or stopped core becomes UNAVAILABLE for the caller to retry. */
  static void guarded(StreamObserver<?> observer, Runnable submit) {
    try {
      submit.run();
    } catch (RejectedExecutionException e) {
      observer.onError(
          Status.UNAVAILABLE
              .withDescription("coordinator cannot take work now: " + e.getMessage())
              .asRuntimeException());
    } catch (io.grpc.StatusRuntimeException e) {
      observer.onError(e);
    }
  }
}
