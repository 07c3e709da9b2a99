package io.decree.cluster;

import io.decree.cluster.ClusterUnavailableException.Reason;
import io.decree.coordinator.log.DecisionState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Group commit for the replicated log: records that arrive while a Raft entry is in flight wait,
 * and the next entry carries all of them (up to a count and a byte limit). Under load many records
 * share one Raft round and one fsync per replica; when idle a record goes out alone at once.
 *
 * <p>Every record has its own deadline from the moment it is submitted. Whatever happens to the
 * Raft request (a lost leader, a partition, Ratis retrying), the record's future completes by then:
 * with the state machine's result, or with a {@link ClusterUnavailableException}.
 *
 * <p>{@link #lock} guards the queue and the in-flight accounting; futures are completed outside it.
 */
final class GroupCommitter implements AutoCloseable {

  /** Sends one encoded batch as one Raft entry; completes with the state machine's reply bytes. */
  @FunctionalInterface
  interface Sender {
    CompletableFuture<byte[]> send(byte[] entry);
  }

  /**
   * Raft requests still outstanding (including ones whose records already timed out but which Ratis
   * is still retrying). Past this many, new batches wait: the Ratis client would block the caller.
   */
  static final int OUTSTANDING_MAX = 8;

  private record Pending(
      long term, Commands.Encoded record, CompletableFuture<DecisionState.Result> result) {}

  private final Sender sender;
  private final int batchRecordsMax;
  private final int batchBytesMax;
  private final int queuedRecordsMax;
  private final long appendTimeoutMillis;
  private final ScheduledExecutorService timer;

  private final Object lock = new Object();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean sending;
  private int outstanding;
  private boolean closed;
  private long batchesSent;
  private long recordsSent;

  GroupCommitter(
      Sender sender,
      int batchRecordsMax,
      int batchBytesMax,
      int queuedRecordsMax,
      long appendTimeoutMillis,
      ScheduledExecutorService timer) {
    this.sender = sender;
    this.batchRecordsMax = Math.min(batchRecordsMax, Commands.BATCH_RECORDS_MAX);
    this.batchBytesMax = batchBytesMax;
    this.queuedRecordsMax = queuedRecordsMax;
    this.appendTimeoutMillis = appendTimeoutMillis;
    this.timer = timer;
  }

  /**
   * Queues one record for the next entry, tagged with the leader term it is appended in.
   *
   * @return completes with the state machine's result, or exceptionally within the append deadline
   */
  CompletableFuture<DecisionState.Result> submit(long term, Commands.Encoded record) {
    CompletableFuture<DecisionState.Result> result = new CompletableFuture<>();
    if (record.payload().length > Commands.RECORD_BYTES_MAX) {
      result.completeExceptionally(
          new IllegalArgumentException("record of " + record.payload().length + " bytes"));
      return result;
    }
    synchronized (lock) {
      if (closed) {
        result.completeExceptionally(
            new ClusterUnavailableException(Reason.CLOSED, "the decision log is closed"));
        return result;
      }
      if (queue.size() >= queuedRecordsMax) {
        result.completeExceptionally(
            new ClusterUnavailableException(
                Reason.OVERLOADED, queue.size() + " records already wait for the log"));
        return result;
      }
      queue.addLast(new Pending(term, record, result));
    }
    ScheduledFuture<?> deadline =
        timer.schedule(
            () ->
                result.completeExceptionally(
                    new ClusterUnavailableException(
                        Reason.NO_QUORUM,
                        "not acknowledged by a majority within "
                            + appendTimeoutMillis
                            + " ms; the record may or may not be durable")),
            appendTimeoutMillis,
            TimeUnit.MILLISECONDS);
    result.whenComplete((r, e) -> deadline.cancel(false));
    sendNext();
    return result;
  }

  /** Fails every queued record (not the in-flight ones): leadership ended, they must not go out. */
  void failQueued(ClusterUnavailableException error) {
    List<Pending> dropped;
    synchronized (lock) {
      dropped = new ArrayList<>(queue);
      queue.clear();
    }
    dropped.forEach(p -> p.result.completeExceptionally(error));
  }

  long batchesSent() {
    synchronized (lock) {
      return batchesSent;
    }
  }

  long recordsSent() {
    synchronized (lock) {
      return recordsSent;
    }
  }

  private void sendNext() {
    List<Pending> batch = new ArrayList<>();
    long term;
    synchronized (lock) {
      if (sending || closed || outstanding >= OUTSTANDING_MAX) {
        return;
      }
      // Records whose deadline passed while queued are done; drop them from the head.
      while (!queue.isEmpty() && queue.peekFirst().result.isDone()) {
        queue.pollFirst();
      }
      if (queue.isEmpty()) {
        return;
      }
      term = queue.peekFirst().term;
      int bytes = 0;
      while (!queue.isEmpty() && batch.size() < batchRecordsMax) {
        Pending next = queue.peekFirst();
        if (next.term != term || (!batch.isEmpty() && bytes + next.record.size() > batchBytesMax)) {
          break;
        }
        queue.pollFirst();
        if (!next.result.isDone()) {
          batch.add(next);
          bytes += next.record.size();
        }
      }
      if (batch.isEmpty()) {
        return;
      }
      sending = true;
      outstanding++;
      batchesSent++;
      recordsSent += batch.size();
    }
    List<Commands.Encoded> records = new ArrayList<>(batch.size());
    batch.forEach(p -> records.add(p.record));
    CompletableFuture<byte[]> sent;
    try {
      sent = sender.send(Commands.encodeBatch(term, records));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    // The next batch may go once this one is answered, or once every record in it has given up
    // (its deadline passed): a Raft request stuck in retries must not stall the records behind it.
    CompletableFuture<?> allDone =
        CompletableFuture.allOf(
            batch.stream().map(Pending::result).toArray(CompletableFuture[]::new));
    CompletableFuture.anyOf(sent, allDone)
        .whenComplete(
            (ignored, error) -> {
              synchronized (lock) {
                sending = false;
              }
              sendNext();
            });
    sent.whenComplete(
        (reply, error) -> {
          synchronized (lock) {
            outstanding--;
          }
          complete(term, batch, reply, error);
          sendNext();
        });
  }

  private static void complete(long term, List<Pending> batch, byte[] reply, Throwable error) {
    if (error != null) {
      Throwable cause =
          error instanceof CompletionException && error.getCause() != null
              ? error.getCause()
              : error;
      ClusterUnavailableException failure =
          cause instanceof ClusterUnavailableException c
              ? c
              : new ClusterUnavailableException(
                  Reason.NO_QUORUM,
                  "the append failed ("
                      + cause.getClass().getSimpleName()
                      + ": "
                      + cause.getMessage()
                      + "); the record may or may not be durable",
                  cause);
      batch.forEach(p -> p.result.completeExceptionally(failure));
      return;
    }
    Commands.BatchReply decoded;
    try {
      decoded = Commands.decodeBatchReply(reply);
    } catch (IllegalArgumentException e) {
      batch.forEach(p -> p.result.completeExceptionally(e));
      return;
    }
    if (decoded.status() == Commands.BatchStatus.STALE_TERM) {
      ClusterUnavailableException stale =
          new ClusterUnavailableException(
              Reason.LEADERSHIP_CHANGED,
              "records sent while leading term "
                  + term
                  + " reached the log in term "
                  + decoded.entryTerm()
                  + " and were not applied");
      batch.forEach(p -> p.result.completeExceptionally(stale));
      return;
    }
    if (decoded.results().size() != batch.size()) {
      IllegalStateException bad =
          new IllegalStateException(
              "batch of " + batch.size() + " got " + decoded.results().size() + " results");
      batch.forEach(p -> p.result.completeExceptionally(bad));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).result.complete(decoded.results().get(i));
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
    }
    failQueued(new ClusterUnavailableException(Reason.CLOSED, "the decision log is closing"));
  }
}
