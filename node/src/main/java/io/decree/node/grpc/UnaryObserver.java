package io.decree.node.grpc;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/** Adapts a unary call's observer to a future. */
public final class UnaryObserver {
  private UnaryObserver() {}

  /**
   * An observer that completes {@code future} with the answer once the call has ended (not when its
   * message arrived: the end brings the trailers, which callers' interceptors may need first), or
   * exceptionally with the call's error.
   */
  public static <T> StreamObserver<T> completing(CompletableFuture<T> future) {
    return new StreamObserver<>() {
      private T value;

      @Override
      public void onNext(T v) {
        value = v;
      }

      @Override
      public void onError(Throwable t) {
        future.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        future.complete(value);
      }
    };
  }
}
