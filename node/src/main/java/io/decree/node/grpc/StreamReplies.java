package io.decree.node.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * The reply side of a server stream that many threads answer on (the core's loop, transport
 * threads): one writer at a time, and nothing written once the call has ended. A reply that finds
 * the call gone is dropped: the caller asks again on a new stream (every call is idempotent by id).
 */
public final class StreamReplies<T> {
  private final ServerCallStreamObserver<T> replies;
  private volatile boolean ended;

  /**
   * @param onCancel run when the caller cancels the stream (after which nothing is written)
   */
  public StreamReplies(ServerCallStreamObserver<T> replies, Runnable onCancel) {
    this.replies = replies;
    replies.setOnCancelHandler(
        () -> {
          ended = true;
          onCancel.run();
        });
  }

  public void send(T reply) {
    synchronized (replies) {
      if (ended || replies.isCancelled()) {
        return;
      }
      try {
        replies.onNext(reply);
      } catch (IllegalStateException | StatusRuntimeException cancelledMeanwhile) {
        // The caller left between the check and the write.
      }
    }
  }

  /** The caller's side failed: write nothing more. */
  public void end() {
    ended = true;
  }

  /** The caller finished its side: so does this one (what is still to come is dropped). */
  public void complete() {
    synchronized (replies) {
      ended = true;
      try {
        replies.onCompleted();
      } catch (IllegalStateException | StatusRuntimeException alreadyClosed) {
        // nothing to close
      }
    }
  }
}
